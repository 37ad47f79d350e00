"""`?`: every key of the screen underneath, with what it does."""

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Static

from leadms_tui.widgets.text_table import TextTable


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 72; max-height: 90%; height: auto;
        border: round $accent; background: $surface; padding: 0 1; }
    HelpScreen DataTable { height: auto; }
    """
    BINDINGS = [
        Binding("escape,question_mark,q", "dismiss", "Close", id="help.close"),
    ]

    def __init__(self, screen: Screen) -> None:
        super().__init__()
        self._for_screen = screen

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(f"[b]Keys[/b] — {self._for_screen.__class__.__name__}")
            yield TextTable(cursor_type="row", zebra_stripes=True, show_cursor=False)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Key", "Action")
        seen = set()
        for key, active in self._for_screen.active_bindings.items():
            binding = active.binding
            if not binding.description or (binding.action, binding.description) in seen:
                continue
            seen.add((binding.action, binding.description))
            shown = binding.key_display or self.app.get_key_display(binding)
            table.add_row(shown or key, binding.description)
