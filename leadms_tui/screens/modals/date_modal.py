"""`g`: go to a date (2026-11-25, today, fri, tomorrow, +3, -2), read as every date field is."""

from datetime import date

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class DateModal(ModalScreen[date | None]):
    DEFAULT_CSS = """
    DateModal { align: center middle; }
    DateModal > Vertical { width: 50; max-width: 100%;
        height: auto; border: round $accent;
        background: $surface; padding: 0 1; }
    DateModal #date-error { width: 100%; height: auto; color: $error; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="date.cancel")]

    def __init__(self, current: date, today: date) -> None:
        super().__init__()
        self._current = current
        self._today = today

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Go to date (YYYY-MM-DD, today, fri, +3, -2)")
            yield Input(self._current.isoformat(), id="date-input", select_on_focus=True)
            yield Label("", id="date-error", markup=False)

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        from leadms_tui.domain.errors import ValidationError
        from leadms_tui.domain.spoken_dates import parse_day

        try:
            self.dismiss(parse_day(event.value, self._today))
        except ValidationError as exc:
            self.query_one("#date-error", Label).update(str(exc))

    def action_cancel(self) -> None:
        self.dismiss(None)
