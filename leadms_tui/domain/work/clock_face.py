"""A running response clock as a screen shows it: loaded once, then ticked from the current
time alone, with no database read per tick.

`domain/work/response_clock.py` owns the clock (what starts and stops it, the ladder); this
module only turns a loaded lead (its receipt, its owner's hours, whether it was touched) into a
`ClockFace` whose `minutes_left(now)` counts business minutes as the clock does: it pauses while
business time is closed (nights, days off, holidays, outside the owner's own hours).

Ticking is cheap however long a lead has waited: the face keeps an *anchor* (the last whole
business minute reached when it was loaded) so a tick walks the calendar from the anchor to now,
at most a day or so, never from the lead's receipt months ago.
"""

from dataclasses import dataclass
from datetime import datetime

from leadms_tui.domain import clock
from leadms_tui.domain.business_time import BusinessCalendar
from leadms_tui.domain.team.settings import TeamSettings
from leadms_tui.domain.work.response_clock import has_clock


@dataclass(frozen=True)
class ClockFace:
    calendar: BusinessCalendar
    target: int  # business minutes to the first touch (`response_target_minutes`)
    anchor: datetime  # `used_at_anchor` whole business minutes after the receipt
    used_at_anchor: int

    def minutes_used(self, now: datetime) -> int:
        return self.used_at_anchor + self.calendar.business_minutes_between(self.anchor, now)

    def minutes_left(self, now: datetime) -> int:
        """Business minutes to the target; 0 or less: over by that many (as ClockView)."""
        return self.target - self.minutes_used(now)

    def running(self, now: datetime) -> bool:
        """False while business time is closed: the clock is paused."""
        return self.calendar.is_open(now)


def hours_calendar(settings: TeamSettings, working_hours: str | None) -> BusinessCalendar:
    """The clock's calendar: the owner's own hours where set, else the team's (as
    `response_clock.clock_calendar`, from the hours alone rather than a User row)."""
    return settings.calendar(working_hours or None)


def clock_face(
    settings: TeamSettings,
    received_at: datetime,
    working_hours: str | None,
    *,
    touched: bool,
    now: datetime | None = None,
) -> ClockFace | None:
    """The face of a lead's running clock; None when it has no clock (taken in before clocks
    existed) or it was touched (stopped)."""
    if touched or not has_clock(settings, received_at):
        return None
    at = clock.as_utc(now or clock.now())
    calendar = hours_calendar(settings, working_hours)
    received = clock.as_utc(received_at)
    used = calendar.business_minutes_between(received, at)
    # the instant `used` whole minutes were reached: ticks count on from there exactly
    anchor = calendar.add_business_minutes(received, used) if used else received
    return ClockFace(calendar, settings.response_target_minutes, anchor, used)
