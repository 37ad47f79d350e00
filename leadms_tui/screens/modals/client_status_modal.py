"""`s` on a client: its status."""

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from leadms_tui import formatting
from leadms_tui.domain.models import ClientStatus


class ClientStatusModal(ModalScreen[str | None]):
    """`s` on a client: pick its status with the arrows and enter, or by its first letter."""

    HELP_NAME = "Client status"
    DEFAULT_CSS = """
    ClientStatusModal { align: center middle; }
    ClientStatusModal > Vertical { width: 44; max-width: 100%; height: auto;
        border: round $accent; background: $surface; padding: 0 1; }
    ClientStatusModal OptionList { height: auto; border: none; padding: 0; }
    """
    BINDINGS = [
        Binding("o", "choose('onboarding')", "Onboarding", id="client-status.onboarding"),
        Binding("a", "choose('active')", "Active", id="client-status.active"),
        Binding("p", "choose('paused')", "Paused", id="client-status.paused"),
        Binding("c", "choose('churned')", "Churned", id="client-status.churned"),
        Binding("escape", "choose(None)", "Cancel", id="client-status.cancel"),
    ]

    def __init__(self, number: str, current: str) -> None:
        super().__init__()
        self._number = number
        self._current = current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(formatting.titled("Client status", self._number))
            yield OptionList(*(Option(s.value, id=s.value) for s in ClientStatus))

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = [s.value for s in ClientStatus].index(self._current)
        options.focus()

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_choose(self, status: str | None) -> None:
        self.dismiss(status)
