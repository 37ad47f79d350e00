"""`leadms demo`: build the demo database and open the TUI on it."""

from typing import Annotated

import typer

from leadms_tui.cli.common import echo, options


def demo(
    ctx: typer.Context,
    build_only: Annotated[
        bool, typer.Option("--build-only", help="Build it, don't open the TUI.")
    ] = False,
    rebuild: Annotated[
        bool,
        typer.Option(
            "--rebuild", help="Build it anew even if it was built today (not while open)."
        ),
    ] = False,
    as_user: Annotated[
        str, typer.Option("--as", help="Demo user to sign in as (see README).")
    ] = "ana",
) -> None:
    """Open the TUI on the demo database, built from the shipped demo data.

    The demo uses its own demo.db in the user data directory (or the database --database-url
    or LEADMS_DATABASE_URL names, which must be empty or made by the demo: any other database
    is refused, whatever it holds). It is built on first use and again on a new day or with
    --rebuild, never while another Lead MS has it open.
    """
    from leadms_tui.bootstrap import default_dispatcher
    from leadms_tui.domain.demo import open_demo
    from leadms_tui.domain.paths import demo_database_url

    url = options(ctx).database_url or demo_database_url()
    database, summary, lock = open_demo(url, dispatcher=default_dispatcher(), rebuild=rebuild)
    echo(summary, err=True)
    if build_only:
        lock.release()
        return
    from leadms_tui.app import run_tui
    from leadms_tui.domain.team.users import get_user

    with database.reading() as session:
        user = get_user(session, as_user)
    welcome = (
        f"Demo database, signed in as {user.display_name} ({user.role.value}). "
        "Run `bin/demo --as maria` for the manager's view or `bin/demo --as admin` for the "
        "admin (the CLI: `.venv/bin/leadms --help`); "
        "every demo password is 'demo'. Press ? for the keys."
    )
    code = run_tui(database, signed_in=user, welcome=welcome)
    lock.release()
    if code:
        raise typer.Exit(code)
