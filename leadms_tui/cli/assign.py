"""`leadms assign`: who should take a lead and why, assign by hand, assign the waiting ones,
and replay recent intake with the current weights."""

import json
from typing import Annotated

import click
import typer
from typer.core import TyperGroup

from leadms_tui.cli.common import CLIError, acting, echo, open_db


class _AssignGroup(TyperGroup):
    """`leadms assign LEAD --to USER` reads as the hidden `to` command; the rest as usual."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["to", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_AssignGroup,
    help="Suggest and assign leads to reps: `leadms assign LEAD --to USER` assigns one.",
    no_args_is_help=True,
)
AsJson = Annotated[bool, typer.Option("--json", help="JSON output.")]


@app.command("suggest")
def suggest(
    ctx: typer.Context,
    lead_number: Annotated[str, typer.Argument(help="The lead, e.g. LEAD-20261125-007.")],
    as_json: AsJson = False,
) -> None:
    """The reps ranked for a lead, each signal's value and weight, and who is excluded."""
    from leadms_tui.domain.queries.leads import lead_id_by_number
    from leadms_tui.domain.team.assignment import suggest as suggestions_for

    with open_db(ctx).reading() as session:
        found = suggestions_for(session, lead_id_by_number(session=session, number=lead_number))
    if as_json:
        echo(json.dumps(found.as_json(), indent=2, ensure_ascii=False))
        return
    echo(f"{found.lead_number}: language {found.language or 'not detected'}")
    for rank, candidate in enumerate(found.ranked, start=1):
        sticky = " (their earlier lead's owner)" if candidate.sticky else ""
        echo(f"{rank:>2}. {candidate.username:<12} {candidate.score:6.1%}{sticky}")
        for signal in candidate.signals:
            echo(
                f"      {signal.name:<12} {signal.value:.2f} x {signal.weight:.2f} = "
                f"{signal.contribution:.3f}  {signal.why}"
            )
    for username, why in found.excluded:
        echo(f"  -  {username:<12} excluded: {why}")
    if not found.ranked:
        echo("nobody can take it now")


@app.command("to", hidden=True)
def assign(
    ctx: typer.Context,
    lead_number: Annotated[str, typer.Argument(help="The lead to assign by hand.")],
    to: Annotated[str, typer.Option("--to", help="The rep who takes it.")],
    as_user: Annotated[
        str | None, typer.Option("--as", help="Act as this manager (admins).")
    ] = None,
) -> None:
    """`leadms assign LEAD --to USER`: a manager gives a lead to a rep."""
    from leadms_tui.domain.queries.leads import lead_id_by_number
    from leadms_tui.domain.team.assignment import assign_lead

    def work(session):
        actor = acting(ctx, session, as_user)
        lead_id = lead_id_by_number(session=session, number=lead_number)
        return assign_lead(session, lead_id, to, actor=actor)

    scored = open_db(ctx).write(work)
    score = (
        f" (score {scored.score:.1%})" if scored else " (excluded by the rules: a person decided)"
    )
    echo(f"{lead_number.strip().upper()} assigned to {to.strip().lower()}{score}")


@app.command("auto")
def auto(ctx: typer.Context) -> None:
    """Assign every waiting lead now, oldest first, to reps who have room (managers and
    admins; only with assignment_mode auto)."""
    from leadms_tui.domain import clock
    from leadms_tui.domain.team.assignment import assign_waiting
    from leadms_tui.domain.team.settings import load_settings

    def work(session):
        actor = acting(ctx, session)
        mode = load_settings(session).assignment_mode
        return assign_waiting(session, at=clock.now(), actor=actor), mode

    assigned, mode = open_db(ctx).write(work)
    if mode != "auto":
        raise CLIError(
            f"assignment_mode is {mode}: nothing is assigned automatically "
            "(`leadms settings set assignment_mode auto` turns it on)"
        )
    echo(f"{assigned} waiting lead(s) assigned")


@app.command("simulate")
def simulate(
    ctx: typer.Context,
    days: Annotated[
        int, typer.Option("--days", min=1, max=365, help="How far back to replay.")
    ] = 30,
    as_json: AsJson = False,
) -> None:
    """Replay the last N days of intake with the current weights: each rep's share, capacity
    use and the Gini coefficient of the shares, next to what really happened."""
    from leadms_tui.domain.team.simulation import simulate as replay

    with open_db(ctx).reading() as session:
        result = replay(session, days=days)
    if as_json:
        echo(json.dumps(result.as_json(), indent=2))
        return
    echo(f"{result.leads} leads in {days} days; {result.unassigned} would have waited")
    echo(f"{'rep':<12} {'simulated':>9} {'actual':>7} {'peak use':>9}")
    for rep in result.reps:
        use = f"{rep.peak_open / rep.capacity:.0%}" if rep.capacity else "-"
        echo(f"{rep.rep:<12} {rep.simulated:>9} {rep.actual:>7} {use:>9}")
    echo(
        f"Gini of the shares: simulated {result.gini_simulated:.3f}, "
        f"actual {result.gini_actual:.3f} (0 = equal)"
    )
