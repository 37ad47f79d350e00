"""`$`: a month's commissions for payroll (managers and admins): approve, mark paid, totals.
Two people: a commission of one's own, or of one's conversion of another's lead (⚑), shows
its approve or pay key greyed with the reason under the table."""

from collections import defaultdict
from datetime import date
from decimal import Decimal

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Header, Label

from leadms_tui.domain import clock
from leadms_tui.domain.models import CommissionState
from leadms_tui.domain.queries.sales import CommissionRow, list_commissions
from leadms_tui.domain.sales.commission import (
    month_bounds,
    move_commissions,
    two_people_refusal,
)
from leadms_tui.domain.sales.money import round_money
from leadms_tui.screens.with_app import WithApp
from leadms_tui.widgets.key_footer import KeyFooter
from leadms_tui.widgets.text_table import LEAD_NUMBER_WIDTH, TextTable

# Fixed widths: what payroll needs (who, when, what is owed, its state) fits 80 columns
COLUMNS = (
    ("Rep", 10), ("Sold on", 7), ("Client", 9), ("Amount", 10), ("State", 8), ("Share", 5),
    ("Value", 12), ("Lead", LEAD_NUMBER_WIDTH), ("Product", 12),
)  # fmt: skip
TOTAL_COLUMNS = (("Rep", 10), ("Shares", 6), ("Pending", 10), ("Approved", 10), ("Paid", 10),
                 ("Total", 12))  # fmt: skip
STATE_STYLE = {"pending": "yellow", "approved": "cyan", "paid": "green", "void": "dim strike"}
COUNTED = ("pending", "approved", "paid")  # void shares are not owed


