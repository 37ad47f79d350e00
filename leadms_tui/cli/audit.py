"""`leadms audit`: seal the audit trail and verify it against its seals."""

from typing import Annotated

import typer

from leadms_tui.cli.common import CLIError, acting, echo, open_db

app = typer.Typer(help="The audit trail: seal it, verify it.", no_args_is_help=True)


@app.command("verify")
def verify(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="The result as one JSON object.")] = False,
) -> None:
    """Recompute the trail's digest (every audit column but the kept-apart personal values)
    up to each seal; a changed or removed event fails. Managers and admins."""
    import json

    from leadms_tui.domain import trail

    with open_db(ctx).reading() as session:
        if acting(ctx, session).role == "rep":
            raise CLIError("only a manager or an admin can verify the audit trail")
        result = trail.verify(session)
    if as_json:
        echo(json.dumps({"events": result.events, "seals": result.seals, "broken": result.broken}))
    for line in result.broken:
        echo(line, err=True)
    if not result.ok:
        raise CLIError(f"the audit trail does not verify: {len(result.broken)} seal(s) broken")
    if not as_json:
        echo(f"verified: {result.events:,} event(s), {result.seals} seal(s) hold")


@app.command("seal")
def seal(ctx: typer.Context) -> None:
    """Seal the trail as it is now (a digest up to the last event; audited). Admins."""
    from leadms_tui.domain import trail

    def work(session):
        return trail.seal(session, acting(ctx, session, admin=True))

    sealed = open_db(ctx).write(work)
    echo(f"seal {sealed.id}: {sealed.events:,} event(s) up to {sealed.last_event_id}, "
         f"sha256 {sealed.digest}")  # fmt: skip
