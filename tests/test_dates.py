"""Dates: any stored instant renders in any IANA zone, and every given date passes one window."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from leadms_tui import formatting
from leadms_tui.domain import clock
from leadms_tui.domain.errors import ValidationError
from leadms_tui.domain.fields import kinds
from leadms_tui.domain.models import FieldKind
from leadms_tui.domain.spoken_dates import describe_when, parse_day

ZONES = sorted(available_timezones())
NOW = datetime(2026, 12, 7, 9, 45, tzinfo=UTC)  # a Monday
FIRST = datetime.min.replace(tzinfo=UTC)
LAST = datetime.max.replace(tzinfo=UTC)


def render_everywhere(moment: datetime, zone: str) -> None:
    """Every way a screen or a command turns a stored instant into local time."""
    today = clock.business_date(NOW, zone)
    clock.local(moment, zone)
    clock.business_date(moment, zone)
    formatting.hhmm(moment, zone)
    formatting.when(moment, zone, today)
    formatting.format_local_datetime(moment, zone)
    formatting.instant(moment, zone)
    describe_when(moment, now=NOW, timezone=zone)
    item = kinds.Item(text=moment.isoformat(), moment=moment)
    kinds.as_text(FieldKind.DATETIME, [item], currency="EUR", timezone=zone)


@settings(max_examples=400, deadline=None)
@given(
    moment=st.datetimes(timezones=st.just(UTC)),
    zone=st.sampled_from(ZONES),
)
@example(moment=FIRST, zone="America/New_York")
@example(moment=LAST, zone="Europe/Berlin")
@example(moment=datetime(9999, 12, 31, 23, 59, tzinfo=UTC), zone="Asia/Tokyo")
def test_any_stored_instant_renders_in_any_zone(moment, zone):
    render_everywhere(moment, zone)


@pytest.mark.parametrize(
    "moment", [FIRST, LAST, FIRST + timedelta(hours=3), LAST - timedelta(hours=3)]
)
def test_the_calendar_edges_render_in_every_zone(moment):
    for zone in ZONES:
        render_everywhere(moment, zone)


def test_a_wall_clock_off_the_calendar_clamps_to_its_edge():
    assert clock.as_utc(datetime(1, 1, 1, 0, 10, tzinfo=ZoneInfo("Europe/Berlin"))) == FIRST
    assert clock.as_utc(datetime(9999, 12, 31, 23, 59, tzinfo=ZoneInfo("America/Lima"))) == LAST


def test_the_cli_prints_the_team_clock_with_its_offset():
    assert formatting.instant(NOW, "Europe/Berlin") == "2026-12-07 10:45+01:00"
    assert formatting.instant(NOW, "America/St_Johns") == "2026-12-07 06:15-03:30"
    assert formatting.instant(NOW, "UTC") == "2026-12-07 09:45+00:00"
    assert formatting.instant(LAST, "Asia/Tokyo") == "9999-12-31 23:59+00:00"  # shown in UTC


@given(day=st.dates())
def test_every_typed_day_is_within_the_window_or_refused_in_one_line(day):
    clock.set_clock(lambda: NOW)
    today = NOW.date()
    for window, earliest in (
        (clock.plausible_day, date(2000, 1, 1)),
        (clock.historic_day, date(1900, 1, 1)),
    ):
        try:
            read = parse_day(day.isoformat(), today, window=window)
        except ValidationError as exc:
            assert "\n" not in str(exc) and "outside the plausible range" in str(exc)
            assert not earliest <= day <= today + timedelta(days=5 * 366)
        else:
            assert read == day and earliest <= day <= today + timedelta(days=5 * 366)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("fri", date(2026, 12, 11)), ("t", date(2026, 12, 7)), ("+3", date(2026, 12, 10)),
     ("-2", date(2026, 12, 5)), ("next mon", date(2026, 12, 14)), ("+2d", date(2026, 12, 9)),
     ("2026-11-25", date(2026, 11, 25)), ("tomorrow", date(2026, 12, 8))],
)  # fmt: skip
def test_one_day_reader_takes_what_every_date_field_takes(typed, expected):
    clock.set_clock(lambda: NOW)
    assert parse_day(typed, NOW.date()) == expected


@pytest.mark.parametrize(
    "typed", ["9999-12-31", "0001-01-01", "fri 10:00", "26/11", "+99999999", ""]
)
def test_one_day_reader_refuses_in_one_line(typed):
    clock.set_clock(lambda: NOW)
    with pytest.raises(ValidationError) as refused:
        parse_day(typed, NOW.date())
    assert "\n" not in str(refused.value)


@given(year=st.integers(1, 9999), zone=st.sampled_from(ZONES))
@settings(max_examples=200)
def test_date_and_datetime_field_values_pass_the_historic_window(year, zone):
    clock.set_clock(lambda: NOW)
    ctx = kinds.Context(timezone=zone, phone_region="GB", currency="EUR", now=NOW)
    typed = f"{year:04d}-06-15"
    inside = 1900 <= year <= 2031
    for kind in (FieldKind.DATE, FieldKind.DATETIME):
        text = typed if kind == FieldKind.DATE else f"{typed} 12:00"
        try:
            kinds.parse(kind, text, [], ctx)
        except ValidationError:
            assert not inside
        else:
            assert inside
