"""Date-times as people type them: the forms, the refusals, DST, and round-trip properties."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from leadms_tui.domain.errors import ValidationError
from leadms_tui.domain.spoken_dates import describe_when, parse_when

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
WEDNESDAY = datetime(2026, 11, 25, 10, 0, tzinfo=LONDON)  # the fixed "now" of the table


def when(text, now=WEDNESDAY, timezone="Europe/London", **options):
    return parse_when(text, now=now, timezone=timezone, **options)


def wall(moment):
    """The local wall-clock reading, as a person would check it."""
    return moment.replace(tzinfo=None)


def utc(moment):
    """The instant: aware datetimes sharing a zone subtract and compare by wall clock, and one at a
    repeated wall time never equals another zone's (PEP 495), so tests compare instants in UTC."""
    return moment.astimezone(UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # ISO dates, with or without a time; a date alone takes default_time
        ("2026-11-26 10:00", datetime(2026, 11, 26, 10, 0)),
        ("2026-11-26", datetime(2026, 11, 26, 10, 0)),
        ("2026-11-26T14:05", datetime(2026, 11, 26, 14, 5)),
        ("2026-11-26t14:05:30", datetime(2026, 11, 26, 14, 5, 30)),
        ("  2026-11-26   16:00 ", datetime(2026, 11, 26, 16, 0)),
        # an ISO instant with an offset is shown in the team zone
        ("2026-06-01T09:00Z", datetime(2026, 6, 1, 10, 0)),
        ("2026-11-26T10:00-05:00", datetime(2026, 11, 26, 15, 0)),
        # day words
        ("today 15:00", datetime(2026, 11, 25, 15, 0)),
        ("tomorrow 15:00", datetime(2026, 11, 26, 15, 0)),
        ("Tomorrow", datetime(2026, 11, 26, 10, 0)),
        ("tmrw", datetime(2026, 11, 26, 10, 0)),
        ("TMR at 3pm", datetime(2026, 11, 26, 15, 0)),
        ("tomorrow, 3:30 pm", datetime(2026, 11, 26, 15, 30)),
        ("yesterday 9:00", datetime(2026, 11, 24, 9, 0)),
        # a time alone is today, even when already past
        ("15:00", datetime(2026, 11, 25, 15, 0)),
        ("9:15", datetime(2026, 11, 25, 9, 15)),
        ("3pm", datetime(2026, 11, 25, 15, 0)),
        ("3:30 pm", datetime(2026, 11, 25, 15, 30)),
        ("3 PM", datetime(2026, 11, 25, 15, 0)),
        ("at 8am", datetime(2026, 11, 25, 8, 0)),
        ("12am", datetime(2026, 11, 25, 0, 0)),
        ("12pm", datetime(2026, 11, 25, 12, 0)),
        ("00:00", datetime(2026, 11, 25, 0, 0)),
        ("noon", datetime(2026, 11, 25, 12, 0)),
        ("Midday", datetime(2026, 11, 25, 12, 0)),
        ("eod", datetime(2026, 11, 25, 18, 0)),
        ("end of day", datetime(2026, 11, 25, 18, 0)),
        ("fri end  of day", datetime(2026, 11, 27, 18, 0)),
        ("now", datetime(2026, 11, 25, 10, 0)),
        # elapsed time
        ("+30m", datetime(2026, 11, 25, 10, 30)),
        ("+3h", datetime(2026, 11, 25, 13, 0)),
        ("+ 3 hrs", datetime(2026, 11, 25, 13, 0)),
        ("in 3 hours", datetime(2026, 11, 25, 13, 0)),
        ("in 45 minutes", datetime(2026, 11, 25, 10, 45)),
        ("in 45 mins", datetime(2026, 11, 25, 10, 45)),
        ("in an hour", datetime(2026, 11, 25, 11, 0)),
        ("-90m", datetime(2026, 11, 25, 8, 30)),
        ("2 hours ago", datetime(2026, 11, 25, 8, 0)),
        # days and weeks keep the wall-clock time, or take the time given
        ("+2d", datetime(2026, 11, 27, 10, 0)),
        ("+1w", datetime(2026, 12, 2, 10, 0)),
        ("in 2 days", datetime(2026, 11, 27, 10, 0)),
        ("in 1 week", datetime(2026, 12, 2, 10, 0)),
        ("in a day", datetime(2026, 11, 26, 10, 0)),
        ("+2d 15:00", datetime(2026, 11, 27, 15, 0)),
        ("in 2 days at 9am", datetime(2026, 11, 27, 9, 0)),
        ("-1d", datetime(2026, 11, 24, 10, 0)),
        ("3 days ago", datetime(2026, 11, 22, 10, 0)),
        # weekdays: the next such day after today
        ("mon 10:00", datetime(2026, 11, 30, 10, 0)),
        ("monday", datetime(2026, 11, 30, 10, 0)),
        ("fri 16:30", datetime(2026, 11, 27, 16, 30)),
        ("Thurs 9am", datetime(2026, 11, 26, 9, 0)),
        ("next mon", datetime(2026, 11, 30, 10, 0)),
        ("next fri", datetime(2026, 11, 27, 10, 0)),
        ("wed", datetime(2026, 12, 2, 10, 0)),  # today's weekday: a week from today
        ("wednesday 9:00", datetime(2026, 12, 2, 9, 0)),
        ("sun", datetime(2026, 11, 29, 10, 0)),
        ("next week", datetime(2026, 11, 30, 10, 0)),
        ("next week 14:00", datetime(2026, 11, 30, 14, 0)),
        ("next month", datetime(2026, 12, 1, 10, 0)),
    ],
)
def test_each_spoken_form_reads_against_a_wednesday_in_london(text, expected):
    moment = when(text)
    assert moment.tzinfo == LONDON
    assert wall(moment) == expected


