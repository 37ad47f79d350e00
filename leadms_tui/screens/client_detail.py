"""One client: contact, account manager, status, its fields, sales with commission, onboarding
and leads."""

from dataclasses import dataclass
from datetime import date

from rich.text import Text
from sqlmodel import Session
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from leadms_tui import formatting
from leadms_tui.domain import clock
from leadms_tui.domain.models import Client, FieldEntity, TaskState
from leadms_tui.domain.queries.sales import (
    ClientDetail,
    SaleLine,
    TaskRow,
    load_client_detail,
)
from leadms_tui.domain.sales.money import format_money
from leadms_tui.domain.text import visible
from leadms_tui.screens import goto
from leadms_tui.screens.field_files import FILE_BINDINGS, OpensFiles
from leadms_tui.widgets.field_view import FieldsPanel, LoadedFields, load_fields
from leadms_tui.widgets.fitted import Fitted
from leadms_tui.widgets.key_footer import KeyFooter
from leadms_tui.widgets.text_table import LEAD_NUMBER_WIDTH, TextTable

OPEN_STATES = (TaskState.OPEN, TaskState.MISSED)
STATE_STYLE = {
    TaskState.MISSED: "bold red",
    TaskState.DONE: "green",
    TaskState.SKIPPED: "dim",
    TaskState.CANCELLED: "dim strike",
}
SALE_COLUMNS = (
    ("Sold", 10), ("Lead", LEAD_NUMBER_WIDTH), ("Product", 10), ("Value", 14), ("Plan", 10),
    ("Commission", 12), ("Shares", 44),
)  # fmt: skip
TASK_COLUMNS = (("Due", 17), ("Task", 22), ("Owner", 9), ("State", 9), ("Finished", 16))
LEAD_COLUMNS = (("Lead", LEAD_NUMBER_WIDTH), ("Status", 12), ("Created", 16))


@dataclass(frozen=True)
class ClientLoaded:
    detail: ClientDetail
    fields: LoadedFields
    version: int


