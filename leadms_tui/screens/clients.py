"""`C`: the client list. Search by client number, name, phone or email; enter opens one."""

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Header, Input, Label

from leadms_tui import formatting
from leadms_tui.domain.queries.sales import ClientRow, list_clients
from leadms_tui.domain.sales.money import format_money
from leadms_tui.screens import goto
from leadms_tui.screens.with_app import WithApp
from leadms_tui.widgets.key_footer import KeyFooter
from leadms_tui.widgets.text_table import PHONE_WIDTH, TextTable

LIMIT = 200  # clients shown at most: the newest matches; typing narrows them
TYPING_PAUSE = 0.05  # seconds of quiet before a search runs, as in the lead list

COLUMNS = (
    ("Client", 10), ("Name", 20), ("Phone", PHONE_WIDTH), ("Status", 10), ("Owner", 9),
    ("Sales", 5), ("Value", 16), ("Open tasks", 10),
)  # fmt: skip


class ClientListScreen(WithApp, Screen[None]):
    HELP_NAME = "Clients"
    LIVE_TABLES = frozenset({"clients", "sales", "users"})
    DEFAULT_CSS = """
    ClientListScreen #client-search { margin: 0 1; }
    ClientListScreen #clients { height: 1fr; }
    ClientListScreen #client-count { padding: 0 1; color: $text-muted; }
    """
    BINDINGS = [
        Binding("enter", "open_client", "Open", show=False, id="clients.open"),
        Binding("down", "to_results", "Results", show=False, id="clients.results"),
        Binding("ctrl+f", "focus_search", "Search box", id="clients.search"),
        Binding("j", "cursor_down", "Down", show=False, id="nav.down"),
        Binding("k", "cursor_up", "Up", show=False, id="nav.up"),
        Binding("escape", "back", "Back", id="nav.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._rows: dict[str, ClientRow] = {}
        self._generation = 0  # bumped by every change of the search text
        self._shown_generation = -1
        self._open_when_shown = False  # enter was pressed before the results came
        self._typing: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(
            placeholder="Search: client number, name, phone (any format) or email",
            id="client-search",
        )
        yield TextTable(id="clients", cursor_type="row", zebra_stripes=True)
        yield Label("", id="client-count")
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one("#clients", DataTable)
        for label, width in COLUMNS:
            table.add_column(label, width=width)
        self.query_one("#client-search", Input).focus()

    def on_screen_resume(self) -> None:
        self._search_now()

    def reload(self) -> None:
        self._search_now()

    # --- searching -----------------------------------------------------------

    @on(Input.Changed, "#client-search")
    def _text_changed(self) -> None:
        self._generation += 1  # results of the text before are stale now
        if self._typing is not None:
            self._typing.stop()
        self._typing = self.set_timer(TYPING_PAUSE, self._search_now)

    def _search_now(self) -> None:
        self._fetch(self.query_one("#client-search", Input).value, self._generation)

    def _fetch(self, text: str, generation: int) -> None:
        region = self.signed_in.settings.phone_region
        self.load(
            lambda session: list_clients(
                session=session, text=text, phone_region=region, limit=LIMIT + 1
            ),
            lambda rows: self._show(rows, generation),
            group="client-list", description="Searching clients",
        )  # fmt: skip

    def _show(self, found: list[ClientRow], generation: int) -> None:
        if generation != self._generation:
            return
        self._shown_generation = generation
        rows, more = found[:LIMIT], len(found) > LIMIT
        self._rows = {str(row.id): row for row in rows}
        currency = self.signed_in.settings.currency
        self.query_one("#clients", TextTable).refill(
            [
                (
                    str(row.id),
                    (
                        row.number,
                        row.name,
                        formatting.phone(row.phone),
                        row.status,
                        row.owner or "—",
                        str(row.sales),
                        format_money(row.value, currency),
                        str(row.open_tasks) if row.open_tasks else "",
                    ),
                )
                for row in rows
            ]
        )
        if more:
            count = f"showing first {LIMIT} clients: type to narrow"
        elif rows:
            count = f"{len(rows)} client{'s' if len(rows) != 1 else ''}"
        else:
            count = "No client matches"
        self.query_one("#client-count", Label).update(count)
        self.refresh_bindings()
        if self._open_when_shown:
            self._open_when_shown = False
            self.action_open_client()

    # --- keys ------------------------------------------------------------------

    def current_client(self) -> ClientRow | None:
        return self._rows.get(self.query_one("#clients", TextTable).key_at_cursor() or "")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open_client":
            return self.current_client() is not None or None
        if action == "to_results":
            return not isinstance(self.focused, DataTable)
        return True

    @on(Input.Submitted, "#client-search")
    def _search_submitted(self) -> None:
        """Enter in the search box opens the top match, once the search for the text is in."""
        if self._shown_generation != self._generation:
            self._open_when_shown = True
        else:
            self.action_open_client()

    @on(DataTable.RowSelected, "#clients")
    def action_open_client(self) -> None:
        client = self.current_client()
        if client is not None:
            self.go(goto.OpenClient(client.id))

    def action_to_results(self) -> None:
        self.query_one("#clients", DataTable).focus()

    def action_focus_search(self) -> None:
        self.query_one("#client-search", Input).focus()

    def action_cursor_down(self) -> None:
        self.query_one("#clients", DataTable).action_cursor_down()

    def action_cursor_up(self) -> None:
        self.query_one("#clients", DataTable).action_cursor_up()

    def action_back(self) -> None:
        self.app.pop_screen()
