"""`/`: the lead list. Incremental search with filters (lead fields too: `ctrl+t`), paged from
the database by keyset; `ctrl+o` adds lead fields as columns; `ctrl+s` saves the search and
filters under a name, `ctrl+l` recalls one."""

from datetime import date

from rich.text import Text
from sqlmodel import Session
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.timer import Timer
from textual.widgets import Checkbox, DataTable, Header, Input, Label, Select
from textual.widgets.select import InvalidSelectValueError

from leadms_tui import formatting
from leadms_tui.domain import clock
from leadms_tui.domain.errors import ValidationError
from leadms_tui.domain.fields.definitions import FieldSpec, list_fields
from leadms_tui.domain.fields.values import FieldFilter, values_for
from leadms_tui.domain.leads.saved_filters import FilterCriteria
from leadms_tui.domain.live import touches
from leadms_tui.domain.models import Channel, FieldEntity, LeadStatus, Role
from leadms_tui.domain.queries.leads import LeadFilter, LeadRow, search_leads
from leadms_tui.domain.spoken_dates import parse_day
from leadms_tui.domain.team.users import UserInfo, list_users
from leadms_tui.screens import goto
from leadms_tui.screens.base import LeadScreen
from leadms_tui.screens.modals.saved_filters_modal import describe
from leadms_tui.widgets.key_footer import KeyFooter
from leadms_tui.widgets.text_table import (
    LEAD_NUMBER_WIDTH,
    PHONE_WIDTH,
    REP_WIDTH,
    Col,
    TextTable,
    fit,
)

PAGE_SIZE = 100
LOAD_MORE_WITHIN = 10  # rows from the bottom at which the next page is fetched
TYPING_PAUSE = 0.05  # seconds of quiet before a search runs: a paste or a burst searches once
UNASSIGNED = -1
FIELD_COLUMN_WIDTH = 14
FieldTexts = dict[int, dict[str, str]]  # lead id → field key → the value as it reads


# Fixed widths, never measured from whatever rows came first; what a narrow terminal drops
# first (see `Col`). Field columns (ctrl+o) come in after the phone, where they are seen.
FIRST_COLUMNS = (
    fit("Lead", LEAD_NUMBER_WIDTH),
    Col("Name", 18, floor=10),
    fit("Phone", PHONE_WIDTH),
)
LAST_COLUMNS = (
    Col("Email", 18, drop=3, floor=10), Col("Channel", 9, drop=4), Col("Status", 12, floor=8),
    fit("Owner", REP_WIDTH, drop=2), fit("Repeat of", LEAD_NUMBER_WIDTH, drop=6),
    Col("Created", 16, drop=5, floor=9),
)  # fmt: skip


