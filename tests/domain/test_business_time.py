"""Business-hours arithmetic: weekends, holidays, DST, parsing, and a round-trip property."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadms_tui.domain.business_time import BusinessCalendar, parse_holiday_region

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
LON = BusinessCalendar(timezone="Europe/London")
NYC = BusinessCalendar(timezone="America/New_York")
XMAS = BusinessCalendar(
    timezone="Europe/London", holidays=frozenset({date(2026, 12, 25), date(2026, 12, 28)})
)
EVERY_DAY = frozenset(range(7))


def lon(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)


def nyc(*args: int) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK)


def assert_local(result: datetime, zone: ZoneInfo, expected: datetime, offset_hours: int) -> None:
    """`result` is UTC, shows `expected` wall-clock in `zone`, at the given real UTC offset."""
    assert result.tzinfo is UTC
    local = result.astimezone(zone)
    assert local.replace(tzinfo=None) == expected
    assert local.utcoffset() == timedelta(hours=offset_hours)


# -- basics ---------------------------------------------------------------------------


def test_is_business_day_and_is_open() -> None:
    assert XMAS.is_business_day(date(2026, 12, 24))
    assert not XMAS.is_business_day(date(2026, 12, 25))  # holiday
    assert not XMAS.is_business_day(date(2026, 12, 26))  # Saturday
    assert LON.is_open(lon(2026, 6, 1, 9, 0))  # opening instant is open
    assert not LON.is_open(lon(2026, 6, 1, 18, 0))  # closing instant is closed
    assert not LON.is_open(lon(2026, 6, 1, 8, 59))
    assert not LON.is_open(lon(2026, 6, 6, 12, 0))  # Saturday
    assert LON.is_open(nyc(2026, 6, 1, 4, 30))  # 09:30 in London
    assert LON.is_open(datetime(2026, 6, 1, 8, 30))  # naive = UTC = 09:30 BST


def test_weekend_skipped() -> None:
    result = LON.add_business_hours(lon(2026, 6, 5, 16, 0), 4)
    assert_local(result, LONDON, datetime(2026, 6, 8, 11, 0), 1)


def test_holidays_skipped() -> None:
    # Thu 24 Dec 16:00 + 4h: 2h Thursday, Fri 25 holiday, weekend, Mon 28 holiday -> Tue 11:00.
    result = XMAS.add_business_hours(lon(2026, 12, 24, 16, 0), 4)
    assert_local(result, LONDON, datetime(2026, 12, 29, 11, 0), 0)


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (lon(2026, 6, 1, 7, 0), datetime(2026, 6, 1, 10, 0)),  # before opening
        (lon(2026, 6, 1, 19, 0), datetime(2026, 6, 2, 10, 0)),  # after closing
        (lon(2026, 6, 1, 18, 0), datetime(2026, 6, 2, 10, 0)),  # exactly at closing
        (lon(2026, 6, 6, 12, 0), datetime(2026, 6, 8, 10, 0)),  # Saturday
    ],
)
def test_start_outside_hours_counts_from_next_opening(start: datetime, expected: datetime) -> None:
    assert_local(LON.add_business_minutes(start, 60), LONDON, expected, 1)


def test_zero_minutes() -> None:
    assert LON.add_business_minutes(lon(2026, 6, 1, 12, 0), 0) == lon(2026, 6, 1, 12, 0)
    assert LON.add_business_minutes(lon(2026, 6, 6, 12, 0), 0) == lon(2026, 6, 8, 9, 0)
    assert LON.add_business_minutes(lon(2026, 6, 1, 18, 0), 0) == lon(2026, 6, 2, 9, 0)


def test_result_may_land_exactly_on_closing() -> None:
    assert LON.add_business_minutes(lon(2026, 6, 5, 17, 0), 60) == lon(2026, 6, 5, 18, 0)


def test_crossing_several_days() -> None:
    # Mon 09:00 + 20h: 9h Monday, 9h Tuesday, 2h Wednesday.
    result = LON.add_business_hours(lon(2026, 6, 1, 9, 0), 20)
    assert_local(result, LONDON, datetime(2026, 6, 3, 11, 0), 1)
    assert LON.add_business_hours(lon(2026, 6, 1, 9, 0), 0.5) == lon(2026, 6, 1, 9, 30)


def test_negative_minutes() -> None:
    assert LON.add_business_minutes(lon(2026, 6, 8, 10, 0), -120) == lon(2026, 6, 5, 17, 0)
    assert LON.add_business_minutes(lon(2026, 6, 6, 12, 0), -60) == lon(2026, 6, 5, 17, 0)
    assert LON.add_business_minutes(lon(2026, 6, 8, 10, 0), -60) == lon(2026, 6, 8, 9, 0)
    assert LON.add_business_hours(lon(2026, 6, 3, 11, 0), -20) == lon(2026, 6, 1, 9, 0)
    assert XMAS.add_business_minutes(lon(2026, 12, 29, 9, 30), -60) == lon(2026, 12, 24, 17, 30)


def test_next_business_day_at() -> None:
    ten = time(10, 0)
    assert_local(
        LON.next_business_day_at(lon(2026, 6, 5, 8, 0), ten), LONDON, datetime(2026, 6, 8, 10, 0), 1
    )
    assert_local(
        LON.next_business_day_at(lon(2026, 6, 1, 23, 0), ten),
        LONDON,
        datetime(2026, 6, 2, 10, 0),
        1,
    )
    assert_local(
        XMAS.next_business_day_at(lon(2026, 12, 24, 12, 0), ten),
        LONDON,
        datetime(2026, 12, 29, 10, 0),
        0,
    )
    # Local date matters: 01:00 UTC on Saturday is still Friday evening in New York.
    result = NYC.next_business_day_at(datetime(2026, 6, 6, 1, 0, tzinfo=UTC), ten)
    assert_local(result, NEW_YORK, datetime(2026, 6, 8, 10, 0), -4)


def test_business_days_later_at() -> None:
    ten = time(10, 0)
    assert_local(
        LON.business_days_later_at(lon(2026, 6, 5, 12, 0), 2, ten),
        LONDON,
        datetime(2026, 6, 9, 10, 0),
        1,
    )
    assert_local(
        LON.business_days_later_at(lon(2026, 6, 6, 12, 0), 1, ten),
        LONDON,
        datetime(2026, 6, 8, 10, 0),
        1,
    )
    assert_local(
        XMAS.business_days_later_at(lon(2026, 12, 23, 12, 0), 2, ten),
        LONDON,
        datetime(2026, 12, 29, 10, 0),
        0,
    )
    with pytest.raises(ValueError, match="at least 1"):
        LON.business_days_later_at(lon(2026, 6, 5, 12, 0), 0, ten)


def test_business_minutes_between() -> None:
    assert LON.business_minutes_between(lon(2026, 6, 5, 17, 0), lon(2026, 6, 8, 10, 0)) == 120
    assert LON.business_minutes_between(lon(2026, 6, 5, 12, 0), lon(2026, 6, 5, 12, 30)) == 30
    assert LON.business_minutes_between(lon(2026, 6, 6, 0, 0), lon(2026, 6, 8, 0, 0)) == 0
    assert LON.business_minutes_between(lon(2026, 6, 8, 10, 0), lon(2026, 6, 5, 17, 0)) == 0
    assert LON.business_minutes_between(lon(2026, 6, 1, 0, 0), lon(2026, 6, 8, 0, 0)) == 5 * 540


def test_no_business_day_raises() -> None:
    never = BusinessCalendar(workdays=frozenset())
    with pytest.raises(ValueError, match="no business day"):
        never.add_business_minutes(datetime(2026, 6, 1, tzinfo=UTC), 10)
    with pytest.raises(ValueError, match="no business day"):
        never.add_business_minutes(datetime(2026, 6, 1, tzinfo=UTC), -10)
    with pytest.raises(ValueError, match="no business day"):
        never.next_business_day_at(datetime(2026, 6, 1, tzinfo=UTC), time(10, 0))


def test_outputs_are_utc_and_naive_inputs_are_utc() -> None:
    result = LON.add_business_minutes(datetime(2026, 1, 5, 9, 0), 15)  # naive = UTC = GMT
    assert result == datetime(2026, 1, 5, 9, 15, tzinfo=UTC)
    assert result.tzinfo is UTC


# -- DST ------------------------------------------------------------------------------


def test_london_spring_forward() -> None:
    # Fri 27 Mar 16:00 GMT + 4h -> Mon 30 Mar 11:00 BST (10:00 UTC).
    result = LON.add_business_hours(lon(2026, 3, 27, 16, 0), 4)
    assert_local(result, LONDON, datetime(2026, 3, 30, 11, 0), 1)
    assert result == datetime(2026, 3, 30, 10, 0, tzinfo=UTC)
    result = LON.next_business_day_at(lon(2026, 3, 27, 16, 0), time(10, 0))
    assert_local(result, LONDON, datetime(2026, 3, 30, 10, 0), 1)


def test_london_fall_back() -> None:
    result = LON.add_business_hours(lon(2026, 10, 23, 16, 0), 4)
    assert_local(result, LONDON, datetime(2026, 10, 26, 11, 0), 0)
    assert result == datetime(2026, 10, 26, 11, 0, tzinfo=UTC)


def test_new_york_spring_forward() -> None:
    result = NYC.add_business_hours(nyc(2026, 3, 6, 16, 0), 4)
    assert_local(result, NEW_YORK, datetime(2026, 3, 9, 11, 0), -4)
    assert result == datetime(2026, 3, 9, 15, 0, tzinfo=UTC)


def test_new_york_fall_back() -> None:
    result = NYC.add_business_hours(nyc(2026, 10, 30, 16, 0), 4)
    assert_local(result, NEW_YORK, datetime(2026, 11, 2, 11, 0), -5)
    assert result == datetime(2026, 11, 2, 16, 0, tzinfo=UTC)


def test_dst_day_itself_on_a_seven_day_calendar() -> None:
    # Saturday 16:00 + 4h on a 7-day calendar lands on the change day at 11:00 new time.
    lon7 = BusinessCalendar(timezone="Europe/London", workdays=EVERY_DAY)
    assert_local(
        lon7.add_business_hours(lon(2026, 3, 28, 16, 0), 4), LONDON, datetime(2026, 3, 29, 11, 0), 1
    )
    assert_local(
        lon7.add_business_hours(lon(2026, 10, 24, 16, 0), 4),
        LONDON,
        datetime(2026, 10, 25, 11, 0),
        0,
    )
    nyc7 = BusinessCalendar(timezone="America/New_York", workdays=EVERY_DAY)
    assert_local(
        nyc7.add_business_hours(nyc(2026, 3, 7, 16, 0), 4),
        NEW_YORK,
        datetime(2026, 3, 8, 11, 0),
        -4,
    )
    assert_local(
        nyc7.add_business_hours(nyc(2026, 10, 31, 16, 0), 4),
        NEW_YORK,
        datetime(2026, 11, 1, 11, 0),
        -5,
    )


@pytest.mark.parametrize(
    ("zone", "spring", "autumn"),
    [
        ("Europe/London", date(2026, 3, 29), date(2026, 10, 25)),
        ("America/New_York", date(2026, 3, 8), date(2026, 11, 1)),
    ],
)
def test_window_spanning_the_change_is_shorter_or_longer(
    zone: str, spring: date, autumn: date
) -> None:
    # Hours 00:00-06:00 straddle the change: 5 real hours in spring, 7 in autumn.
    night = BusinessCalendar(timezone=zone, opens=time(0, 0), closes=time(6, 0), workdays=EVERY_DAY)
    tz = ZoneInfo(zone)

    def whole_day(day: date) -> int:
        start = datetime.combine(day, time(0, 0), tzinfo=tz)
        return night.business_minutes_between(start, start + timedelta(days=1))

    assert whole_day(spring) == 5 * 60
    assert whole_day(autumn) == 7 * 60
    assert whole_day(spring + timedelta(days=1)) == 6 * 60
    # Business time is real elapsed time: 6 business hours from the spring day's midnight
    # runs into the next day's window.
    start = datetime.combine(spring, time(0, 0), tzinfo=tz)
    result = night.add_business_hours(start, 6)
    assert result.astimezone(tz).replace(tzinfo=None) == datetime.combine(
        spring + timedelta(days=1), time(1, 0)
    )


# -- settings parsing -----------------------------------------------------------------


def test_from_settings() -> None:
    cal = BusinessCalendar.from_settings(
        "Europe/London", "08:30-17:15", "mon,tue,wed,thu,fri", "2026-12-25, 2026-12-26"
    )
    assert cal == BusinessCalendar(
        timezone="Europe/London",
        opens=time(8, 30),
        closes=time(17, 15),
        workdays=frozenset({0, 1, 2, 3, 4}),
        holidays=frozenset({date(2026, 12, 25), date(2026, 12, 26)}),
    )
    assert (
        BusinessCalendar.from_settings("UTC", "9:00-18:00", "Mon-Fri", "").holidays == frozenset()
    )
    assert BusinessCalendar.from_settings("UTC", "09:00-18:00", "sat,SUN", "").workdays == {5, 6}
    assert BusinessCalendar.from_settings("UTC", "09:00-18:00", "mon-wed,fri", "").workdays == {
        0,
        1,
        2,
        4,
    }
    assert BusinessCalendar.from_settings("UTC", "09:00-18:00", "fri-mon", "").workdays == {
        4,
        5,
        6,
        0,
    }
    assert BusinessCalendar.from_settings("UTC", " 09:00 - 18:00 ", "monday", "").workdays == {0}


@pytest.mark.parametrize(
    ("timezone", "hours", "workdays", "holidays", "message"),
    [
        ("UTC", "25:00-18:00", "mon-fri", "", "invalid business hours"),
        ("UTC", "18:00-09:00", "mon-fri", "", "closing must be after opening"),
        ("UTC", "09:00", "mon-fri", "", "invalid business hours"),
        ("UTC", "09:60-18:00", "mon-fri", "", "invalid business hours"),
        ("UTC", "09:00-18:00", "funday", "", "unknown day 'funday'"),
        ("UTC", "09:00-18:00", "mon-funday", "", "unknown day"),
        ("UTC", "09:00-18:00", "", "", "at least one day"),
        ("UTC", "09:00-18:00", "mon-fri", "2026-13-01", "invalid holiday '2026-13-01'"),
        ("UTC", "09:00-18:00", "mon-fri", "20261225", "invalid holiday"),
        ("Mars/Olympus", "09:00-18:00", "mon-fri", "", "unknown timezone"),
    ],
)
def test_from_settings_rejects_bad_input(
    timezone: str, hours: str, workdays: str, holidays: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message) as info:
        BusinessCalendar.from_settings(timezone, hours, workdays, holidays)
    assert "\n" not in str(info.value)


# -- public holidays of a region (the holidays package) -------------------------------

ENGLAND = BusinessCalendar(timezone="Europe/London", holiday_region="GB-ENG")
SCOTLAND = BusinessCalendar(timezone="Europe/London", holiday_region="GB-SCT")
LATE_SUMMER = date(2026, 8, 31)  # England's late summer bank holiday, a Monday
SCOTTISH_SUMMER = date(2026, 8, 3)  # Scotland's summer bank holiday instead


def test_a_bank_holiday_of_the_region_is_closed_and_named() -> None:
    assert not ENGLAND.is_business_day(LATE_SUMMER)
    assert ENGLAND.holiday_name(LATE_SUMMER) == "Late Summer Bank Holiday"
    assert ENGLAND.is_business_day(SCOTTISH_SUMMER) and LON.is_business_day(LATE_SUMMER)
    assert not SCOTLAND.is_business_day(SCOTTISH_SUMMER) and SCOTLAND.is_business_day(LATE_SUMMER)
    # Friday 17:30 + 60 business minutes: over the weekend and the bank holiday to Tuesday
    assert_local(
        ENGLAND.add_business_minutes(lon(2026, 8, 28, 17, 30), 60),
        LONDON,
        datetime(2026, 9, 1, 9, 30),
        1,
    )
    assert ENGLAND.business_minutes_between(lon(2026, 8, 28, 9), lon(2026, 9, 2, 9)) == 2 * 9 * 60
    # Christmas falls on a Friday in 2026 and Boxing Day on Saturday: closed on Monday 28th
    assert ENGLAND.holiday_name(date(2026, 12, 28)) == "Boxing Day (observed)"
    assert ENGLAND.is_business_day(date(2027, 4, 1)) and not ENGLAND.is_business_day(
        date(2027, 3, 26)  # Good Friday: the region's holidays of every year, not one
    )


def test_hand_added_dates_still_close_on_top_of_the_region() -> None:
    both = BusinessCalendar.from_settings(
        "Europe/London", "09:00-18:00", "mon-fri", "2026-12-24", "gb-eng"
    )
    assert both.holiday_region == "GB-ENG"
    assert both.holiday_name(date(2026, 12, 24)) == "holiday"
    assert both.holiday_name(date(2026, 12, 25)) == "Christmas Day"
    assert both.holiday_name(date(2026, 12, 23)) is None
    assert both.holiday_name(date(2026, 12, 27)) is None  # a Sunday off is no holiday
    assert XMAS.holiday_name(date(2026, 12, 25)) == "holiday" and not XMAS.holiday_region


@pytest.mark.parametrize(
    ("region", "message"),
    [
        ("XX", "unknown holiday region 'XX': start with a country code"),
        ("GB-ZZZ", "GB's subdivisions are ENG, NIR, SCT, WLS"),
        ("England", "unknown holiday region 'England'"),
        ("-ENG", "start with a country code"),
    ],
)
def test_an_unknown_region_is_refused_with_the_reason(region: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_holiday_region(region)
    with pytest.raises(ValueError, match=message):
        BusinessCalendar.from_settings("UTC", "09:00-18:00", "mon-fri", "", region)


def test_a_region_is_written_country_then_subdivision() -> None:
    assert parse_holiday_region(" gb-eng ") == "GB-ENG"
    assert parse_holiday_region("us-ca") == "US-CA"
    assert parse_holiday_region("gb") == "GB"  # the holidays every part of the country shares
    assert BusinessCalendar(timezone="UTC", holiday_region="GB").is_business_day(LATE_SUMMER)


def test_constructor_validates() -> None:
    with pytest.raises(ValueError, match="must be after"):
        BusinessCalendar(opens=time(18, 0), closes=time(9, 0))
    with pytest.raises(ValueError, match="workdays"):
        BusinessCalendar(workdays=frozenset({7}))


# -- property -------------------------------------------------------------------------

CALENDARS = st.sampled_from(
    [LON, NYC, XMAS, BusinessCalendar.from_settings("Asia/Tokyo", "10:00-16:30", "mon-sat", "")]
)
STARTS = st.datetimes(
    min_value=datetime(2025, 6, 1), max_value=datetime(2027, 6, 1), timezones=st.just(UTC)
)


@given(cal=CALENDARS, start=STARTS, minutes=st.integers(min_value=0, max_value=5000))
def test_add_then_measure_round_trips(cal: BusinessCalendar, start: datetime, minutes: int) -> None:
    result = cal.add_business_minutes(start, minutes)
    assert result.tzinfo is UTC
    assert result >= start
    assert cal.business_minutes_between(start, result) == minutes
    local = result.astimezone(cal.zone)
    at_closing = local.time() == cal.closes and cal.is_business_day(local.date())
    assert cal.is_open(result) or at_closing


@given(cal=CALENDARS, start=STARTS, minutes=st.integers(min_value=1, max_value=5000))
def test_backwards_round_trips(cal: BusinessCalendar, start: datetime, minutes: int) -> None:
    # (minutes=0 is excluded: zero always moves forward to the next opening)
    result = cal.add_business_minutes(start, -minutes)
    assert result <= start
    assert cal.business_minutes_between(result, start) == minutes
    local = result.astimezone(cal.zone)
    at_closing = local.time() == cal.closes and cal.is_business_day(local.date())
    assert cal.is_open(result) or at_closing
