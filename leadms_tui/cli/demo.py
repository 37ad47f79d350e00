"""`leadms demo`: build the demo database and open the TUI on it."""

import typer

from leadms_tui.cli.common import options


def demo(
    ctx: typer.Context,
    build_only: bool = typer.Option(False, "--build-only", help="Build it, don't open the TUI."),
    as_user: str = typer.Option("ana", "--as", help="Demo user to sign in as (see README)."),
) -> None:
    """Build (or rebuild) the demo database from data/ and open the TUI on it.

    Uses its own demo.db in the user data directory unless --database-url or
    LEADMS_DATABASE_URL names another database; a database that holds real data
    (not built by this command) is never overwritten.
    """
    from leadms_tui.domain.demo import build_demo
    from leadms_tui.domain.paths import demo_database_url

    url = options(ctx).database_url or demo_database_url()
    database, summary = build_demo(url)
    typer.echo(summary, err=True)
    if build_only:
        return
    from leadms_tui.app import run_tui
    from leadms_tui.domain.users import get_user

    with database.reading() as session:
        user = get_user(session, as_user)
    welcome = (
        f"Demo database, signed in as {user.display_name} ({user.role.value}). "
        "Run `leadms demo --as maria` for the manager's view or `--as admin` for the admin; "
        "every demo password is 'demo'. Press ? for the keys."
    )
    run_tui(database, signed_in=user, welcome=welcome)
