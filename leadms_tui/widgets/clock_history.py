"""A lead's response clock in words, for the lead detail: its state, then when it started,
paused, resumed, each ladder step and when it stopped (from `response_clock.clock_view`)."""

from datetime import date

from rich.text import Text

from leadms_tui import formatting
from leadms_tui.domain.work.response_clock import ClockView
from leadms_tui.widgets.clock_cells import OVER_STYLE

SHOWN_EVENTS = 8  # a lead untouched for weeks paused every night: its start and latest events


def clock_state(view: ClockView) -> Text:
    if view.state == "touched":
        words = f"stopped after {view.minutes_used}m ({view.touched_by})"
        style = "green" if view.minutes_used <= view.target_minutes else "yellow"
        return Text(words, style=style)
    style = OVER_STYLE if view.state == "over" else ""
    text = Text(formatting.clock_left(view.minutes_left), style=style)
    text.append(f" of {view.target_minutes}m", style="dim")
    return text


def clock_history(view: ClockView, timezone: str, today: date) -> Text:
    """ "Clock    over 12m of 15m" and a line per event: "Wed 17:58     0m  started: …"."""
    text = Text.assemble("Clock    ", clock_state(view))
    if view.flagged:
        text.append(" · flagged: no other rep can take it", style=OVER_STYLE)
    events = view.events
    if len(events) > SHOWN_EVENTS:  # the start, then the latest
        events = [events[0], *events[-(SHOWN_EVENTS - 1) :]]
    for index, event in enumerate(events):
        if index == 1 and events is not view.events:
            text.append("\n …", style="dim")
        text.append(f"\n{formatting.when(event.at, timezone, today):>9} ", style="dim")
        text.append(f"{event.minute:>3}m ", style="dim")
        text.append_text(formatting.shown(_short(event.what)))
    return text


def _short(what: str) -> str:
    """ "paused: outside business hours" → "paused": the pane is narrow; steps and the touch
    keep what they say (who was told, who called)."""
    head, _, _ = what.partition(":")
    return head if head in ("started", "paused", "resumed") else what
