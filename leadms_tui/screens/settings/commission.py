"""The settings' Commission tab: the plans a sale's commission is worked out by, and new ones
(a percentage with an optional cap, or a flat amount; for a product, or the default)."""

from rich.text import Text
from sqlmodel import Session
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Checkbox, DataTable, Input, Label, Select

from leadms_tui.domain.sales.commission import PlanInfo, add_plan, list_plans
from leadms_tui.domain.team.settings import load_settings
from leadms_tui.screens.settings.form import FormModal, entry, row
from leadms_tui.screens.with_app import WithApp
from leadms_tui.widgets.key_footer import KeyFooter
from leadms_tui.widgets.text_table import TextTable

PAYS = [("a percentage of the value", "rate"), ("a flat amount", "flat")]


class PlansTab(WithApp, Vertical):
    DEFAULT_CSS = """
    PlansTab #plans { height: 1fr; border: round $panel; }
    PlansTab #plans:focus { border: round $accent; }
    """
    BINDINGS = [Binding("a", "add_plan", "Add plan", id="settings.plans.add")]

    def __init__(self) -> None:
        super().__init__()
        self.plans: dict[str, PlanInfo] = {}
        self._select: str | None = None

    def compose(self) -> ComposeResult:
        table = TextTable(id="plans", cursor_type="row", zebra_stripes=True)
        table.border_title = "Commission plans"
        for label in ("Name", "Terms", "Product", "Default"):
            table.add_column(label)
        yield table

    def on_mount(self) -> None:
        self.reload()

    def reload(self, select: str | None = None) -> None:
        self._select = select
        self.load(
            lambda session: (list_plans(session), load_settings(session).currency),
            self._loaded, group="settings-plans", description="Loading the commission plans",
        )  # fmt: skip

    def _loaded(self, loaded: tuple[list[PlanInfo], str]) -> None:
        plans, currency = loaded
        table = self.query_one("#plans", DataTable)
        kept = self._select or self._current_key()
        table.clear()
        self.plans = {str(plan.id): plan for plan in plans}
        for plan in plans:
            table.add_row(
                plan.name,
                plan.describe(currency),
                plan.product_filter or Text("any product", style="dim"),
                Text("★ default", style="bold green") if plan.is_default else "",
                key=str(plan.id),
            )
        if kept in self.plans:
            table.move_cursor(row=table.get_row_index(kept), animate=False)
        self._select = None
        if not plans:
            table.border_title = "Commission plans: none yet, a adds one"
        else:
            table.border_title = "Commission plans"

    def _current_key(self) -> str | None:
        table = self.query_one("#plans", DataTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value

    def action_add_plan(self) -> None:
        def added(plan: PlanInfo | None) -> None:
            if plan is not None:
                self.app.notify(f"Commission plan added: {plan.name}", title="Saved")
                self.reload(select=str(plan.id))
            self.query_one("#plans", DataTable).focus()

        self.app.push_screen(PlanModal(), added)


class PlanModal(FormModal[PlanInfo | None]):
    """A new commission plan, added through the domain (which checks the amounts)."""

    HELP_NAME = "Commission plan"

    def compose(self) -> ComposeResult:
        after = " (ctrl+s saves, escape cancels)"
        with Vertical():
            yield Label(Text.assemble(("New commission plan", "bold"), after))
            yield row("Name", entry("", "plan-name", "e.g. Standard"))
            yield row("Pays", Select(PAYS, value="rate", allow_blank=False, id="plan-pays",
                                     compact=True))  # fmt: skip
            yield row("Amount", entry("", "plan-amount", "percent (e.g. 7.5) or an amount"))
            yield row("Cap", entry("", "plan-cap", "percentage plans: the most one sale earns"))
            yield row("Product", entry("", "plan-product", "empty: any product"))
            yield row("", Checkbox("The default plan", False, id="plan-default", compact=True))
            yield Label("", id="form-error")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#plan-name", Input).focus()

    @on(Select.Changed, "#plan-pays")
    def _pays(self, event: Select.Changed) -> None:
        self.query_one("#plan-cap", Input).disabled = event.value != "rate"

    def action_save(self) -> None:
        name, amount = self.value("plan-name"), self.value("plan-amount") or None
        percent = self.query_one("#plan-pays", Select).value == "rate"
        cap = (self.value("plan-cap") or None) if percent else None
        product = self.value("plan-product") or None
        make_default = self.query_one("#plan-default", Checkbox).value
        actor = self.signed_in.actor
        if amount is None:
            self.say("Give the percentage or the flat amount")
            return

        def change(session: Session) -> PlanInfo:
            return add_plan(
                session, name, currency=load_settings(session).currency,
                rate=amount if percent else None, flat=None if percent else amount, cap=cap,
                product_filter=product, make_default=make_default, actor=actor,
            )  # fmt: skip

        self.write(change)
