"""`n` in the onboarding template editor: the name of a new template."""

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class TemplateNameModal(ModalScreen[str | None]):
    """`n`: the name of a new onboarding template."""

    HELP_NAME = "New onboarding template"
    DEFAULT_CSS = """
    TemplateNameModal { align: center middle; }
    TemplateNameModal > Vertical { width: 50; max-width: 100%; height: auto;
        border: round $accent; background: $surface; padding: 0 1; }
    TemplateNameModal #template-name-error { width: 100%; height: auto; color: $error; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="template-name.cancel")]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Name of the new onboarding template (enter, escape cancels)")
            yield Input(id="template-name", placeholder="e.g. Enterprise")
            yield Label("", id="template-name-error")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        name = event.value.strip()
        if name:
            self.dismiss(name)
        else:
            self.query_one("#template-name-error", Label).update("A template needs a name")

    def action_cancel(self) -> None:
        self.dismiss(None)
