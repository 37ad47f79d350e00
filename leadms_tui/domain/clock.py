"""The one place the current time comes from, so tests can freeze it."""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from leadms_tui.domain.errors import ValidationError

# No Lead MS record is older than this: the start of "since always" (shipped rules), and the
# first instant an outside timestamp may name.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
PLAUSIBLE_AHEAD = timedelta(days=5 * 366)  # a callback or meeting is not booked further out

_now: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def now() -> datetime:
    """The current instant, timezone-aware in UTC."""
    return _now()


def set_clock(source: Callable[[], datetime] | None) -> None:
    """Replace the clock (tests); `None` restores the real one."""
    global _now
    _now = source or (lambda: datetime.now(UTC))


def as_utc(moment: datetime) -> datetime:
    """Aware UTC version of `moment`; a naive value is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def plausible(moment: datetime, what: str) -> datetime:
    """`moment` in UTC; ValidationError naming `what` when it lies outside 2000 .. now + 5 years
    (a year-1 timestamp from a file or a dialer breaks every view west of UTC)."""
    at = as_utc(moment)
    latest = now() + PLAUSIBLE_AHEAD
    if not EARLIEST <= at <= latest:
        shown = at.replace(tzinfo=None).isoformat(" ", "minutes")
        raise ValidationError(
            f"{what} {shown} UTC is outside the plausible range "
            f"{EARLIEST:%Y-%m-%d} to {latest:%Y-%m-%d}"
        )
    return at


def local(moment: datetime, timezone: str) -> datetime:
    """`moment` on the wall clock of `timezone` (the team's)."""
    return as_utc(moment).astimezone(ZoneInfo(timezone))


def business_date(moment: datetime, timezone: str) -> date:
    """The calendar date of `moment` in the team's timezone."""
    return as_utc(moment).astimezone(ZoneInfo(timezone)).date()
