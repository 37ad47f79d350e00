"""`leadms commissions`: commission plans, a month's commissions (the payroll export), and
approving and paying them."""

import csv
import io
import json
from decimal import Decimal
from typing import Annotated

import typer

from leadms_tui.cli.common import CLIError, acting, echo, open_db, spreadsheet_cell

app = typer.Typer(help="Commission plans, the payroll list, approve and pay.", no_args_is_help=True)
plans_app = typer.Typer(help="Commission plans.", no_args_is_help=True)
app.add_typer(plans_app, name="plans")

STATES = "pending, approved, paid or void"
CSV_HEADER = [
    "id",
    "sold_on",
    "rep",
    "client",
    "lead",
    "product",
    "value",
    "currency",
    "share_percent",
    "amount",
    "state",
]


@plans_app.command("add")
def plans_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The plan's name, e.g. 'Standard 7.5%'.")],
    rate: Annotated[
        str | None, typer.Option("--rate", help="Percent of the sale value, e.g. 7.5.")
    ] = None,
    flat: Annotated[
        str | None, typer.Option("--flat", help="A flat amount per sale, e.g. 50.")
    ] = None,
    cap: Annotated[
        str | None, typer.Option("--cap", help="At most this much per sale (--rate).")
    ] = None,
    product_filter: Annotated[
        str | None, typer.Option("--plan-filter", help="Applies to sales of this plan or product.")
    ] = None,
    make_default: Annotated[
        bool, typer.Option("--default", help="Make it the default plan.")
    ] = False,
    as_user: Annotated[
        str | None, typer.Option("--as", help="Act as this manager (admins).")
    ] = None,
) -> None:
    """Add a commission plan (managers); the first plan is the default."""
    from leadms_tui.domain.sales.commission import add_plan
    from leadms_tui.domain.team.settings import load_settings

    def work(session):
        currency = load_settings(session).currency
        plan = add_plan(
            session,
            name,
            currency=currency,
            rate=rate,
            flat=flat,
            cap=cap,
            product_filter=product_filter,
            make_default=make_default,
            actor=acting(ctx, session, as_user),
        )
        return plan, currency

    plan, currency = open_db(ctx).write(work)
    default = " (default)" if plan.is_default else ""
    echo(f"added plan {plan.name}: {plan.describe(currency)}{default}")


@plans_app.command("list")
def plans_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
) -> None:
    """The active commission plans."""
    from leadms_tui.domain.sales.commission import list_plans
    from leadms_tui.domain.team.settings import load_settings

    with open_db(ctx).reading() as session:
        currency = load_settings(session).currency
        plans = list_plans(session)
    if as_json:
        rows = [
            {
                "name": p.name,
                "rate": _number(p.rate),
                "flat": _number(p.flat),
                "cap": _number(p.cap),
                "plan_filter": p.product_filter,
                "default": p.is_default,
                "currency": currency,
            }
            for p in plans
        ]
        echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for plan in plans:
        default = "  (default)" if plan.is_default else ""
        echo(f"{plan.name[:30]:<30}  {plan.describe(currency)}{default}")


def _number(value: Decimal | None) -> str | None:
    return None if value is None else f"{value.normalize():f}"


