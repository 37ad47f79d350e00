"""`ctrl+o` on the lead list: which lead fields show as columns (space ticks, enter applies)."""

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, SelectionList

from leadms_tui import formatting
from leadms_tui.domain.fields.definitions import FieldSpec
from leadms_tui.widgets.field_form import TickList
from leadms_tui.widgets.key_footer import KeyFooter


class FieldColumnsModal(ModalScreen[list[str] | None]):
    HELP_NAME = "Field columns"
    DEFAULT_CSS = """
    FieldColumnsModal { align: center middle; }
    FieldColumnsModal > Vertical { width: 50; max-width: 100%; height: auto; max-height: 100%;
        border: round $accent; background: $surface; padding: 0 1; }
    FieldColumnsModal SelectionList { height: auto; max-height: 16; border: none; padding: 0; }
    """
    BINDINGS = [
        Binding("enter", "apply", "Apply", id="columns.apply", priority=True),
        Binding("escape", "cancel", "Cancel", id="columns.cancel"),
    ]

    def __init__(self, fields: list[FieldSpec], chosen: list[str]) -> None:
        super().__init__()
        self._fields = fields
        self._chosen = set(chosen)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("[b]Lead fields as columns[/b] (space ticks, enter applies)")
            yield TickList(
                *((formatting.shown(f.label), f.key, f.key in self._chosen) for f in self._fields)
            )
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one(SelectionList).focus()

    def action_apply(self) -> None:
        chosen = set(self.query_one(SelectionList).selected)
        self.dismiss([f.key for f in self._fields if f.key in chosen])  # in form order

    def action_cancel(self) -> None:
        self.dismiss(None)
