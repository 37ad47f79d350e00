"""`leadms users`: accounts and roles."""

import json
import sys
from typing import Annotated

import typer

from leadms_tui.cli.common import CLIError, acting, echo, open_db, say_if_empty

app = typer.Typer(help="Manage users and roles.", no_args_is_help=True)


@app.command()
def add(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Login name (lower-case).")],
    role: Annotated[str, typer.Option("--role", help="rep, manager or admin.")],
    name: Annotated[str | None, typer.Option("--name", help="Display name.")] = None,
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="Read the password from the first line of stdin."),
    ] = False,
    capacity: Annotated[int, typer.Option("--capacity", help="Open leads a rep can carry.")] = 25,
    languages: Annotated[
        str, typer.Option("--languages", help="Comma-separated, e.g. en,es.")
    ] = "",
):
    """Add a user (an admin's session is needed once the database has users).

    Without --password-stdin the user cannot sign in until given a password. Passwords have
    at least 10 characters, are not the username and not easy to guess.
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
def list_(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
):
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
    say_if_empty(len(users), "users yet: `leadms users add NAME --role admin` adds the first")
    for u in users:
        state = "" if u.active else "  (inactive)"
        echo(f"{u.username:<16} {u.role.value:<8} {u.display_name}{state}")


@app.command("set")
def set_(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="The user to change.")],
    role: Annotated[str | None, typer.Option("--role", help="rep, manager or admin.")] = None,
    capacity: Annotated[
        int | None, typer.Option("--capacity", help="Open leads a rep can carry (0-10000).")
    ] = None,
    languages: Annotated[
        str | None,
        typer.Option(
            "--languages", help="ISO 639-1 codes, comma-separated, e.g. en,es (empty: none)."
        ),
    ] = None,
    active: Annotated[
        bool | None, typer.Option("--active/--inactive", help="An inactive user cannot sign in.")
    ] = None,
    display_name: Annotated[
        str | None, typer.Option("--display-name", help="The name shown.")
    ] = None,
    channels: Annotated[
        str | None,
        typer.Option("--channels", help="Channels they take, e.g. whatsapp,website (empty: all)."),
    ] = None,
    away_until: Annotated[
        str | None,
        typer.Option(
            "--away-until", help="Away (no new leads) until this time (ISO, or 'mon 09:00')."
        ),
    ] = None,
    available: Annotated[bool, typer.Option("--available", help="Back to taking leads.")] = False,
    off: Annotated[
        bool, typer.Option("--off", help="Takes no new leads until --available.")
    ] = False,
    hours: Annotated[
        str | None,
        typer.Option("--hours", help="Working hours, e.g. 08:00-16:00 (empty: the team's)."),
    ] = None,
    extension: Annotated[
        str | None,
        typer.Option(
            "--extension", help="Their phone's extension on the PBX, e.g. 201 (empty: none)."
        ),
    ] = None,
):
    """Change a user's role, capacity, languages, state, name or assignment profile (admins).

    The team always keeps one active admin: the last one cannot be demoted or deactivated.
    """
    from leadms_tui.domain.models import Availability
    from leadms_tui.domain.team.users import parse_role, update_user

    parsed_role = parse_role(role) if role is not None else None
    codes = languages.split(",") if languages is not None else None
    takes = channels.split(",") if channels is not None else None
    if sum([available, off, away_until is not None]) > 1:
        raise CLIError("give one of --available, --off and --away-until", exit_code=2)
    availability = (
        Availability.AVAILABLE
        if available
        else Availability.OFF
        if off
        else Availability.AWAY
        if away_until is not None
        else None
    )
    given = (
        parsed_role,
        capacity,
        codes,
        active,
        display_name,
        takes,
        availability,
        hours,
        extension,
    )
    if given == (None,) * 9:
        raise CLIError("nothing to change: give --role, --capacity, --languages, --off, ...")
    db = open_db(ctx)

    def work(session):
        until = None
        if away_until is not None:
            from leadms_tui.cli.calls import parse_moment
            from leadms_tui.domain.team.settings import load_settings

            until = parse_moment(away_until, "--away-until", load_settings(session).timezone)
        return update_user(
            session,
            username,
            actor=acting(ctx, session, admin=True),
            role=parsed_role,
            active=active,
            capacity=capacity,
            languages=codes,
            display_name=display_name,
            channels=takes,
            availability=availability,
            away_until=until,
            working_hours=hours,
            extension=extension,
        )

    user = db.write(work)
    state = "active" if user.active else "inactive"
    spoken = ",".join(user.languages) or "no languages"
    phone = f", extension {user.extension}" if user.extension else ""
    echo(
        f"{user.username}: {user.display_name}, {user.role.value}, {state}, "
        f"capacity {user.capacity}, {spoken}{phone}"
    )


@app.command()
def password(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Whose password to set.")],
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin", help="Read the new password from the first line of stdin."
        ),
    ] = False,
):
    """Give a user a new password (admins); the user's CLI sessions end.

    Without --password-stdin it is asked twice, not shown. Passwords have at least 10
    characters, are not the username and not easy to guess.
    """
    from leadms_tui.domain.team.users import reset_password

    if password_stdin:
        new = sys.stdin.readline().rstrip("\r\n")
        if not new:
            raise CLIError("no password on stdin")
    else:
        new = typer.prompt("New password", hide_input=True)
        if typer.prompt("Again", hide_input=True) != new:
            raise CLIError("the two passwords differ: nothing changed")
    db = open_db(ctx)
    ended = db.write(
        lambda session: reset_password(
            session, username, new, actor=acting(ctx, session, admin=True)
        )
    )
    sessions = f"; {ended} CLI session(s) ended" if ended else ""
    echo(f"password of {username.strip().lower()} changed{sessions}")


@app.command()
def unlock(
    ctx: typer.Context, username: Annotated[str, typer.Argument(help="The user to unlock.")]
) -> None:
    """Forget a user's failed sign-ins (admins): every terminal and address may try again now.

    Five failures from one source lock that source out of the user for 15 minutes; other
    sources are only slowed.
    """
    from leadms_tui.domain.team.access import unlock_user

    cleared = open_db(ctx).write(
        lambda session: unlock_user(session, username, actor=acting(ctx, session, admin=True))
    )
    echo(f"{username.strip().lower()} unlocked ({cleared} failed sign-in(s) forgotten)")
