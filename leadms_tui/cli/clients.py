"""`leadms clients`: the people the team sells to, their sales and onboarding."""

import json
from typing import Annotated

import typer

from leadms_tui.cli.common import acting, echo, open_db, say_if_empty

app = typer.Typer(help="List and show clients.", no_args_is_help=True)


@app.command("list")
def list_(
    ctx: typer.Context,
    search: Annotated[
        str, typer.Option("--search", help="Client number, name, phone or email.")
    ] = "",
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Clients, newest first, with their live sales and open onboarding tasks."""
    from leadms_tui.domain.queries.sales import list_clients
    from leadms_tui.domain.sales.money import format_money
    from leadms_tui.domain.team.settings import load_settings

    with open_db(ctx).reading() as session:
        settings = load_settings(session)
        rows = list_clients(session=session, text=search, phone_region=settings.phone_region)
    if as_json:
        for row in rows:
            echo(json.dumps(row.as_json(settings.currency), ensure_ascii=False))
        return
    say_if_empty(len(rows), "clients match" if search else "clients yet")
    if rows:
        echo(
            f"{'client':<10} {'name':<24} {'phone':<16} {'email':<26} {'status':<10} "
            f"{'owner':<10} {'sales':>5} {'value':>16} {'tasks':>5}"
        )
    for row in rows:
        echo(
            f"{row.number:<10} {row.name[:24]:<24} {(row.phone or '-')[:16]:<16} "
            f"{(row.email or '-')[:26]:<26} {row.status:<10} {row.owner or '-':<10} "
            f"{row.sales:>5} {format_money(row.value, settings.currency):>16} {row.open_tasks:>5}"
        )


@app.command()
def show(
    ctx: typer.Context,
    client_number: Annotated[str, typer.Argument(help="The client, e.g. CL-000042.")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
) -> None:
    """A client: contact, sales with their commission, onboarding, and the leads behind it."""
    from leadms_tui.domain.queries.sales import client_id_by_number, load_client_detail
    from leadms_tui.domain.team.settings import load_settings

    with open_db(ctx).reading() as session:
        currency = load_settings(session).currency
        client_id = client_id_by_number(session=session, number=client_number)
        detail = load_client_detail(session=session, client_id=client_id)
    if as_json:
        echo(json.dumps(detail.as_json(currency), indent=2, ensure_ascii=False))
        return
    _print_detail(detail)


def _print_detail(detail) -> None:  # detail: ClientDetail
    from leadms_tui.domain.models import TaskState
    from leadms_tui.domain.sales.money import format_money

    row = detail.row
    echo(f"{row.number}  {row.name}  ({row.status})")
    echo(f"phone {row.phone or '-'}, email {row.email or '-'}, account manager {row.owner or '-'}")
    echo(f"client since {detail.created_at:%Y-%m-%d}")
    echo(f"sales ({row.sales} live):" if detail.sales else "sales: none")
    for sale in detail.sales:
        reversed_ = "  REVERSED" if sale.reversed else ""
        echo(
            f"  #{sale.id} {sale.sold_on.isoformat()}  {sale.lead_number}  "
            f"{format_money(sale.value, sale.currency)}  {sale.product or '-'}  "
            f"closed by {sale.closed_by or '-'}{reversed_}"
        )
        plan = sale.commission_plan or "no plan"
        echo(f"    commission {plan}: {format_money(sale.commission_total, sale.currency)}")
        for commission_id, user, share, amount, state in sale.commissions:
            echo(
                f"      #{commission_id} {user:<16} {share.normalize():f}%  "
                f"{format_money(amount, sale.currency)}  {state}"
            )
    counted = [t for t in detail.tasks if t.state != TaskState.CANCELLED]
    finished = sum(t.state in (TaskState.DONE, TaskState.SKIPPED) for t in counted)
    echo(f"onboarding: {finished} of {len(counted)} finished" if counted else "onboarding: none")
    for task in detail.tasks:
        echo(
            f"  #{task.id} {task.due_on.isoformat()}  {task.title[:40]:<40}  "
            f"{task.owner or '-':<10}  {task.state}"
        )
    echo("leads:" if detail.leads else "leads: none")
    for number, status, created_at in detail.leads:
        echo(f"  {number}  {status:<17}  {created_at:%Y-%m-%d}")


@app.command()
def status(
    ctx: typer.Context,
    client_number: Annotated[str, typer.Argument(help="The client, e.g. CL-000042.")],
    new_status: Annotated[str, typer.Argument(help="onboarding, active, paused or churned.")],
    as_user: Annotated[str | None, typer.Option("--as", help="Act as this user (admins).")] = None,
) -> None:
    """Move a client to another status (its account manager, or a manager)."""
    from leadms_tui.domain import clock
    from leadms_tui.domain.queries.sales import client_id_by_number
    from leadms_tui.domain.sales.clients import set_client_status

    def work(session):
        actor = acting(ctx, session, as_user)
        client_id = client_id_by_number(session=session, number=client_number)
        client = set_client_status(session, client_id, new_status, actor=actor, at=clock.now())
        return client.number, str(client.status)

    number, stored = open_db(ctx).write(work)
    echo(f"{number} is {stored}")
