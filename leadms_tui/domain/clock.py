"""The one place the current time comes from, so tests can freeze it."""

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

# No Lead MS record is older than this: the start of "since always" (shipped rules).
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)

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


def business_date(moment: datetime, timezone: str) -> date:
    """The calendar date of `moment` in the team's timezone."""
    return as_utc(moment).astimezone(ZoneInfo(timezone)).date()