def test_default_time_and_end_of_day_come_from_the_caller():
    assert wall(when("tomorrow", default_time=time(9, 30))) == datetime(2026, 11, 26, 9, 30)
    assert wall(when("fri", default_time=time(8, 0))) == datetime(2026, 11, 27, 8, 0)
    assert wall(when("eod", end_of_day=time(17, 0))) == datetime(2026, 11, 25, 17, 0)


def test_a_weekday_named_on_that_day_is_next_week_and_next_week_starts_monday():
    monday = datetime(2026, 11, 30, 18, 0, tzinfo=LONDON)
    assert wall(when("mon 20:00", now=monday)) == datetime(2026, 12, 7, 20, 0)
    assert wall(when("next week", now=monday)) == datetime(2026, 12, 7, 10, 0)
    sunday = datetime(2026, 11, 29, 12, 0, tzinfo=LONDON)
    assert wall(when("next week", now=sunday)) == datetime(2026, 11, 30, 10, 0)


@pytest.mark.parametrize(
    ("today", "expected"),
    [((2027, 1, 31), (2027, 2, 1)), ((2026, 12, 15), (2027, 1, 1)), ((2028, 2, 29), (2028, 3, 1))],
)
def test_next_month_is_its_first_day(today, expected):
    now = datetime(*today, 9, 0, tzinfo=LONDON)
    assert wall(when("next month", now=now)) == datetime(*expected, 10, 0)


def test_near_midnight_the_team_day_counts_not_the_utc_day():
    # 23:30 in New York is already 04:30 on the 26th in UTC; clock.now() hands over UTC.
    now = datetime(2026, 11, 26, 4, 30, tzinfo=UTC)
    cases = {
        "today 9am": datetime(2026, 11, 25, 9, 0),
        "15:00": datetime(2026, 11, 25, 15, 0),
        "tomorrow": datetime(2026, 11, 26, 10, 0),
        "+45m": datetime(2026, 11, 26, 0, 15),
        "+1d": datetime(2026, 11, 26, 23, 30),
        "thu": datetime(2026, 11, 26, 10, 0),
        "wed": datetime(2026, 12, 2, 10, 0),
    }
    for text, expected in cases.items():
        moment = when(text, now=now, timezone="America/New_York")
        assert (text, wall(moment)) == (text, expected)
        assert moment.tzinfo == NEW_YORK


