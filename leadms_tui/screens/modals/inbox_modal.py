"""`i`: the notifications inbox: what the toasts said, unread first; reading marks them read."""

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from leadms_tui import formatting
from leadms_tui.domain import clock
from leadms_tui.domain.work.notifications import NotificationItem, inbox, mark_read
from leadms_tui.screens import goto
from leadms_tui.screens.with_app import WithApp
from leadms_tui.widgets.key_footer import KeyFooter
from leadms_tui.widgets.text_table import LEAD_NUMBER_WIDTH, TextTable


class InboxModal(WithApp, ModalScreen[None]):
    HELP_NAME = "Notifications"
    LIVE_TABLES = frozenset({"notifications"})
    DEFAULT_CSS = """
    InboxModal { align: center middle; }
    InboxModal > Vertical { width: 100; max-width: 100%; height: auto; max-height: 100%;
        border: round $accent; background: $surface; padding: 0 1; }
    InboxModal DataTable { height: auto; max-height: 100%; }
    """
    BINDINGS = [
        Binding("enter", "open", "Open lead", id="inbox.open"),
        Binding("r", "read", "Mark read", id="inbox.read"),
        Binding("a", "read_all", "All read", id="inbox.read-all"),
        Binding("escape,i", "dismiss", "Close", id="inbox.close"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, NotificationItem] = {}

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("", id="inbox-title")
            table = TextTable(id="inbox", cursor_type="row", zebra_stripes=True)
            table.add_column("", width=1)
            table.add_column("When", width=16)
            table.add_column("Lead", width=LEAD_NUMBER_WIDTH)
            table.add_column("Message")
            yield table
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()
        self._load()

    def reload(self) -> None:
        self._load()

    def _load(self) -> None:
        user_id = self.signed_in.user.id
        self.load(
            lambda session: inbox(session=session, user_id=user_id), self._show,
            group="inbox", description="Inbox",
        )  # fmt: skip

    def _show(self, items: list[NotificationItem]) -> None:
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        tz = self.signed_in.settings.timezone
        today = clock.business_date(clock.now(), tz)
        self.items = {str(item.id): item for item in items}
        for item in items:
            table.add_row(
                "●" if item.read_at is None else "",
                formatting.when(item.created_at, tz, today),
                item.lead_number or "",
                item.message,
                key=str(item.id),
            )
        if items:
            table.move_cursor(row=min(max(row, 0), len(items) - 1), animate=False)
        unread = sum(1 for item in items if item.read_at is None)
        self.query_one("#inbox-title", Label).update(
            f"Notifications: {unread} unread of {len(items)} (newest first)"
        )

    def _current(self) -> NotificationItem | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        return self.items.get(key or "")

    def _mark(self, ids: list[int]) -> None:
        user_id = self.signed_in.user.id
        self.commit(
            lambda s: mark_read(s, user_id, ids), lambda _: self._load(),
            group="inbox-read", description="Marking read",
        )  # fmt: skip

    def action_read(self) -> None:
        if (item := self._current()) is not None:
            self._mark([item.id])

    def action_read_all(self) -> None:
        self._mark([item.id for item in self.items.values() if item.read_at is None])

    @on(DataTable.RowSelected)
    def action_open(self) -> None:
        item = self._current()
        if item is None or item.lead_id is None:
            return
        self._mark([item.id])
        self.dismiss(None)
        self.go(goto.OpenLead(item.lead_id))