@app.command("list")
def list_(
    ctx: typer.Context,
    month: Annotated[str, typer.Option("--month", help="Sales of this month, YYYY-MM.")],
    rep: Annotated[str | None, typer.Option("--rep", help="Only this rep's commissions.")] = None,
    state: Annotated[str | None, typer.Option("--state", help=f"Only {STATES} ones.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV for payroll (a header row).")] = False,
) -> None:
    """A month's commissions by rep and date, with the total owed (void ones not counted)."""
    from leadms_tui.domain.models import CommissionState
    from leadms_tui.domain.queries.sales import list_commissions
    from leadms_tui.domain.sales.commission import month_bounds
    from leadms_tui.domain.team.users import get_user

    if as_json and as_csv:
        raise CLIError("choose --json or --csv, not both")
    try:
        wanted = CommissionState(state.strip().lower()) if state else None
    except ValueError:
        raise CLIError(f"unknown state {state!r}: {STATES}") from None
    start, end = month_bounds(month)
    with open_db(ctx).reading() as session:
        viewer = acting(ctx, session)  # a rep lists only their own rows, payroll CSV too
        rep_id = get_user(session, rep).id if rep else None
        rows = list_commissions(
            session=session, start=start, end=end, viewer=viewer, rep_id=rep_id, state=wanted
        )
    if as_json:
        for row in rows:
            echo(json.dumps(row.as_json(), ensure_ascii=False))
    elif as_csv:
        _print_csv(rows)
    else:
        _print_table(rows)


def _print_csv(rows) -> None:  # rows: list[CommissionRow]
    from leadms_tui.domain.sales.money import round_money

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for row in rows:
        writer.writerow(
            [
                row.id,
                row.sold_on.isoformat(),
                spreadsheet_cell(row.rep),
                row.client_number,
                row.lead_number,
                spreadsheet_cell(row.product or ""),
                round_money(row.value, row.currency),
                row.currency,
                f"{row.share.normalize():f}",
                round_money(row.amount, row.currency),
                row.state,
            ]
        )
    echo(buffer.getvalue().rstrip("\n"))


def _print_table(rows) -> None:  # rows: list[CommissionRow]
    from leadms_tui.domain.models import CommissionState
    from leadms_tui.domain.sales.money import format_money

    if not rows:
        echo("no commissions")
        return
    echo(
        f"{'id':>5}  {'sold on':<10}  {'rep':<12}  {'client':<10}  {'product':<20}  "
        f"{'value':>16}  {'share':>6}  {'amount':>14}  state"
    )
    totals: dict[str, Decimal] = {}
    for row in rows:
        echo(
            f"{row.id:>5}  {row.sold_on.isoformat():<10}  {row.rep[:12]:<12}  "
            f"{row.client_number:<10}  {(row.product or '-')[:20]:<20}  "
            f"{format_money(row.value, row.currency):>16}  {row.share.normalize():>5f}%  "
            f"{format_money(row.amount, row.currency):>14}  {row.state}"
        )
        if row.state != CommissionState.VOID:
            totals[row.currency] = totals.get(row.currency, Decimal(0)) + row.amount
    owed = ", ".join(format_money(amount, currency) for currency, amount in totals.items())
    void = sum(row.state == CommissionState.VOID for row in rows)
    voided = f"; {void} void, not counted" if void else ""
    echo(f"total {owed or '0'} in {len(rows) - void} commission(s){voided}")


def _move(ctx: typer.Context, ids: list[int], state_name: str, as_user: str | None) -> None:
    from leadms_tui.domain.models import CommissionState
    from leadms_tui.domain.sales.commission import move_commissions

    to = CommissionState(state_name)
    moved = open_db(ctx).write(
        lambda session: move_commissions(session, ids, to, actor=acting(ctx, session, as_user))
    )
    echo(f"{moved} commission(s) {to.value}")


@app.command()
def approve(
    ctx: typer.Context,
    ids: Annotated[list[int], typer.Argument(help="Commission ids (see `commissions list`).")],
    as_user: Annotated[
        str | None, typer.Option("--as", help="The approving manager (admins).")
    ] = None,
) -> None:
    """Approve pending commissions (managers); all or none."""
    _move(ctx, ids, "approved", as_user)


@app.command()
def pay(
    ctx: typer.Context,
    ids: Annotated[list[int], typer.Argument(help="Commission ids (see `commissions list`).")],
    as_user: Annotated[
        str | None, typer.Option("--as", help="The paying manager (admins).")
    ] = None,
) -> None:
    """Mark approved commissions paid (managers); all or none."""
    _move(ctx, ids, "paid", as_user)
