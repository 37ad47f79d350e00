"""`leadms calls`: log calls from a dialer or a script, with the same rules as the TUI."""

from datetime import datetime
from typing import Annotated

import typer

from leadms_tui.cli.common import CLIError, acting, echo, open_db
from leadms_tui.domain.models import CallOutcome
from leadms_tui.domain.work.outcomes import MEANINGS
from leadms_tui.formatting import instant

app = typer.Typer(help="Log calls.", no_args_is_help=True)
OUTCOMES = ", ".join(MEANINGS)


def parse_outcome(text: str) -> CallOutcome:
    """--outcome, refused in the one-line error every command gives (Typer's own check of an
    enum prints a usage box and exits 2)."""
    try:
        return CallOutcome(text.strip().lower())
    except ValueError:
        raise CLIError(f"unknown outcome {text!r}: choose one of {OUTCOMES}") from None


def parse_moment(text: str, option: str, timezone: str) -> datetime:
    """An ISO date-time or one as people say it (`tomorrow 15:00`, `+2d`), in the team zone."""
    from leadms_tui.domain import clock
    from leadms_tui.domain.errors import ValidationError
    from leadms_tui.domain.spoken_dates import parse_when

    try:
        return parse_when(text, now=clock.now(), timezone=timezone)
    except ValidationError as exc:
        raise CLIError(f"{option} {exc}") from None


@app.command("log")
def log(
    ctx: typer.Context,
    lead_number: Annotated[str, typer.Argument(help="The lead, e.g. LEAD-20261125-007.")],
    outcome: Annotated[
        CallOutcome,
        typer.Option(
            "--outcome", help=f"One of: {OUTCOMES}.", parser=parse_outcome, metavar="<str>"
        ),
    ],
    note: Annotated[str | None, typer.Option("--note", help="What was said.")] = None,
    at: Annotated[
        str | None, typer.Option("--at", help="When the call happened (default now).")
    ] = None,
    callback_at: Annotated[
        str | None, typer.Option("--callback-at", help="For callback_requested: when to call back.")
    ] = None,
    as_user: Annotated[str | None, typer.Option("--as", help="The rep who called.")] = None,
) -> None:
    """Log a call outcome; follow-ups and status changes follow the rules."""
    from leadms_tui.domain.queries.leads import lead_id_by_number
    from leadms_tui.domain.team.settings import load_settings
    from leadms_tui.domain.work.calls import BY_RULES, log_call

    if callback_at and outcome != CallOutcome.CALLBACK_REQUESTED:
        raise CLIError("--callback-at goes with --outcome callback_requested")
    db = open_db(ctx)

    def work(session):
        timezone = load_settings(session).timezone
        actor = acting(ctx, session, as_user)
        lead_id = lead_id_by_number(session=session, number=lead_number)
        called = parse_moment(at, "--at", timezone) if at else None
        followup = parse_moment(callback_at, "--callback-at", timezone) if callback_at else BY_RULES
        return timezone, log_call(
            session,
            lead_id,
            outcome,
            actor=actor,
            note=note,
            called_at=called,
            next_followup_at=followup,
        )

    timezone, logged = db.write(work)
    due = logged.followup_due
    next_step = f"; next follow-up {instant(due, timezone)}" if due else ""
    effects = f" ({'; '.join(logged.rule_effects)})" if logged.rule_effects else ""
    echo(
        f"{logged.lead_number}: {outcome.value} logged, status {logged.status.value}"
        f"{next_step}{effects}"
    )