class CommissionsScreen(WithApp, Screen[None]):
    HELP_NAME = "Commissions"
    LIVE_TABLES = frozenset({"commissions", "sales"})
    DEFAULT_CSS = """
    CommissionsScreen #month-title { height: 1; padding: 0 1; background: $boost;
        width: 100%; text-style: bold; }
    CommissionsScreen DataTable { border: round $panel; border-title-color: $text; }
    CommissionsScreen DataTable:focus { border: round $accent; border-title-color: $text-accent; }
    CommissionsScreen #commissions { height: 1fr; }
    CommissionsScreen #totals { height: auto; max-height: 10; }
    CommissionsScreen #month-total { padding: 0 1; height: auto; }
    CommissionsScreen #row-note { padding: 0 1; height: auto; color: $warning; }
    """
    BINDINGS = [
        Binding("left_square_bracket", "shift_month(-1)", "Prev month", key_display="[",
                id="commissions.prev"),
        Binding("right_square_bracket", "shift_month(1)", "Next month", key_display="]",
                id="commissions.next"),
        Binding("a", "approve", "Approve", id="commissions.approve"),
        Binding("A", "approve_all", "Approve all pending", key_display="A",
                id="commissions.approve-all"),
        Binding("p", "pay", "Mark paid", id="commissions.pay"),
        Binding("r", "reload", "Refresh", id="commissions.refresh"),
        Binding("j", "cursor_down", "Down", show=False, id="nav.down"),
        Binding("k", "cursor_up", "Up", show=False, id="nav.up"),
        Binding("escape", "back", "Back", id="commissions.back"),
    ]  # fmt: skip

    def __init__(self) -> None:
        super().__init__()
        self.month = date.min  # the first of the month shown; set on mount
        self._rows: dict[str, CommissionRow] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield Label("", id="month-title")
        table = TextTable(id="commissions", cursor_type="row", zebra_stripes=True)
        table.border_title = "Commissions by rep"
        for label, width in COLUMNS:
            table.add_column(label, width=width)
        yield table
        yield Label("", id="row-note", markup=False)  # why a key is greyed for this row
        totals = TextTable(id="totals", cursor_type="none", show_cursor=False)
        totals.border_title = "Totals by rep (void not counted)"
        for label, width in TOTAL_COLUMNS:
            totals.add_column(label, width=width)
        yield totals
        yield Label("", id="month-total", markup=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        today = clock.business_date(clock.now(), self.signed_in.settings.timezone)
        self.month = today.replace(day=1)
        self.query_one("#commissions", DataTable).focus()

    def on_screen_resume(self) -> None:
        self.reload()

    # --- loading -----------------------------------------------------------------

    def reload(self) -> None:
        if self.month == date.min:
            return  # not mounted yet: on_mount picks the month
        self.query_one("#month-title", Label).update(f"Commissions — {self.month:%B %Y}")
        self._load(self.month)

    def action_reload(self) -> None:
        self.reload()

    def _load(self, month: date) -> None:
        start, end = month_bounds(f"{month:%Y-%m}")
        viewer = self.signed_in.actor
        self.load(
            lambda session: list_commissions(session=session, start=start, end=end, viewer=viewer),
            lambda rows: self._show(month, rows),
            group="commissions", description="Loading the commissions",
        )  # fmt: skip

    def _show(self, month: date, rows: list[CommissionRow]) -> None:
        if month != self.month:
            return  # the manager already moved on to another month
        currency = self.signed_in.settings.currency
        self._rows = {str(row.id): row for row in rows}
        self.query_one("#commissions", TextTable).refill(
            [
                (
                    str(row.id),
                    (
                        Text(f"⚑ {row.rep}", style="bold") if row.parties.marked else row.rep,
                        f"{row.sold_on:%a %d}",  # the month is in the title
                        row.client_number,
                        _money(row.amount, row.currency, currency),
                        Text(str(row.state), style=STATE_STYLE.get(row.state, "")),
                        Text(f"{row.share.normalize():f}%", justify="right"),
                        _money(row.value, row.currency, currency),
                        row.lead_number,
                        row.product or "—",
                    ),
                )
                for row in rows
            ]
        )
        self._show_totals(rows, currency)
        self.refresh_bindings()

    def _show_totals(self, rows: list[CommissionRow], currency: str) -> None:
        by_rep: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        shares: dict[str, int] = defaultdict(int)
        for row in rows:
            if row.state in COUNTED:
                by_rep[row.rep][row.state] += row.amount
                shares[row.rep] += 1
        totals = self.query_one("#totals", DataTable)
        totals.clear()
        month: dict[str, Decimal] = defaultdict(Decimal)
        for rep, amounts in by_rep.items():
            for state in COUNTED:
                month[state] += amounts[state]
            totals.add_row(
                rep,
                Text(str(shares[rep]), justify="right"),
                *(_money(amounts[state], currency, currency) for state in COUNTED),
                _money(sum(amounts.values(), Decimal(0)), currency, currency),
            )
        whole = sum(month.values(), Decimal(0))
        parts = " · ".join(f"{state} {round_money(month[state], currency):,}" for state in COUNTED)
        self.query_one("#month-total", Label).update(
            f"{self.month:%B %Y}: {round_money(whole, currency):,} {currency} ({parts})"
        )

    # --- the row under the cursor and the keys --------------------------------------

    def _cursor_key(self) -> str | None:
        return self.query_one("#commissions", TextTable).key_at_cursor()

    def _current(self) -> CommissionRow | None:
        return self._rows.get(self._cursor_key() or "")

    def _refusal(self, row: CommissionRow, to: CommissionState) -> str | None:
        return two_people_refusal(row.parties, to, self.signed_in.actor)

    def _pending(self) -> list[int]:
        """The pending commissions this user may approve (not their own, not their ⚑)."""
        return [
            row.id
            for row in self._rows.values()
            if row.state == CommissionState.PENDING
            and self._refusal(row, CommissionState.APPROVED) is None
        ]

    def _next_move(self, row: CommissionRow | None) -> CommissionState | None:
        if row is None:
            return None
        return {"pending": CommissionState.APPROVED, "approved": CommissionState.PAID}.get(
            str(row.state)
        )

    @on(DataTable.RowHighlighted, "#commissions")
    def _moved_cursor(self) -> None:
        current = self._current()
        to = self._next_move(current)
        note = self._refusal(current, to) if current is not None and to is not None else None
        if note is None and current is not None and current.parties.marked:
            note = "⚑ the converting user took a share of another's lead: a second manager approves"
        self.query_one("#row-note", Label).update(note or "")
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        current = self._current()
        if action in ("approve", "pay"):
            to = CommissionState.APPROVED if action == "approve" else CommissionState.PAID
            if current is None or self._next_move(current) != to:
                return None
            return self._refusal(current, to) is None or None
        if action == "approve_all":
            return bool(self._pending()) or None
        return True

    def action_shift_month(self, months: int) -> None:
        index = self.month.year * 12 + self.month.month - 1 + months
        self.month = date(index // 12, index % 12 + 1, 1)
        self._rows = {}
        self.refresh_bindings()
        self.reload()

    # Approving and paying are payroll: no undo, so each asks once.
    def action_approve(self) -> None:
        current = self._current()
        if current is not None and self.asked_once(
            f"approve {current.id}", "a again approves this commission"
        ):
            self._move([current.id], CommissionState.APPROVED)

    def action_approve_all(self) -> None:
        pending = self._pending()
        if pending and self.asked_once(
            f"approve {pending}", f"A again approves all {len(pending)} pending"
        ):
            self._move(pending, CommissionState.APPROVED)

    def action_pay(self) -> None:
        current = self._current()
        if current is not None and self.asked_once(
            f"pay {current.id}", "p again marks this commission paid"
        ):
            self._move([current.id], CommissionState.PAID)

    def _move(self, ids: list[int], to: CommissionState) -> None:
        actor = self.signed_in.actor
        self.commit(
            lambda session: move_commissions(session, ids, to, actor=actor),
            lambda count: self._moved(count, to),
            group="commissions-move", description="Updating the commissions",
        )  # fmt: skip

    def _moved(self, count: int, to: CommissionState) -> None:
        plural = "" if count == 1 else "s"
        self.app.notify(f"{count} commission{plural} {to.value}")
        self.reload()

    def action_cursor_down(self) -> None:
        self.query_one("#commissions", DataTable).action_cursor_down()

    def action_cursor_up(self) -> None:
        self.query_one("#commissions", DataTable).action_cursor_up()

    def action_back(self) -> None:
        self.app.pop_screen()


def _money(amount: Decimal, currency: str, team_currency: str) -> Text:
    """1,234.50 right-aligned; the currency named only when it is not the team's."""
    shown = f"{round_money(amount, currency):,}"
    if currency.upper() != team_currency.upper():
        shown += f" {currency.upper()}"
    return Text(shown, justify="right")
