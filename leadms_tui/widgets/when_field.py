"""A date-time field that reads times as people say them and shows what it understood.

`tomorrow 15:00`, `+2d`, `mon 10:00`, `15:00`, `next week` or `2026-11-26 10:00`, in the team
timezone (domain/spoken_dates.py); the line under it reads the result back ("Thu 26 Nov
15:00 (tomorrow, Europe/London)") or why it cannot, before anything is saved.
"""

from datetime import datetime

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label

from leadms_tui.domain import clock
from leadms_tui.domain.errors import ValidationError
from leadms_tui.domain.spoken_dates import describe_when, parse_when


class WhenField(Vertical):
    DEFAULT_CSS = """
    WhenField { height: auto; }
    WhenField .when-hint { color: $text-muted; height: auto; width: 100%; }
    """

    def __init__(
        self, value: str, *, timezone: str, input_id: str, empty_means: str | None = None
    ) -> None:
        super().__init__()
        self._value = value
        self._timezone = timezone
        self._input_id = input_id
        self._empty_means = empty_means  # None: a time is required

    def compose(self) -> ComposeResult:
        yield Input(self._value, id=self._input_id)  # selected on focus: typing replaces it
        yield Label("", classes="when-hint", markup=False)

    def on_mount(self) -> None:
        self._explain()

    @property
    def text(self) -> str:
        return self.query_one(Input).value.strip()

    def moment(self) -> datetime | None:
        """The time typed (None when empty and allowed); ValidationError says why not."""
        if not self.text and self._empty_means is not None:
            return None
        return parse_when(self.text, now=clock.now(), timezone=self._timezone)

    @on(Input.Changed)
    def _explain(self) -> None:
        try:
            moment = self.moment()
        except ValidationError as exc:
            hint = str(exc)
        else:
            if moment is None:
                hint = self._empty_means or ""
            else:
                hint = describe_when(moment, now=clock.now(), timezone=self._timezone)
        self.query_one(".when-hint", Label).update(f"→ {hint}" if hint else "")
