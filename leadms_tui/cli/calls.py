"""`leadms calls`: log calls from a dialer or a script, with the same rules as the TUI."""

from datetime import datetime

import typer

from leadms_tui.cli.common import CLIError, acting, echo, open_db
from leadms_tui.domain.models import CallOutcome
from leadms_tui.formatting import instant

app = typer.Typer(help="Log calls.", no_args_is_help=True)
OUTCOMES = ", ".join(outcome.value for outcome in CallOutcome)


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
    lead_number: str = typer.Argument(..., help="The lead, e.g. LEAD-20261125-007."),
    outcome: str = typer.Option(..., "--outcome", help=f"One of: {OUTCOMES}."),
    note: str | None = typer.Option(None, "--note", help="What was said."),
    at: str | None = typer.Option(None, "--at", help="When the call happened (default now)."),
    callback_at: str | None = typer.Option(
        None, "--callback-at", help="For callback_requested: when to call back."
    ),
    as_user: str | None = typer.Option(None, "--as", help="The rep who called."),
) -> None:
    """Log a call outcome; follow-ups and status changes follow the rules."""
    from leadms_tui.domain.models import CallOutcome
    from leadms_tui.domain.repositories.leads import lead_id_by_number
    from leadms_tui.domain.team.settings import load_settings
    from leadms_tui.domain.work.calls import BY_RULES, log_call

    try:
        parsed = CallOutcome(outcome.strip().lower())
    except ValueError:
        raise CLIError(f"unknown outcome {outcome!r}: choose one of {OUTCOMES}") from None
    if callback_at and parsed != CallOutcome.CALLBACK_REQUESTED:
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
            parsed,
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
        f"{logged.lead_number}: {parsed.value} logged, status {logged.status.value}"
        f"{next_step}{effects}"
    )