class ClientDetailScreen(OpensFiles, Screen[None]):
    HELP_NAME = "Client detail"
    LIVE_TABLES = frozenset(
        {"clients", "sales", "commissions", "onboarding_tasks", "field_values", "leads", "users"}
    )
    DEFAULT_CSS = """
    ClientDetailScreen #client-info { height: auto; padding: 0 1; }
    ClientDetailScreen DataTable { height: auto; max-height: 12;
        border: round $panel; border-title-color: $text; border-title-style: bold; }
    ClientDetailScreen DataTable:focus { border: round $accent; border-title-color: $text-accent; }
    ClientDetailScreen FieldsPanel { border: round $panel; padding: 0 1;
        border-title-color: $text; border-title-style: bold; }
    """
    BINDINGS = [
        Binding("s", "status", "Status", id="client.status"),
        Binding("e", "edit_fields", "Edit fields", id="client.edit-fields"),
        *FILE_BINDINGS,
        Binding("d", "finish_task('done')", "Task done", id="client.task-done"),
        Binding("x", "finish_task('skipped')", "Skip task", id="client.task-skip"),
        Binding("enter", "open_lead", "Open lead", show=False, id="client.open-lead"),
        Binding("r", "reload", "Refresh", id="client.refresh"),
        Binding("j", "cursor_down", "Down", show=False, id="nav.down"),
        Binding("k", "cursor_up", "Up", show=False, id="nav.up"),
        Binding("escape", "back", "Back", id="nav.back"),
    ]

    def __init__(self, client_id: int) -> None:
        super().__init__()
        self.client_id = client_id
        self.detail: ClientDetail | None = None
        self.fields = LoadedFields()
        self.version = 0  # the client's, when its fields were read
        self._tasks: dict[str, TaskRow] = {}
        self._lead_ids: dict[str, int] = {}  # lead number -> id, for the sales and leads tables

    def compose(self) -> ComposeResult:
        yield Header()
        yield Fitted("Loading…", id="client-info")
        with VerticalScroll():
            panel = FieldsPanel()
            panel.border_title = "Fields"
            yield panel
            for key, title, columns in (
                ("tasks", "Onboarding", TASK_COLUMNS),
                ("sales", "Sales", SALE_COLUMNS),
                ("leads", "Leads", LEAD_COLUMNS),
            ):
                table = TextTable(id=key, cursor_type="row", zebra_stripes=True)
                table.border_title = title
                for label, width in columns:
                    table.add_column(label, width=width)
                yield table
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#tasks", DataTable).focus()

    def on_screen_resume(self) -> None:
        self.reload()

    @property
    def takes_keys(self) -> bool:
        """Keys typed while the client loads wait for it (see LeadMSApp.on_event)."""
        return self.detail is not None

    # --- loading ---------------------------------------------------------------

    def reload(self) -> None:
        viewer = self.signed_in.actor

        def query(session: Session) -> ClientLoaded:
            detail = load_client_detail(session=session, client_id=self.client_id)
            fields = load_fields(session, FieldEntity.CLIENT, self.client_id, viewer)
            version = session.get(Client, self.client_id).version  # type: ignore[union-attr]
            return ClientLoaded(detail, fields, version)

        self.load(query, self._show, group="client-detail", description="Loading the client")

    def action_reload(self) -> None:
        self.reload()

    def _show(self, message: ClientLoaded) -> None:
        self.detail = detail = message.detail
        self.fields, self.version = message.fields, message.version
        self.query_one(FieldsPanel).show(message.fields)
        tz = self.signed_in.settings.timezone
        today = clock.business_date(clock.now(), tz)
        self._show_info(detail)
        self._show_tasks(detail.tasks, today)
        self._show_sales(detail.sales)
        self._lead_ids = dict(zip((n for n, _, _ in detail.leads), detail.lead_ids, strict=True))
        leads = self.query_one("#leads", TextTable)
        leads.border_title = f"Leads ({len(detail.leads)})"
        leads.refill(
            [
                (number, (number, status.replace("_", " "), formatting.when(at, tz, today)))
                for number, status, at in detail.leads
            ]
        )
        self.sub_title = visible(f"{detail.row.number} · {detail.row.name}")
        self.refresh_bindings()

    def _show_info(self, detail: ClientDetail) -> None:
        row, shown = detail.row, formatting.shown
        settings = self.signed_in.settings
        since = formatting.local(detail.created_at, settings.timezone)
        value = format_money(row.value, settings.currency)
        finished, total = _progress(detail.tasks)
        live = sum(1 for sale in detail.sales if not sale.reversed)
        info = Text.assemble(
            (row.number, "bold"), "  ", shown(row.name, style="bold"),
            "  ", (row.status, "bold reverse"),
            "\nPhone ", shown(formatting.phone(row.phone) or "—"),
            " · Email ", shown(row.email or "—"),
            " · Account manager ", shown(row.owner or "none"),
            f"\nClient since {since:%Y-%m-%d} · {live} sale{'s' if live != 1 else ''} · {value}",
            f" · onboarding {finished}/{total} done" if total else "",
        )  # fmt: skip
        self.query_one("#client-info", Static).update(info)

    def _show_tasks(self, tasks: list[TaskRow], today: date) -> None:
        table = self.query_one("#tasks", TextTable)
        finished, total = _progress(tasks)
        table.border_title = f"Onboarding ({finished}/{total} done)" if total else "Onboarding"
        tz = self.signed_in.settings.timezone
        self._tasks = {str(task.id): task for task in tasks}
        rows = []
        for task in tasks:
            state = TaskState(task.state)
            rows.append(
                (
                    str(task.id),
                    (
                        task_due(task, today),
                        task.title,
                        task.owner or "—",
                        Text(state.value, style=STATE_STYLE.get(state, "")),
                        formatting.when(task.done_at, tz, today) if task.done_at else "",
                    ),
                )
            )
        table.refill(rows)

    def _show_sales(self, sales: list[SaleLine]) -> None:
        table = self.query_one("#sales", TextTable)
        table.border_title = f"Sales ({len(sales)})"
        currency = self.signed_in.settings.currency
        rows = []
        for sale in sales:
            style = "dim strike" if sale.reversed else ""
            shares = Text(style="dim" if sale.reversed else "")
            if sale.reversed:
                shares.append("REVERSED ", style="bold red")
            for index, (_id, user, share, amount, state) in enumerate(sale.commissions):
                shares.append("; " if index else "")
                shares.append_text(formatting.shown(user))
                shares.append(f" {share.normalize():f}% {format_money(amount, currency)} {state}")
            rows.append(
                (
                    str(sale.id),
                    (
                        Text(f"{sale.sold_on:%Y-%m-%d}", style=style),
                        Text(sale.lead_number, style=style),
                        formatting.shown(sale.product or "", style=style),
                        Text(format_money(sale.value, sale.currency), style=style),
                        formatting.shown(sale.commission_plan or "none", style=style),
                        Text(format_money(sale.commission_total, sale.currency), style=style),
                        shares,
                    ),
                )
            )
        table.refill(rows)

    # --- writes ----------------------------------------------------------------

    def current_task(self) -> TaskRow | None:
        table = self.focused
        if not isinstance(table, DataTable) or table.id != "tasks":
            return None
        return self._tasks.get(table.key_at_cursor() or "")

    def action_finish_task(self, state: str) -> None:
        task = self.current_task()
        if task is not None and task.state in OPEN_STATES:
            self._finish_task(task.id, TaskState(state))

    def _finish_task(self, task_id: int, state: TaskState) -> None:
        from leadms_tui.domain.sales.onboarding import finish_task

        actor = self.signed_in.actor
        self.commit(
            lambda s: finish_task(s, task_id, state, actor=actor).title,
            lambda title: self._changed(f"{title}: {state.value}"),
            group="client-write", description="Finishing the task",
        )  # fmt: skip

    def action_status(self) -> None:
        if self.detail is None:
            return
        number, status = self.detail.row.number, self.detail.row.status

        def chosen(new: str | None) -> None:
            if new is not None and new != status:
                self._set_status(new, number)

        self.go(goto.PickClientStatus(number, status, chosen))

    def _set_status(self, status: str, number: str) -> None:
        from leadms_tui.domain.sales.clients import set_client_status

        actor = self.signed_in.actor
        self.commit(
            lambda s: set_client_status(s, self.client_id, status, actor=actor, at=clock.now()),
            lambda _: self._changed(f"{number} is now {status}"),
            group="client-write", description="Changing the status",
        )  # fmt: skip

    def action_edit_fields(self) -> None:
        if self.detail is None or not self.fields.fields:
            return
        title = f"{self.detail.row.number} {self.detail.row.name}"
        fields = self.fields.fields
        edit = goto.EditFields(FieldEntity.CLIENT, self.client_id, title, fields, self.version)
        self.go(edit)  # back on this screen, it reloads

    def _changed(self, done: str) -> None:
        """A write went through: say what it did, then show the client again."""
        self.notify(done, title="Saved")
        self.reload()

    # --- keys ------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "finish_task":
            task = self.current_task()
            return (task is not None and task.state in OPEN_STATES) or None
        if action == "status":
            return self.detail is not None or None
        if action == "edit_fields":  # False: out of the footer while no client field exists
            return bool(self.fields.fields)
        if action in ("open_file", "save_file"):
            return self.has_files()
        if action == "open_lead":
            return self._lead_under_cursor() is not None or None
        return True

    def _lead_under_cursor(self) -> int | None:
        table = self.focused
        if not isinstance(table, DataTable) or table.id not in ("leads", "sales"):
            return None
        key = table.key_at_cursor()
        if key is None:
            return None
        number = key if table.id == "leads" else str(table.get_row(key)[1])
        return self._lead_ids.get(number)

    @on(DataTable.RowSelected, "#leads, #sales")
    def action_open_lead(self) -> None:
        lead_id = self._lead_under_cursor()
        if lead_id is not None:
            self.go(goto.OpenLead(lead_id))

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        self.refresh_bindings()

    def action_cursor_down(self) -> None:
        if isinstance(self.focused, DataTable):
            self.focused.action_cursor_down()

    def action_cursor_up(self) -> None:
        if isinstance(self.focused, DataTable):
            self.focused.action_cursor_up()

    def action_back(self) -> None:
        self.app.pop_screen()


def task_due(task: TaskRow, today: date) -> Text:
    """ "today", "Fri 27 Nov", "2027-01-07"; "MISSED Mon 23 Nov", in red while still open."""
    if task.due_on == today:
        when = "today"
    else:
        when = f"{task.due_on:%a %d %b}" if task.due_on.year == today.year else f"{task.due_on}"
    late = task.state in OPEN_STATES and task.due_on < today
    missed = "MISSED " if task.state == TaskState.MISSED else ""
    return Text(missed + when, style="bold red" if late else "")


def _progress(tasks: list[TaskRow]) -> tuple[int, int]:
    """(done or skipped, all but cancelled): "2/3 done"."""
    counted = [t for t in tasks if t.state != TaskState.CANCELLED]
    finished = sum(1 for t in counted if t.state in (TaskState.DONE, TaskState.SKIPPED))
    return finished, len(counted)
