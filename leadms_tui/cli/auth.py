"""`leadms login` / `logout` / `whoami`, and `leadms tokens`: who the CLI acts as."""

import json
import os
import sys
from typing import Annotated

import typer

from leadms_tui.cli import sessions
from leadms_tui.cli.common import TOKEN_ENV, CLIError, acting, database_url, echo, open_db

tokens_app = typer.Typer(help="API tokens for scripts and dialers.", no_args_is_help=True)


def login(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Your username.")],
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="Read the password from the first line of stdin."),
    ] = False,
) -> None:
    """Sign in on this database: later commands act as you until `leadms logout`."""
    from leadms_tui.domain.team.access import attempt_sign_in, sign_in_source

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True)
    db = open_db(ctx)
    outcome = attempt_sign_in(db, username, password, source=sign_in_source(), token_kind="session")
    if outcome.refused or outcome.token is None or outcome.user is None:
        raise CLIError(outcome.refused or "not signed in")
    sessions.save(database_url(ctx), outcome.token)
    echo(f"signed in as {outcome.user.username} ({outcome.user.role.value}) on {db.label}")


def logout(ctx: typer.Context) -> None:
    """End this terminal's session on this database."""
    from leadms_tui.domain.team.access import revoke_token, user_for_token

    url = database_url(ctx)
    token = sessions.load(url)
    if token is None:
        echo("not signed in", err=True)
        return

    def end(session) -> None:
        try:
            me = user_for_token(session, token)
        except Exception:  # already ended or revoked: forgetting it is all that is left
            return
        revoke_token(session, actor=me.actor, secret=token)

    open_db(ctx).write(end)
    sessions.save(url, None)
    echo("signed out")


def whoami(ctx: typer.Context) -> None:
    """Who commands act as on this database, and through what (session or LEADMS_TOKEN)."""
    db = open_db(ctx)
    actor = db.write(lambda s: acting(ctx, s))
    if actor.user_id is None:
        echo(f"nobody: {db.label} has no users yet (add the first admin with `leadms users add`)")
        return
    source = TOKEN_ENV if os.environ.get(TOKEN_ENV) else "session"
    echo(f"{actor.name} ({actor.role}) on {db.label}, by {source}")


@tokens_app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="What will use it, e.g. dialer.")],
    user: Annotated[str, typer.Option("--user", help="The user the token acts as.")],
    expires: Annotated[
        int | None,
        typer.Option(
            "--expires", min=1, max=3650, help="Days until it stops working (default: never)."
        ),
    ] = None,
) -> None:
    """Print a new API token once (it is stored hashed): give it to the script as LEADMS_TOKEN.

    Admins create tokens for anyone; other users for themselves.
    """
    from datetime import timedelta

    from leadms_tui.domain.models import Role
    from leadms_tui.domain.team.access import issue_token
    from leadms_tui.domain.team.users import get_user

    def work(session) -> str:
        actor = acting(ctx, session)
        owner = get_user(session, user)
        if actor.user_id != owner.id and actor.role != Role.ADMIN:
            raise CLIError("only an admin can create a token for another user")
        lifetime = timedelta(days=expires) if expires else None
        return issue_token(session, owner, kind="api", name=name, actor=actor, expires_in=lifetime)

    echo(open_db(ctx).write(work))


@tokens_app.command("list")
def list_(
    ctx: typer.Context,
    user: Annotated[str | None, typer.Option("--user", help="Only this user's.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
) -> None:
    """Sessions and API tokens (never their secrets): yours, or everyone's for an admin."""
    from leadms_tui.domain.models import Role
    from leadms_tui.domain.team.access import list_tokens

    def work(session):
        actor = acting(ctx, session)
        only = user if actor.role == Role.ADMIN else actor.name
        return list_tokens(session=session, username=only)

    rows = open_db(ctx).write(work)
    if as_json:
        for row in rows:
            echo(json.dumps({**row.__dict__}, default=str, ensure_ascii=False))
        return
    for row in rows:
        state = (
            "revoked"
            if row.revoked
            else f"expires {row.expires_at:%Y-%m-%d}"
            if row.expires_at
            else "live"
        )
        echo(f"{row.id:>4}  {row.kind:<7}  {row.user:<16} {row.name:<24} {state}")


@tokens_app.command("revoke")
def revoke(ctx: typer.Context, token_id: Annotated[int, typer.Argument(help="Token id.")]) -> None:
    """End a token or session at once (your own, or anyone's for an admin)."""
    from leadms_tui.domain.team.access import revoke_token

    open_db(ctx).write(
        lambda session: revoke_token(session, actor=acting(ctx, session), token_id=token_id)
    )

    echo(f"token {token_id} revoked")
