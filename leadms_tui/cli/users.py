"""`leadms users`: accounts and roles."""

import json
import sys

import typer

from leadms_tui.cli.common import CLIError, actor_for, open_db

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
    """Add a user. Without --password-stdin the user cannot sign in until given a password."""
    from leadms_tui.domain.users import add_user, parse_role

    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise CLIError("no password on stdin")
    parsed_role = parse_role(role)
    db = open_db(ctx)
    user = db.write(
        lambda session: add_user(
            session,
            username,
            role=parsed_role,
            actor=actor_for(None),
            display_name=name,
            password=password,
            capacity=capacity,
            languages=languages.split(","),
        )
    )
    typer.echo(f"added {user.username} ({user.role.value})")


@app.command("list")
def list_(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="JSON output.")):
    """List users."""
    from leadms_tui.domain.users import list_users

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
        typer.echo(json.dumps(rows, indent=2))
        return
    for u in users:
        state = "" if u.active else "  (inactive)"
        typer.echo(f"{u.username:<16} {u.role.value:<8} {u.display_name}{state}")
