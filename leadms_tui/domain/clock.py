"""The one place the current time comes from, so tests can freeze it."""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from leadms_tui.domain.errors import ValidationError

# No Lead MS record is older than this: the start of "since always" (shipped rules), and the
# first instant an outside timestamp may name.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
PLAUSIBLE_AHEAD = timedelta(days=5 * 366)  # a callback or meeting is not booked further out
# A field value (a birthday, a founding date) or a report range may reach further back than any
# record, but never to where a zone's wall clock leaves the calendar (year 1 west of UTC).
HISTORIC_EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
_FIRST = datetime.min.replace(tzinfo=UTC)
_LAST = datetime.max.replace(tzinfo=UTC)

_now: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def now() -> datetime:
    """The current instant, timezone-aware in UTC."""
    return _now()


def set_clock(source: Callable[[], datetime] | None) -> None:
    """Replace the clock (tests); `None` restores the real one."""
    global _now
    _now = source or (lambda: datetime.now(UTC))


def as_utc(moment: datetime) -> datetime:
    """Aware UTC version of `moment`; a naive value is taken to be UTC already. A wall-clock
    time whose UTC instant leaves the calendar (0001-01-01 00:10 +01:00) is clamped to its edge."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return _FIRST if moment.year == 1 else _LAST


def plausible(moment: datetime, what: str) -> datetime:
    """`moment` in UTC; ValidationError naming `what` when it lies outside 2000 .. now + 5 years
    (a year-1 timestamp from a file or a dialer breaks every view west of UTC). The one window
    for every instant a person, a file or a webhook gives: calls, follow-ups, away-until."""
    return _within(moment, what, EARLIEST)


def historic(moment: datetime, what: str) -> datetime:
    """`moment` in UTC, within 1900 .. now + 5 years (date-time field values)."""
    return _within(moment, what, HISTORIC_EARLIEST)


def plausible_day(day: date, what: str) -> date:
    """`day` when it lies within the plausible window (2000 .. today + 5 years): holidays, a day
    typed to go to."""
    return _within_days(day, what, EARLIEST)


def historic_day(day: date, what: str) -> date:
    """`day` when it lies within 1900 .. today + 5 years: date field values (a birthday) and
    report ranges, which may reach back before any record but never off any zone's calendar."""
    return _within_days(day, what, HISTORIC_EARLIEST)


def _within(moment: datetime, what: str, earliest: datetime) -> datetime:
    at = as_utc(moment)
    latest = now() + PLAUSIBLE_AHEAD
    if not earliest <= at <= latest:
        shown = at.replace(tzinfo=None).isoformat(" ", "minutes")
        raise ValidationError(
            f"{what} {shown} UTC is outside the plausible range "
            f"{earliest:%Y-%m-%d} to {latest:%Y-%m-%d}"
        )
    return at


def _within_days(day: date, what: str, earliest: datetime) -> date:
    latest = (now() + PLAUSIBLE_AHEAD).date()
    if not earliest.date() <= day <= latest:
        raise ValidationError(
            f"{what} {day.isoformat()} is outside the plausible range "
            f"{earliest:%Y-%m-%d} to {latest:%Y-%m-%d}"
        )
    return day


def local(moment: datetime, timezone: str) -> datetime:
    """`moment` on the wall clock of `timezone` (the team's). Never raises for a stored instant:
    one whose wall clock would leave the calendar there (9999-12-31 23:59 UTC in Berlin) is
    shown in UTC instead, so one odd value cannot stop a screen, a command or intake."""
    at = as_utc(moment)
    try:
        return at.astimezone(ZoneInfo(timezone))
    except OverflowError:
        return at


def business_date(moment: datetime, timezone: str) -> date:
    """The calendar date of `moment` in the team's timezone."""
    return local(moment, timezone).date()
