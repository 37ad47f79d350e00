"""`g` on the reports: a report over any range of days."""

from datetime import date

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from leadms_tui import formatting
from leadms_tui.domain import clock
from leadms_tui.domain.errors import ValidationError
from leadms_tui.domain.reports.coaching import Period
from leadms_tui.domain.spoken_dates import parse_day

LONGEST_RANGE = 366  # days a custom range may span


class RangeModal(ModalScreen[Period | None]):
    """`g`: a report over any range of days (YYYY-MM-DD, or today, -7, …)."""

    DEFAULT_CSS = """
    RangeModal { align: center middle; }
    RangeModal > Vertical { width: 50; max-width: 100%; height: auto;
        border: round $accent; background: $surface; padding: 0 1; }
    RangeModal #range-error { width: 100%; height: auto; color: $error; }
    """
    BINDINGS = [
        Binding("ctrl+s", "choose", "Show", id="range.show"),
        Binding("escape", "cancel", "Cancel", id="range.cancel"),
    ]

    def __init__(self, current: Period, today: date) -> None:
        super().__init__()
        self._current = current
        self._today = today

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Report from (YYYY-MM-DD)")
            yield Input(self._current.start.isoformat(), id="range-from", select_on_focus=True)
            yield Label("to (inclusive)")
            yield Input(self._current.end.isoformat(), id="range-to", select_on_focus=True)
            yield Label("", id="range-error", markup=False)

    @on(Input.Submitted, "#range-from")
    def _to_end(self) -> None:
        self.query_one("#range-to", Input).focus()

    @on(Input.Submitted, "#range-to")
    def action_choose(self) -> None:
        try:
            self.dismiss(self._period())
        except (ValueError, ValidationError) as exc:
            self.query_one("#range-error", Label).update(formatting.shown(str(exc)))

    def _period(self) -> Period:
        start = parse_day(
            self.query_one("#range-from", Input).value, self._today, window=clock.historic_day
        )
        end = parse_day(
            self.query_one("#range-to", Input).value, self._today, window=clock.historic_day
        )
        if end < start:
            raise ValueError(f"{end} is before {start}: the range ends on or after it starts")
        if (end - start).days + 1 > LONGEST_RANGE:
            raise ValueError(f"a range spans at most {LONGEST_RANGE} days")
        return Period(start, end)

    def action_cancel(self) -> None:
        self.dismiss(None)
