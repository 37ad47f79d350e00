"""`leadms onboarding`: the templates a sale starts, and the tasks they make."""

import json
from typing import Annotated

import typer

from leadms_tui.cli.common import CLIError, acting, echo, open_db

app = typer.Typer(help="Onboarding templates and tasks.", no_args_is_help=True)
TASK_STATES = "open, done, skipped, missed or cancelled"


def _step_owner(step, usernames: dict[int, str]) -> str:  # step: StepSpec
    from leadms_tui.domain.models import StepOwner

    if step.owner == StepOwner.ROLE:
        return f"least busy {step.owner_role}"
    if step.owner == StepOwner.USER:
        return usernames.get(step.owner_user_id, "?")
    return step.owner.value.replace("_", " ")


@app.command()
def templates(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
) -> None:
    """Each onboarding template with its steps: business day, title, who does it."""
    from sqlalchemy import select

    from leadms_tui.domain.models import User
    from leadms_tui.domain.sales.onboarding import list_templates

    with open_db(ctx).reading() as session:
        found = list_templates(session)
        usernames = dict(session.execute(select(User.id, User.username)).all())
    if as_json:
        rows = [
            {
                "name": t.name,
                "default": t.is_default,
                "steps": [
                    {"day": s.offset_days, "title": s.title, "owner": _step_owner(s, usernames)}
                    for s in t.steps
                ],
            }
            for t in found
        ]
        echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for template in found:
        echo(template.name + ("  (default)" if template.is_default else ""))
        for step in template.steps:
            owner = _step_owner(step, usernames)
            echo(f"  day {step.offset_days:>3}  {step.title[:40]:<40}  {owner}")


@app.command()
def tasks(
    ctx: typer.Context,
    user: Annotated[str | None, typer.Option("--user", help="Only this person's tasks.")] = None,
    state: Annotated[
        str | None, typer.Option("--state", help=f"{TASK_STATES} (default: open and missed).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Onboarding tasks by due date: by default the ones still to do (open or missed)."""
    from leadms_tui.domain.models import TaskState
    from leadms_tui.domain.queries.sales import list_tasks
    from leadms_tui.domain.team.users import get_user

    states = (TaskState.OPEN, TaskState.MISSED)
    try:
        if state:
            states = (TaskState(state.strip().lower()),)
    except ValueError:
        raise CLIError(f"unknown state {state!r}: {TASK_STATES}") from None
    with open_db(ctx).reading() as session:
        owner_id = get_user(session, user).id if user else None
        rows = list_tasks(session=session, owner_id=owner_id, states=states)
    for row in rows:
        if as_json:
            echo(json.dumps(row.as_json(), ensure_ascii=False))
        else:
            echo(
                f"{row.id:>5}  {row.due_on.isoformat()}  {row.client_number:<10}  "
                f"{row.client_name[:24]:<24}  {row.title[:32]:<32}  {row.owner or '-':<10}  "
                f"{row.state}"
            )


def _finish(ctx: typer.Context, task_id: int, state_name: str, as_user: str | None) -> None:
    from leadms_tui.domain.models import TaskState
    from leadms_tui.domain.sales.onboarding import finish_task

    def work(session):
        task = finish_task(
            session, task_id, TaskState(state_name), actor=acting(ctx, session, as_user)
        )
        return task.title

    title = open_db(ctx).write(work)
    echo(f"task #{task_id} {title}: {state_name}")


@app.command()
def done(
    ctx: typer.Context,
    task_id: Annotated[int, typer.Argument(help="The task's id (see `onboarding tasks`).")],
    as_user: Annotated[str | None, typer.Option("--as", help="Act as this user (admins).")] = None,
) -> None:
    """Mark an onboarding task done (its owner, or a manager)."""
    _finish(ctx, task_id, "done", as_user)


@app.command()
def skip(
    ctx: typer.Context,
    task_id: Annotated[int, typer.Argument(help="The task's id (see `onboarding tasks`).")],
    as_user: Annotated[str | None, typer.Option("--as", help="Act as this user (admins).")] = None,
) -> None:
    """Skip an onboarding task that does not apply (its owner, or a manager)."""
    _finish(ctx, task_id, "skipped", as_user)