def test_near_midnight_in_london_minutes_roll_into_tomorrow():
    now = datetime(2026, 11, 25, 23, 50, tzinfo=LONDON)
    assert wall(when("+30m", now=now)) == datetime(2026, 11, 26, 0, 20)
    assert wall(when("tomorrow", now=now)) == datetime(2026, 11, 26, 10, 0)


# London: 2026-03-29 01:00 GMT -> 02:00 BST; 2026-10-25 02:00 BST -> 01:00 GMT.
# New York: 2026-03-08 02:00 EST -> 03:00 EDT; 2026-11-01 02:00 EDT -> 01:00 EST.
@pytest.mark.parametrize(
    ("timezone", "text", "expected_utc"),
    [
        # skipped times move forward by the gap
        ("Europe/London", "2026-03-29 01:30", datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
        ("Europe/London", "2026-03-29 01:00", datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),
        ("America/New_York", "2026-03-08 02:30", datetime(2026, 3, 8, 7, 30, tzinfo=UTC)),
        # repeated times take the first occurrence (summer time)
        ("Europe/London", "2026-10-25 01:30", datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
        ("America/New_York", "2026-11-01 1:30am", datetime(2026, 11, 1, 5, 30, tzinfo=UTC)),
    ],
)
def test_dst_gaps_shift_forward_and_repeats_take_the_first(timezone, text, expected_utc):
    assert utc(when(text, timezone=timezone)) == expected_utc


def test_skipped_and_repeated_wall_times_read_as_documented():
    gap = when("2026-03-29 01:30")
    assert (wall(gap), gap.tzname()) == (datetime(2026, 3, 29, 2, 30), "BST")
    repeat = when("2026-11-01 01:30", timezone="America/New_York")
    assert (wall(repeat), repeat.fold, repeat.tzname()) == (datetime(2026, 11, 1, 1, 30), 0, "EDT")


def test_days_keep_the_wall_clock_across_dst_while_hours_are_elapsed_time():
    before_spring = datetime(2026, 3, 28, 10, 0, tzinfo=LONDON)
    one_day = when("+1d", now=before_spring)
    assert wall(one_day) == datetime(2026, 3, 29, 10, 0)
    assert utc(one_day) - utc(before_spring) == timedelta(hours=23)
    assert wall(when("+24h", now=before_spring)) == datetime(2026, 3, 29, 11, 0)

    before_autumn = datetime(2026, 10, 31, 12, 0, tzinfo=NEW_YORK)
    a_week = when("in 1 week", now=before_autumn, timezone="America/New_York")
    assert wall(a_week) == datetime(2026, 11, 7, 12, 0)
    assert utc(a_week) - utc(before_autumn) == timedelta(days=7, hours=1)


def test_a_day_later_at_a_skipped_time_moves_past_the_gap():
    now = datetime(2026, 3, 28, 1, 30, tzinfo=LONDON)
    assert wall(when("+1d", now=now)) == datetime(2026, 3, 29, 2, 30)
    assert wall(when("tomorrow 1:30am", now=now)) == datetime(2026, 3, 29, 2, 30)
    new_york = datetime(2026, 3, 7, 2, 15, tzinfo=NEW_YORK)
    assert wall(when("in a day", now=new_york, timezone="America/New_York")) == datetime(
        2026, 3, 8, 3, 15
    )


def test_hours_across_the_autumn_change_reach_the_second_occurrence():
    now = datetime(2026, 10, 25, 0, 30, tzinfo=LONDON)  # BST
    moment = when("+2h", now=now)
    assert utc(moment) == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert (wall(moment), moment.tzname()) == (datetime(2026, 10, 25, 1, 30), "GMT")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("9", "write 9:00, 9am or 9pm"),
        ("tomorrow 9", "write 9:00, 9am or 9pm"),
        ("fri 15", "write 15:00"),
        ("26/11", "is ambiguous"),
        ("26/11 10:00", "YYYY-MM-DD"),
        ("11/26/2026", "YYYY-MM-DD"),
        ("15.30", "HH:MM"),
        ("midnight", "write 00:00 or 23:59"),
        ("25:00", "is not a time of day"),
        ("10:60", "is not a time of day"),
        ("13pm", "am/pm hours run 1 to 12"),
        ("0am", "am/pm hours run 1 to 12"),
        ("2026-02-30", "is not a calendar date"),
        ("2026-13-01T10:00Z", "is not a calendar date"),
        ("in 2 months", "unknown unit 'months'"),
        ("+3h 15:00", "can't take a time of day"),
        ("someday", "is not a date or time I can read"),
        ("tomorrow at", "is not a date or time I can read"),
        ("next", "is not a date or time I can read"),
        ("2026", "is not a date or time I can read"),
        ("+999999w", "is too far away"),
    ],
)
def test_refusals_name_what_was_typed_and_give_examples(text, reason):
    with pytest.raises(ValidationError) as refused:
        when(text)
    message = str(refused.value)
    assert reason in message
    assert message.startswith(repr(text))
    assert "try 2026-11-26 15:00, tomorrow 3pm" in message
    assert "\n" not in message


