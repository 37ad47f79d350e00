"""`ctrl+l` on the lead list: the signed-in person's saved filters; enter recalls one, `d`
deletes one (pressed twice)."""

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from leadms_tui.domain.leads.saved_filters import (
    FilterCriteria,
    SavedFilterInfo,
    delete_filter,
    list_saved_filters,
)
from leadms_tui.screens.with_app import WithApp
from leadms_tui.widgets.key_footer import KeyFooter
from leadms_tui.widgets.text_table import Col, TextTable


def describe(criteria: FilterCriteria) -> str:
    """One line of what a filter narrows to: `"ana" · status new · from mon`."""
    parts = [f'"{criteria.text}"'] if criteria.text.strip() else []
    if criteria.status:
        parts.append(f"status {criteria.status.replace('_', ' ')}")
    if criteria.channel:
        parts.append(f"channel {criteria.channel.replace('_', ' ')}")
    if criteria.unassigned:
        parts.append("unassigned")
    elif criteria.owner_id is not None:
        parts.append("one rep's")
    if criteria.date_from.strip():
        parts.append(f"from {criteria.date_from.strip()}")
    if criteria.date_to.strip():
        parts.append(f"to {criteria.date_to.strip()}")
    if criteria.repeats_only:
        parts.append("repeats")
    if criteria.fields.strip():
        parts.append(criteria.fields.strip())
    return " · ".join(parts) or "every lead"


class SavedFiltersModal(WithApp, ModalScreen[FilterCriteria | None]):
    HELP_NAME = "Saved filters"
    DEFAULT_CSS = """
    SavedFiltersModal { align: center middle; }
    SavedFiltersModal > Vertical { width: 90; max-width: 100%; height: auto; max-height: 100%;
        border: round $accent; background: $surface; padding: 0 1; }
    SavedFiltersModal TextTable { height: auto; max-height: 16; }
    SavedFiltersModal #saved-filters-status { color: $text-muted; }
    """
    BINDINGS = [
        Binding("enter", "recall", "Recall", id="saved-filters.recall", priority=True),
        Binding("d,delete", "delete", "Delete", key_display="d", id="saved-filters.delete"),
        Binding("escape", "cancel", "Cancel", id="saved-filters.cancel"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._filters: dict[str, SavedFilterInfo] = {}

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("[b]Saved filters[/b] (enter recalls, d deletes, escape goes back)")
            table = TextTable(id="saved-filters", cursor_type="row", zebra_stripes=True)
            table.set_columns((Col("Name", 24, floor=10), Col("Narrows to", 58, floor=20)))
            yield table
            yield Label("Loading…", id="saved-filters-status", markup=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#saved-filters", DataTable).focus()
        self.reload()

    def reload(self) -> None:
        user_id = self.signed_in.user.id
        self.load(
            lambda session: list_saved_filters(session=session, user_id=user_id), self._show,
            group="saved-filters", description="Loading the saved filters",
        )  # fmt: skip

    def _show(self, filters: list[SavedFilterInfo]) -> None:
        self._filters = {str(f.id): f for f in filters}
        self.query_one("#saved-filters", TextTable).refill(
            [(str(f.id), (f.name, describe(f.criteria))) for f in filters]
        )
        self.query_one("#saved-filters-status", Label).update(
            f"{len(filters)} saved" if filters else "None saved yet: ctrl+s in the list saves one"
        )
        self.refresh_bindings()

    def _current(self) -> SavedFilterInfo | None:
        key = self.query_one("#saved-filters", TextTable).key_at_cursor()
        return self._filters.get(key or "")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("recall", "delete"):
            return self._current() is not None or None
        return True

    @on(DataTable.RowSelected)
    def action_recall(self) -> None:
        chosen = self._current()
        if chosen is not None:
            self.dismiss(chosen.criteria)

    def action_delete(self) -> None:
        chosen = self._current()
        if chosen is None:
            return
        if not self.asked_once(f"delete {chosen.id}", f"d again deletes {chosen.name!r}"):
            return
        name, actor = chosen.name, self.signed_in.actor
        self.commit(
            lambda s: delete_filter(s, name, actor=actor),
            lambda _none: self._deleted(name),
            group="saved-filters-delete", description="Deleting the filter",
        )  # fmt: skip

    def _deleted(self, name: str) -> None:
        self.leadms.notify(f"Filter {name!r} deleted", title="Saved filters")
        self.reload()

    def action_cancel(self) -> None:
        self.dismiss(None)
