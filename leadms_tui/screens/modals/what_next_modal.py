"""Over the admin's first day view, after the first-run setup: where to go next."""

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from leadms_tui import formatting
from leadms_tui.domain.team.users import UserInfo


class WhatNextModal(ModalScreen[None]):
    """Over the admin's first day view: where to go from an empty database."""

    DEFAULT_CSS = """
    WhatNextModal { align: center middle; }
    WhatNextModal > Vertical { width: 72; max-width: 100%; height: auto; max-height: 100%;
        border: round $accent; background: $surface; padding: 0 1; }
    """
    BINDINGS = [Binding("escape,enter", "dismiss", "Close", id="what-next.close")]

    def __init__(self, admin: UserInfo) -> None:
        super().__init__()
        self._admin = admin

    def compose(self) -> ComposeResult:
        steps = (
            ("Import leads", "leadms import csv FILE"),
            ("Add reps", "S (settings) → Users (2) → a"),
            ("Start intake", "leadms intake serve"),
        )
        with Vertical(id="what-next"):
            yield Static(
                Text.assemble(
                    ("What next", "bold"),
                    " — signed in as ",
                    formatting.shown(self._admin.display_name),
                    " (admin)",
                )
            )
            for what, how in steps:
                yield Static(Text.assemble(f"  {what:<15}", (how, "bold")))
            yield Static(Text("enter or escape closes this; ? lists the keys of any screen", "dim"))