def test_empty_input_and_long_hostile_input_get_one_short_line():
    with pytest.raises(ValidationError, match="No date or time given"):
        when("   ")
    with pytest.raises(ValidationError) as refused:
        when("x" * 500 + "\n\x1b[31m")
    message = str(refused.value)
    assert "\n" not in message and "\x1b" not in message and len(message) < 200


def test_an_unknown_timezone_is_refused():
    with pytest.raises(ValidationError, match="Unknown timezone 'Mars/Olympus'"):
        when("tomorrow", timezone="Mars/Olympus")


@pytest.mark.parametrize(
    ("moment", "timezone", "expected"),
    [
        (
            datetime(2026, 11, 26, 15, 0, tzinfo=LONDON),
            "Europe/London",
            "Thu 26 Nov 15:00 (tomorrow, Europe/London)",
        ),
        (
            datetime(2026, 11, 25, 16, 0, tzinfo=UTC),
            "Europe/London",
            "Wed 25 Nov 16:00 (today, Europe/London)",
        ),
        (
            datetime(2026, 11, 25, 9, 0, tzinfo=LONDON),
            "Europe/London",
            "Wed 25 Nov 09:00 (earlier today, Europe/London)",
        ),
        (
            datetime(2026, 12, 1, 15, 0, tzinfo=LONDON),
            "Europe/London",
            "Tue 1 Dec 15:00 (in 6 days, Europe/London)",
        ),
        (
            datetime(2026, 11, 22, 15, 0, tzinfo=LONDON),
            "Europe/London",
            "Sun 22 Nov 15:00 (3 days ago, Europe/London)",
        ),
        (
            datetime(2027, 1, 4, 9, 0, tzinfo=LONDON),
            "Europe/London",
            "Mon 4 Jan 2027 09:00 (in 40 days, Europe/London)",
        ),
        # 03:00 tomorrow in London is still today, 22:00, in New York
        (
            datetime(2026, 11, 26, 3, 0, tzinfo=LONDON),
            "America/New_York",
            "Wed 25 Nov 22:00 (today, America/New_York)",
        ),
        # a wall time that happens twice names its offset
        (
            datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
            "Europe/London",
            "Sun 25 Oct 01:30 BST (31 days ago, Europe/London)",
        ),
        (
            datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
            "Europe/London",
            "Sun 25 Oct 01:30 GMT (31 days ago, Europe/London)",
        ),
    ],
)
def test_describe_when_names_the_day_the_time_and_the_zone(moment, timezone, expected):
    assert describe_when(moment, now=WEDNESDAY, timezone=timezone) == expected