class LeadListScreen(LeadScreen):
    HELP_NAME = "Lead list"
    LIVE_TABLES = frozenset({"leads", "field_values", "users"})
    DEFAULT_CSS = """
    LeadListScreen #search { margin: 0 1; }
    LeadListScreen #filters { height: 3; padding: 0 1; }
    LeadListScreen #filters Select { width: 22; }
    LeadListScreen #filters Input { width: 14; }
    LeadListScreen #results { height: 1fr; }
    LeadListScreen #result-count { padding: 0 1; color: $text-muted; }
    LeadListScreen #field-filter { margin: 0 1; display: none; }
    LeadListScreen #field-filter.-open { display: block; }
    LeadListScreen #field-filter-error { padding: 0 1; color: $error; display: none; }
    LeadListScreen #field-filter-error.-shown { display: block; }
    """
    BINDINGS = [
        Binding("enter", "open_lead", "Open", id="list.open", show=False),
        Binding("down", "to_results", "Results", show=False, id="list.results"),
        Binding("ctrl+f", "focus_search", "Search box", id="list.search"),
        Binding("ctrl+r", "clear_filters", "Clear filters", id="list.clear"),
        Binding("ctrl+t", "field_filter", "Field filter", id="list.field-filter"),
        Binding("ctrl+o", "field_columns", "Field columns", id="list.field-columns"),
        Binding("ctrl+s", "save_filter", "Save filter", id="list.save-filter"),
        Binding("ctrl+l", "saved_filters", "Saved filters", id="list.saved-filters"),
    ]

    def __init__(self, where: LeadFilter | None = None) -> None:
        super().__init__()
        self._preset = where or LeadFilter()  # from a report: its owner and dates, pre-filled
        self._rows: dict[str, LeadRow] = {}
        self._generation = 0  # results of an older search are dropped
        self._more = False
        self._loading_more = False
        self._typing: Timer | None = None
        self._where = LeadFilter()  # of the page shown: the next page uses it too
        self._lead_fields: list[FieldSpec] = []  # the active lead fields
        self._columns: tuple[str, ...] = ()  # lead field keys shown as extra columns

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
            yield Input(str(self._preset.date_from or ""), placeholder="from date", id="date-from")
            yield Input(str(self._preset.date_to or ""), placeholder="to date", id="date-to")
            yield Checkbox("Repeats", id="repeats")
        yield Input(
            placeholder="Field filter: budget>=100; goal=Strength,Rehab; "
            f"trial_date={formatting.example_date(1)}..{formatting.example_date(30)}; notes~roof",
            id="field-filter",
        )
        yield Label("", id="field-filter-error", markup=False)
        yield TextTable(id="results", cursor_type="row", zebra_stripes=True)
        yield Label("", id="result-count")
        yield KeyFooter()

    def on_mount(self) -> None:
        self._add_columns()
        self.query_one("#search", Input).focus()
        self._load_owners()
        self._load_fields()

    def _add_columns(self) -> None:
        labels = {f.key: f.label for f in self._lead_fields}
        fields = tuple(Col(labels[key], FIELD_COLUMN_WIDTH, floor=8) for key in self._columns)
        self.query_one("#results", TextTable).set_columns(FIRST_COLUMNS + fields + LAST_COLUMNS)

    # --- searching -----------------------------------------------------------

    def reload(self) -> None:
        self._search_now()

    def data_changed(self, changes: frozenset[str]) -> None:
        """Another terminal wrote: the rows shown (every page scrolled through) again, with
        the search box, the cursor and the scroll position as they are."""
        if touches(changes, self.LIVE_TABLES) and self._typing is None:
            self._generation += 1
            shown = max(PAGE_SIZE, len(self._rows))
            self._fetch(self._where, None, self._generation, self._columns, shown)

    def _filter(self) -> LeadFilter:
        def value(selector: str) -> object:
            select = self.query_one(selector, Select)
            return None if select.is_blank() else select.value

        owner = value("#owner") or self._preset.owner_id  # the preset until the reps load
        return LeadFilter(
            text=self.query_one("#search", Input).value,
            status=value("#status"),  # type: ignore[arg-type]
            channel=value("#channel"),  # type: ignore[arg-type]
            owner_id=owner if isinstance(owner, int) and owner != UNASSIGNED else None,
            unassigned=owner == UNASSIGNED,
            date_from=self._date("#date-from"),
            date_to=self._date("#date-to"),
            repeats_only=self.query_one("#repeats", Checkbox).value,
            fields=self._field_filters(),
        )

    def _field_filters(self) -> tuple[FieldFilter, ...]:
        """`budget>=100; goal=Strength`: a ValidationError says what does not read."""
        text = self.query_one("#field-filter", Input).value
        return tuple(FieldFilter.parse(part) for part in text.split(";") if part.strip())

    def _filter_error(self, message: str) -> None:
        error = self.query_one("#field-filter-error", Label)
        error.update(formatting.shown(message))
        error.set_class(bool(message), "-shown")

    def _date(self, selector: str) -> date | None:
        text = self.query_one(selector, Input).value.strip()
        if not text:
            return None
        today = clock.business_date(clock.now(), self.signed_in.settings.timezone)
        try:
            return parse_day(text, today, window=clock.historic_day)
        except ValidationError:
            return None

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    def _criteria_changed(self) -> None:
        if self._typing is not None:
            self._typing.stop()
        self._typing = self.set_timer(TYPING_PAUSE, self._search_now)

    def _search_now(self) -> None:
        self._typing = None
        try:
            self._where = self._filter()
        except ValidationError as exc:
            self._filter_error(str(exc))  # the results stay as they were
            return
        self._filter_error("")
        self._generation += 1
        self._fetch(self._where, None, self._generation, self._columns)

    def _fetch(
        self,
        where: LeadFilter,
        before_id: int | None,
        generation: int,
        columns: tuple[str, ...],
        page_size: int = PAGE_SIZE,
    ) -> None:
        region, viewer = self.signed_in.settings.phone_region, self.signed_in.actor

        def query(session: Session) -> tuple[list[LeadRow], FieldTexts]:
            rows = search_leads(
                session=session,
                where=where,
                phone_region=region,
                viewer=viewer,
                before_id=before_id,
                limit=page_size + 1,
            )
            texts: FieldTexts = {}
            if columns and rows:  # the fields of this page only, in one query
                ids = [row.id for row in rows[:page_size]]
                found = values_for(session, FieldEntity.LEAD, ids)
                texts = {i: {f.key: f.text for f in found[i]} for i in ids}
            return rows, texts

        self.load(
            query,
            lambda found: self._show(
                found[0], before_id is not None, generation, found[1], page_size
            ),
            # a page more is its own group: it leaves a new search (newer generation) running
            group="lead-list" if before_id is None else "lead-list-more",
            description="Searching leads",
            # a field filter the fields cannot answer
            refused=lambda exc: self._refused(str(exc), generation), refuses=ValidationError,
        )  # fmt: skip

    def _refused(self, message: str, generation: int) -> None:
        if generation == self._generation:
            self._filter_error(message)
            self._loading_more = False

    def _show(
        self,
        rows: list[LeadRow],
        append: bool,
        generation: int,
        texts: FieldTexts,
        page_size: int = PAGE_SIZE,
    ) -> None:
        if generation != self._generation:
            return
        self._more = len(rows) > page_size
        rows = rows[:page_size]
        table = self.query_one("#results", TextTable)
        if not append:
            self._rows = {}
        tz = self.signed_in.settings.timezone
        today = clock.business_date(clock.now(), tz)
        lines = []
        for row in rows:
            key = str(row.id)
            self._rows[key] = row
            cells = (
                row.number,
                row.name,
                formatting.phone(row.phone),
                *(texts.get(row.id, {}).get(column, "") for column in self._columns),
                row.email or "",
                row.channel,
                row.status.replace("_", " "),
                row.owner or "—",
                Text(row.repeat_of or "", style="yellow"),
                formatting.when(row.created_at, tz, today),
            )
            lines.append((key, cells))
        if append:
            for key, cells in lines:
                table.add_row(*cells, key=key)
        else:
            table.refill(lines)
        self._loading_more = False
        shown = len(self._rows)
        more = " · more below (keep scrolling)" if self._more else ""
        self.query_one("#result-count", Label).update(
            f"{shown} lead{'s' if shown != 1 else ''} shown, newest first{more}"
            if shown
            else "No lead matches"
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
            self._fetch(self._where, last_id, self._generation, self._columns)
        self.refresh_bindings()

    def _load_owners(self) -> None:
        preset = self._preset.owner_id
        self.load(
            lambda session: [
                u for u in list_users(session) if u.role == Role.REP or u.id == preset
            ],
            self._show_owners, group="lead-list-owners", description="Loading reps",
        )  # fmt: skip

    def _show_owners(self, users: list[UserInfo]) -> None:
        owner = self.query_one("#owner", Select)
        owner.set_options(
            [("Unassigned", UNASSIGNED), *((formatting.shown(u.display_name), u.id) for u in users)]
        )
        if self._preset.owner_id is not None:
            owner.value, self._preset = self._preset.owner_id, LeadFilter()

    def _load_fields(self) -> None:
        self.load(
            lambda session: list_fields(session, FieldEntity.LEAD), self._show_fields,
            group="lead-list-fields", description="Loading fields",
        )  # fmt: skip

    def _show_fields(self, fields: list[FieldSpec]) -> None:
        self._lead_fields = fields
        active = {f.key for f in fields}
        columns = tuple(key for key in self.leadms.lead_list_fields if key in active)
        if columns != self._columns:  # chosen earlier this session
            self._set_columns(columns)
        self.refresh_bindings()

    def _set_columns(self, columns: tuple[str, ...]) -> None:
        self._columns = columns
        self._generation += 1  # a page fetched for the old columns no longer fits
        self._add_columns()
        self._search_now()

    def action_field_filter(self) -> None:
        box = self.query_one("#field-filter", Input)
        box.add_class("-open")
        box.focus()

    def action_field_columns(self) -> None:
        def chosen(keys: list[str] | None) -> None:
            if keys is not None:
                self.leadms.lead_list_fields = keys  # remembered for the session
                self._set_columns(tuple(keys))

        self.go(goto.PickColumns(self._lead_fields, list(self._columns), chosen))

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
        if action in ("field_filter", "field_columns"):
            return bool(self._lead_fields)  # False: out of the footer while no field exists
        return super().check_action(action, parameters)

    @on(Input.Submitted, "#search, #field-filter")
    def action_to_results(self) -> None:
        self.query_one("#results", DataTable).focus()

    @on(DataTable.RowSelected, "#results")
    def _row_selected(self) -> None:
        self.action_open_lead()

    def action_focus_search(self) -> None:
        self.query_one("#search", Input).focus()

    # --- saved filters ---------------------------------------------------------------

    def _criteria(self) -> FilterCriteria:
        """The search box and filters as typed and chosen (what a saved filter keeps)."""

        def value(selector: str) -> object:
            select = self.query_one(selector, Select)
            return None if select.is_blank() else select.value

        owner = value("#owner")
        status, channel = value("#status"), value("#channel")
        return FilterCriteria(
            text=self.query_one("#search", Input).value,
            status=status if isinstance(status, str) else None,
            channel=channel if isinstance(channel, str) else None,
            owner_id=owner if isinstance(owner, int) and owner != UNASSIGNED else None,
            unassigned=owner == UNASSIGNED,
            date_from=self.query_one("#date-from", Input).value.strip(),
            date_to=self.query_one("#date-to", Input).value.strip(),
            repeats_only=self.query_one("#repeats", Checkbox).value,
            fields=self.query_one("#field-filter", Input).value.strip(),
        )

    def action_save_filter(self) -> None:
        def saved(message: str | None) -> None:
            if message is not None:
                self.leadms.notify(message, title="Saved filters")

        criteria = self._criteria()
        self.go(goto.SaveFilter(criteria, describe(criteria), then=saved))

    def action_saved_filters(self) -> None:
        self.go(goto.PickSavedFilter(then=self._recall))

    def _recall(self, criteria: FilterCriteria | None) -> None:
        """Fill the boxes as they were saved; the search runs once they changed."""
        if criteria is None:
            return
        self.query_one("#search", Input).value = criteria.text
        for selector, chosen in (("#status", criteria.status), ("#channel", criteria.channel)):
            select = self.query_one(selector, Select)
            if chosen is None:
                select.clear()
            else:
                select.value = chosen
        owner = self.query_one("#owner", Select)
        wanted = UNASSIGNED if criteria.unassigned else criteria.owner_id
        if wanted is None:
            owner.clear()
        else:
            try:
                owner.value = wanted
            except InvalidSelectValueError:  # the reps still loading, or no longer a rep
                self._preset = LeadFilter(owner_id=wanted)
                self._load_owners()
        self.query_one("#date-from", Input).value = criteria.date_from
        self.query_one("#date-to", Input).value = criteria.date_to
        self.query_one("#repeats", Checkbox).value = criteria.repeats_only
        box = self.query_one("#field-filter", Input)
        box.value = criteria.fields
        box.set_class(bool(criteria.fields) or box.has_class("-open"), "-open")
        self._criteria_changed()

    def action_clear_filters(self) -> None:
        for select in self.query(Select):
            select.clear()
        for box in ("#date-from", "#date-to"):
            self.query_one(box, Input).value = ""
        self.query_one("#repeats", Checkbox).value = False
        self.query_one("#field-filter", Input).value = ""
