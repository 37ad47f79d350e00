"""`ctrl+s` on the lead list: save the search and filters under a name; a name saved already
asks first (enter again replaces it)."""

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from leadms_tui import formatting
from leadms_tui.domain.errors import LeadMSError
from leadms_tui.domain.leads.saved_filters import FilterCriteria, FilterExistsError, save_filter
from leadms_tui.screens.with_app import WithApp
from leadms_tui.widgets.key_footer import KeyFooter


class SaveFilterModal(WithApp, ModalScreen[str | None]):
    """Returns what was done ("Filter 'Hot' saved"), None when cancelled."""

    HELP_NAME = "Save filter"
    DEFAULT_CSS = """
    SaveFilterModal { align: center middle; }
    SaveFilterModal > Vertical { width: 60; max-width: 100%; height: auto;
        border: round $accent; background: $surface; padding: 0 1; }
    SaveFilterModal #save-filter-about { color: $text-muted; }
    SaveFilterModal #save-filter-error { width: 100%; height: auto; color: $error; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="save-filter.cancel")]

    def __init__(self, criteria: FilterCriteria, summary: str) -> None:
        super().__init__()
        self._criteria = criteria
        self._summary = summary
        self._replacing: str | None = None  # the name enter again replaces

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("[b]Save this search and its filters[/b] (enter saves)")
            yield Label(formatting.shown(self._summary), id="save-filter-about")
            yield Input(id="save-filter-name", placeholder="Name, e.g. New website leads")
            yield Label("", id="save-filter-error", markup=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#save-filter-name", Input).focus()

    def _error(self, message: str) -> None:
        self.query_one("#save-filter-error", Label).update(formatting.shown(message))

    @on(Input.Changed)
    def _typed(self) -> None:
        self._replacing = None
        self._error("")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        name = " ".join(event.value.split())
        if not name:
            self._error("A saved filter needs a name")
            return
        replace = name == self._replacing
        criteria, actor = self._criteria, self.signed_in.actor
        self.commit(
            lambda s: save_filter(s, name, criteria, actor=actor, replace=replace),
            lambda replaced: self.dismiss(
                f"Filter {name!r} {'replaced' if replaced else 'saved'}: ctrl+l recalls it"
            ),
            group="save-filter", description="Saving the filter", refused=self._refused,
        )  # fmt: skip

    def _refused(self, error: LeadMSError) -> None:
        if isinstance(error, FilterExistsError):
            self._replacing = " ".join(self.query_one("#save-filter-name", Input).value.split())
            self._error(f"{error}: enter again replaces it, or type another name")
        else:
            self._error(str(error))

    def action_cancel(self) -> None:
        self.dismiss(None)
