"""`leadms followups`: the follow-up list, for people and integrations."""

import json
from typing import Annotated

import typer

from leadms_tui.cli.common import CLIError, day_option, echo, open_db, say_if_empty
from leadms_tui.formatting import instant

app = typer.Typer(help="List follow-ups.", no_args_is_help=True)


@app.command("list")
def list_(
    ctx: typer.Context,
    user: Annotated[str | None, typer.Option("--user", help="Only this rep's follow-ups.")] = None,
    day: Annotated[str | None, typer.Option("--date", help="Only those due on this date.")] = None,
    state: Annotated[
        str | None, typer.Option("--state", help="open, done, skipped or missed.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Follow-ups by due time."""
    from leadms_tui.domain.models import FollowUpState
    from leadms_tui.domain.queries.commitments import list_followups
    from leadms_tui.domain.team.settings import load_settings
    from leadms_tui.domain.team.users import get_user

    if state and state not in {s.value for s in FollowUpState}:
        raise CLIError(f"unknown state {state!r}: open, done, skipped or missed")
    with open_db(ctx).reading() as session:
        business_day = day_option(session, day, "--date", historic=True)
        timezone = load_settings(session).timezone
        owner_id = get_user(session, user).id if user else None
        items = list_followups(
            session=session, timezone=timezone, owner_id=owner_id, day=business_day, state=state
        )
    for item in items:
        if as_json:
            echo(json.dumps(item.as_json(), ensure_ascii=False))
        else:
            echo(
                f"{instant(item.due_at, timezone)}  {item.lead}  {item.name[:24]:<24}  "
                f"{item.state:<7}  #{item.attempt}  {item.owner or '-':<10}  {item.reason}"
            )
    if not as_json:
        say_if_empty(len(items), "follow-ups match")
