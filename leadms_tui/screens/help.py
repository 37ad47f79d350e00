"""`?` or `f1`: every key of the screen underneath, with what it does."""

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Static

from leadms_tui.widgets.text_table import TextTable


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical { width: 72; max-width: 100%;
        max-height: 100%; height: auto;
        border: round $accent; background: $surface; padding: 0 1; }
    HelpScreen DataTable { height: auto; max-height: 100%; }
    """
    BINDINGS = [
        Binding("escape,question_mark,q,f1", "dismiss", "Close", id="help.close"),
    ]

    def __init__(self, screen: Screen) -> None:
        super().__init__()
        self._for_screen = screen

    def compose(self) -> ComposeResult:
        name = getattr(self._for_screen, "HELP_NAME", "this screen")
        with Vertical():
            yield Static(Text.assemble(("Keys", "bold"), f" — {name} (arrows scroll)"))
            yield TextTable(cursor_type="row", zebra_stripes=True, show_cursor=False)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Key", "Action")
        seen = set()
        ours, widgets = [], []  # Lead MS keys (they all have an id) before a list's own keys
        for key, active in self._for_screen.active_bindings.items():
            binding = active.binding
            if not binding.description or (binding.action, binding.description) in seen:
                continue
            seen.add((binding.action, binding.description))
            shown = binding.key_display or self.app.get_key_display(binding)
            (ours if binding.id else widgets).append((shown or key, binding.description))
        for row in ours:
            table.add_row(*row)
        if widgets:
            table.add_row("", "")
            for row in widgets:
                table.add_row(*row)
        table.focus()  # arrows and page keys scroll at once, at any terminal size
