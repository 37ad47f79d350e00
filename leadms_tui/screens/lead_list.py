"""`/`: the lead list. Incremental search with filters, paged from the database by keyset."""

from datetime import date

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.timer import Timer
from textual.widgets import Checkbox, DataTable, Header, Input, Label, Select

from leadms_tui import formatting
from leadms_tui.domain import clock
from leadms_tui.domain.models import Channel, LeadStatus, Role
from leadms_tui.domain.repositories.leads import LeadFilter, LeadRow, search_leads
from leadms_tui.domain.team.users import UserInfo, list_users
from leadms_tui.screens.base import LeadScreen
from leadms_tui.widgets.key_footer import KeyFooter
from leadms_tui.widgets.text_table import TextTable

PAGE_SIZE = 100
LOAD_MORE_WITHIN = 10  # rows from the bottom at which the next page is fetched
TYPING_PAUSE = 0.05  # seconds of quiet before a search runs: a paste or a burst searches once
UNASSIGNED = -1


COLUMNS = (
    ("Lead", 17), ("Name", 18), ("Phone", 15), ("Email", 18), ("Channel", 9), ("Status", 12),
    ("Owner", 9), ("Repeat of", 17), ("Created", 16),
)  # fmt: skip


class LeadListScreen(LeadScreen):
    HELP_NAME = "Lead list"
    DEFAULT_CSS = """
    LeadListScreen #search { margin: 0 1; }
    LeadListScreen #filters { height: 3; padding: 0 1; }
    LeadListScreen #filters Select { width: 22; }
    LeadListScreen #filters Input { width: 14; }
    LeadListScreen #results { height: 1fr; }
    LeadListScreen #result-count { padding: 0 1; color: $text-muted; }
    """
    BINDINGS = [
        Binding("enter", "open_lead", "Open", id="list.open", show=False),
        Binding("down", "to_results", "Results", show=False, id="list.results"),
        Binding("ctrl+f", "focus_search", "Search box", id="list.search"),
        Binding("ctrl+r", "clear_filters", "Clear filters", id="list.clear"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._rows: dict[str, LeadRow] = {}
        self._generation = 0  # results of an older search are dropped
        self._more = False
        self._loading_more = False
        self._typing: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(
            placeholder="Search: lead number, name, phone (any format) or email", id="search"
        )
        with Horizontal(id="filters"):
            yield Select(
                [(s.value.replace("_", " "), s.value) for s in LeadStatus],
                prompt="Any status",
                id="status",
            )
            yield Select(
                [(c.value.replace("_", " "), c.value) for c in Channel],
                prompt="Any channel",
                id="channel",
            )
            yield Select([("Unassigned", UNASSIGNED)], prompt="Any owner", id="owner")
            yield Input(placeholder="from date", id="date-from")
            yield Input(placeholder="to date", id="date-to")
            yield Checkbox("Repeats", id="repeats")
        yield TextTable(id="results", cursor_type="row", zebra_stripes=True)
        yield Label("", id="result-count")
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one("#results", DataTable)
        for label, width in COLUMNS:  # fixed: never measured from whatever rows came first
            table.add_column(label, width=width)
        self.query_one("#search", Input).focus()
        self._load_owners()

    # --- searching -----------------------------------------------------------

    def reload(self) -> None:
        self._search_now()

    def _filter(self) -> LeadFilter:
        def value(selector: str) -> object:
            select = self.query_one(selector, Select)
            return None if select.is_blank() else select.value

        owner = value("#owner")
        return LeadFilter(
            text=self.query_one("#search", Input).value,
            status=value("#status"),  # type: ignore[arg-type]
            channel=value("#channel"),  # type: ignore[arg-type]
            owner_id=owner if isinstance(owner, int) and owner != UNASSIGNED else None,
            unassigned=owner == UNASSIGNED,
            date_from=self._date("#date-from"),
            date_to=self._date("#date-to"),
            repeats_only=self.query_one("#repeats", Checkbox).value,
        )

    def _date(self, selector: str) -> date | None:
        text = self.query_one(selector, Input).value.strip()
        if not text:
            return None
        today = clock.business_date(clock.now(), self.leadms.settings.timezone)
        try:
            return formatting.parse_day(text, today)
        except ValueError:
            return None

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    def _criteria_changed(self) -> None:
        if self._typing is not None:
            self._typing.stop()
        self._typing = self.set_timer(TYPING_PAUSE, self._search_now)

    def _search_now(self) -> None:
        self._generation += 1
        self._fetch(self._filter(), None, self._generation)

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="lead-list",
        description="Searching leads",
    )
    def _fetch(self, where: LeadFilter, before_id: int | None, generation: int) -> None:
        with self.leadms.database.reading() as session:
            rows = search_leads(
                session=session,
                where=where,
                phone_region=self.leadms.settings.phone_region,
                before_id=before_id,
                limit=PAGE_SIZE + 1,
            )
        self.app.call_from_thread(self._show, rows, before_id is not None, generation)

    def _show(self, rows: list[LeadRow], append: bool, generation: int) -> None:
        if generation != self._generation:
            return
        self._more = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]
        table = self.query_one("#results", DataTable)
        if not append:
            table.clear()
            self._rows = {}
        tz = self.leadms.settings.timezone
        today = clock.business_date(clock.now(), tz)
        for row in rows:
            key = str(row.id)
            self._rows[key] = row
            table.add_row(
                row.number,
                row.name,
                formatting.phone(row.phone),
                row.email or "",
                row.channel,
                row.status.replace("_", " "),
                row.owner or "—",
                Text(row.repeat_of or "", style="yellow"),
                formatting.when(row.created_at, tz, today),
                key=key,
            )
        self._loading_more = False
        shown = len(self._rows)
        more = " · more below (keep scrolling)" if self._more else ""
        self.query_one("#result-count", Label).update(
            f"{shown} lead{'s' if shown != 1 else ''} shown{more}" if shown else "No lead matches"
        )
        self.refresh_bindings()

    @on(DataTable.RowHighlighted, "#results")
    def _maybe_load_more(self, event: DataTable.RowHighlighted) -> None:
        table = event.data_table
        if (
            self._more
            and not self._loading_more
            and (event.cursor_row >= table.row_count - LOAD_MORE_WITHIN)
        ):
            self._loading_more = True
            last_id = min(int(key) for key in self._rows)
            self._fetch(self._filter(), last_id, self._generation)
        self.refresh_bindings()

    @work(thread=True, exit_on_error=False, group="lead-list-owners", description="Loading reps")
    def _load_owners(self) -> None:
        with self.leadms.database.reading() as session:
            users = [u for u in list_users(session) if u.role == Role.REP]
        self.app.call_from_thread(self._show_owners, users)

    def _show_owners(self, users: list[UserInfo]) -> None:
        self.query_one("#owner", Select).set_options(
            [("Unassigned", UNASSIGNED), *((formatting.shown(u.display_name), u.id) for u in users)]
        )

    # --- the current lead and keys -------------------------------------------------

    def current_lead(self) -> tuple[int, str] | None:
        table = self.query_one("#results", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        row = self._rows.get(key or "")
        return (row.id, f"{row.number} {row.name}") if row else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "to_results":
            return not isinstance(self.focused, DataTable | Select)
        return super().check_action(action, parameters)

    @on(Input.Submitted, "#search")
    def action_to_results(self) -> None:
        self.query_one("#results", DataTable).focus()

    @on(DataTable.RowSelected, "#results")
    def _row_selected(self) -> None:
        self.action_open_lead()

    def action_focus_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_clear_filters(self) -> None:
        for select in self.query(Select):
            select.clear()
        for box in ("#date-from", "#date-to"):
            self.query_one(box, Input).value = ""
        self.query_one("#repeats", Checkbox).value = False
