"""How text, times, ages and phones read on screen (team timezone, short and scannable)."""

from datetime import date, datetime, timedelta

from rich.text import Text

from leadms_tui.domain import clock
from leadms_tui.domain.chat.outbox import Window
from leadms_tui.domain.clock import local
from leadms_tui.domain.leads.phones import display_phone
from leadms_tui.domain.text import visible

DATETIME_INPUT = "%Y-%m-%d %H:%M"


def shown(value: object, style: str = "") -> Text:
    """Data (a name, a message, an error about them) as literal text: never markup, and no
    control character reaches the terminal. The one way stored text gets on screen."""
    if isinstance(value, Text):
        plain = visible(value.plain, lines=True)
        return value if plain == value.plain else Text(plain, style=value.style)
    return Text(visible(value, lines=True), style=style)


def titled(title: str, data: object, after: str = "") -> Text:
    """A modal's heading: the title in bold, then the lead (data, shown literally)."""
    return Text.assemble((title, "bold"), " — ", shown(data), after)


def example_date(days_ahead: int = 1) -> str:
    """A date for an input's example, counted from today: a fixed one soon reads as the past."""
    return (clock.now() + timedelta(days=days_ahead)).date().isoformat()


def hhmm(moment: datetime, timezone: str) -> str:
    return f"{local(moment, timezone):%H:%M}"


def when(moment: datetime, timezone: str, today: date) -> str:
    """ "09:30" today, "Tue 09:30" within a week, else "2026-11-03 09:30"."""
    at = local(moment, timezone)
    if at.date() == today:
        return f"{at:%H:%M}"
    if abs((at.date() - today).days) < 7:
        return f"{at:%a %H:%M}"
    return f"{at:%Y-%m-%d %H:%M}"


def age(since: datetime, now: datetime) -> str:
    """ "2h 10m", "3d 4h", "12m": how long something has waited."""
    minutes = max(0, int((now - since).total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {mins:02d}m"
    return f"{mins}m"


def clock_left(minutes_left: int) -> str:
    """A response clock in 9 cells: "4m left", "1h05 left", "over 12m", "over 1h05", "over 45h"
    (business minutes; 0 left is over: the target is reached)."""
    if minutes_left > 0:
        hours, mins = divmod(minutes_left, 60)
        return f"{hours}h{mins:02d} left" if hours else f"{mins}m left"
    hours, mins = divmod(-minutes_left, 60)
    if hours >= 10:
        return f"over {hours}h"
    return f"over {hours}h{mins:02d}" if hours else f"over {mins}m"


def phone(e164_or_raw: str | None) -> str:
    if not e164_or_raw:
        return ""
    return display_phone(e164_or_raw) if e164_or_raw.startswith("+") else e164_or_raw


def instant(moment: datetime, timezone: str) -> str:
    """A stored instant as the CLI prints it: the team's wall clock with its offset,
    "2026-12-07 10:45+01:00", so a reader needs no conversion and a script can still parse it."""
    at = local(moment, timezone)
    minutes = round(at.utcoffset().total_seconds() / 60)  # type: ignore[union-attr]
    hours, rest = divmod(abs(minutes), 60)
    return f"{at.date().isoformat()} {at:%H:%M}{'-' if minutes < 0 else '+'}{hours:02d}:{rest:02d}"


def span(length: timedelta) -> str:
    """ "3 h 12 m", "5 d 3 h", "12 m": how long a chat window stays open."""
    minutes = max(0, int(length.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {mins} m"
    return f"{mins} m"


def window_words(window: Window | None, at: datetime) -> str:
    """A chat lead's reply window in words: "window: 3 h 12 m left", "closed: templates only"."""
    if window is None:
        return "no WhatsApp or Messenger sender: call instead"
    if window.free_text(at):
        return f"window: {span(window.left(at))} left"
    if window.tagged(at):
        return f"window: {span(window.left(at))} left (a person's reply, tagged)"
    return "closed: templates only" if window.templates else "closed: call instead"


def format_local_datetime(moment: datetime, timezone: str) -> str:
    return local(moment, timezone).strftime(DATETIME_INPUT)
