"""`leadms users`: accounts and roles."""

import json
import sys

import typer

from leadms_tui.cli.common import CLIError, acting, echo, open_db

app = typer.Typer(help="Manage users and roles.", no_args_is_help=True)


@app.command()
def add(
    ctx: typer.Context,
    username: str = typer.Argument(..., help="Login name (lower-case)."),
    role: str = typer.Option(..., "--role", help="rep, manager or admin."),
    name: str | None = typer.Option(None, "--name", help="Display name."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from the first line of stdin."
    ),
    capacity: int = typer.Option(25, "--capacity", help="Open leads a rep can carry."),
    languages: str = typer.Option("", "--languages", help="Comma-separated, e.g. en,es."),
):
    """Add a user (an admin's session is needed once the database has users).

    Without --password-stdin the user cannot sign in until given a password. Passwords have
    at least 10 characters, are not the username and not a well-known password.
    """
    from leadms_tui.domain.team.access import check_password_policy
    from leadms_tui.domain.team.users import add_user, parse_role

    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise CLIError("no password on stdin")
        check_password_policy(username, password)
    parsed_role = parse_role(role)
    db = open_db(ctx)
    user = db.write(
        lambda session: add_user(
            session,
            username,
            role=parsed_role,
            actor=acting(ctx, session, admin=True),
            display_name=name,
            password=password,
            capacity=capacity,
            languages=languages.split(","),
        )
    )
    echo(f"added {user.username} ({user.role.value})")


@app.command("list")
def list_(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="JSON output.")):
    """List users."""
    from leadms_tui.domain.team.users import list_users

    with open_db(ctx).reading() as session:
        users = list_users(session)
    if as_json:
        rows = [
            {
                "username": u.username,
                "name": u.display_name,
                "role": u.role.value,
                "active": u.active,
                "capacity": u.capacity,
                "languages": u.languages,
            }
            for u in users
        ]
        echo(json.dumps(rows, indent=2))
        return
    for u in users:
        state = "" if u.active else "  (inactive)"
        echo(f"{u.username:<16} {u.role.value:<8} {u.display_name}{state}")