def test_earlier_today_compares_instants_on_the_night_clocks_go_back():
    now = datetime(2026, 10, 25, 0, 45, tzinfo=UTC)  # 01:45 BST
    later = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 01:30 GMT, an hour later
    described = describe_when(later, now=now, timezone="Europe/London")
    assert described == "Sun 25 Oct 01:30 GMT (today, Europe/London)"


def test_what_is_parsed_is_described_in_the_team_zone():
    moment = when("tomorrow 3pm", now=datetime(2026, 11, 25, 10, 0, tzinfo=UTC))
    described = describe_when(moment, now=WEDNESDAY, timezone="Europe/London")
    assert described == "Thu 26 Nov 15:00 (tomorrow, Europe/London)"


# Properties over every zone the system knows (including the leap-second "right/" ones),
# 2000..2099; a real clock never reads a time the clocks skip.
NOWS = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2099, 12, 31),
    timezones=st.timezones(),
    allow_imaginary=False,
)


def _skipped_by(naive, zone):
    """How far the clocks jump over `naive` (zero if it exists): per PEP 495, inside a gap fold=1
    reads with the later, larger offset and fold=0 with the earlier one."""
    jump = zone.utcoffset(naive.replace(fold=1)) - zone.utcoffset(naive.replace(fold=0))
    return max(jump, timedelta(0))


@settings(deadline=None)
@given(NOWS, st.integers(min_value=0, max_value=3660), st.sampled_from(["+{}d", "in {} days"]))
def test_days_ahead_land_on_the_same_wall_clock_time(now, days, form):
    zone = now.tzinfo
    moment = parse_when(form.format(days), now=now, timezone=zone.key)
    target = wall(now.astimezone(zone)) + timedelta(days=days)
    assert moment.tzinfo == zone
    assert wall(moment) == target + _skipped_by(target, zone)


@settings(deadline=None)
@given(NOWS, st.integers(min_value=0, max_value=520))
def test_weeks_ahead_are_seven_days_each(now, weeks):
    zone = now.tzinfo
    by_weeks = parse_when(f"+{weeks}w", now=now, timezone=zone.key)
    assert by_weeks == parse_when(f"in {7 * weeks} days", now=now, timezone=zone.key)


@settings(deadline=None)
@given(NOWS, st.integers(min_value=0, max_value=100_000))
def test_minutes_ahead_are_exact_elapsed_time(now, minutes):
    moment = parse_when(f"in {minutes} minutes", now=now, timezone=now.tzinfo.key)
    assert utc(moment) - utc(now) == timedelta(minutes=minutes)


@settings(deadline=None)
@given(NOWS, NOWS)
def test_a_formatted_datetime_parses_back_to_itself(moment, now):
    moment = moment.replace(second=0, microsecond=0)
    # "right/" zones change offset at odd seconds, so a whole minute can fall in a gap
    assume(_skipped_by(wall(moment), moment.tzinfo) == timedelta(0))
    text = f"{moment:%Y-%m-%d %H:%M}"
    parsed = parse_when(text, now=now, timezone=moment.tzinfo.key)
    assert f"{parsed:%Y-%m-%d %H:%M}" == text
    # A wall time the clocks repeat reads as its first occurrence; any other is the same instant.
    assert utc(parsed) == utc(moment.replace(fold=0))


@settings(deadline=None)
@given(
    st.lists(
        st.sampled_from([*"0123456789:+-/. apmdhwtz", "in ", "ago", "next ", "mon", "tomorrow"]),
        max_size=8,
    ).map("".join)
    | st.text(max_size=30),
    NOWS,
)
def test_any_text_reads_as_a_moment_or_is_refused_in_one_line(text, now):
    try:
        moment = parse_when(text, now=now, timezone=now.tzinfo.key)
    except ValidationError as refused:
        assert "\n" not in str(refused)
    else:
        assert moment.tzinfo == now.tzinfo
