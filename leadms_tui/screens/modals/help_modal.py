"""`?` or `f1`: every key of the screen underneath that the signed-in person can use, with what
it does (Lead MS's own keys: a table's generic ones, such as Textual's page keys, are left out)."""

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Static

from leadms_tui.domain.models import Role
from leadms_tui.widgets.text_table import TextTable

STAFF = frozenset({Role.MANAGER, Role.ADMIN})
# Keys (by binding id) that only some roles can use; the others get a "only ... may" toast, so
# their help leaves them out.
ROLE_ONLY: dict[str, frozenset[Role]] = {
    "app.commissions": STAFF,
    "app.duplicates": STAFF,
    "app.onboarding-templates": frozenset({Role.ADMIN}),
    "app.settings": frozenset({Role.ADMIN}),
    "lead.assign": STAFF,
    "day.rep": STAFF,
    "day.breaching": STAFF,
    "day.rules": frozenset({Role.ADMIN}),
    "rules.toggle": frozenset({Role.ADMIN}),
    "rules.add": frozenset({Role.ADMIN}),
    "rules.edit": frozenset({Role.ADMIN}),
    "rules.open": frozenset({Role.ADMIN}),
}


def usable_by(binding_id: str | None, role: Role | None) -> bool:
    """Whether a key of Lead MS (it has an id) is one `role` can use."""
    if binding_id is None:
        return False  # a widget's generic key (Textual's own), not Lead MS's
    allowed = ROLE_ONLY.get(binding_id)
    return allowed is None or role in allowed


class HelpModal(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpModal { align: center middle; }
    HelpModal > Vertical { width: 72; max-width: 100%;
        max-height: 100%; height: auto;
        border: round $accent; background: $surface; padding: 0 1; }
    HelpModal DataTable { height: auto; max-height: 100%; }
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
        user = getattr(self.app, "user", None)
        role = user.role if user is not None else None
        seen = set()
        for key, active in self._for_screen.active_bindings.items():
            binding = active.binding
            if not binding.description or (binding.action, binding.description) in seen:
                continue
            if not usable_by(binding.id, role):
                continue
            seen.add((binding.action, binding.description))
            shown = binding.key_display or self.app.get_key_display(binding)
            table.add_row(shown or key, binding.description)
        table.focus()  # arrows and page keys scroll at once, at any terminal size
