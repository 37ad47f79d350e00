"""`leadms db`: schema migrations."""

import typer

from leadms_tui.cli.common import database_url, echo

app = typer.Typer(help="Database schema commands.", no_args_is_help=True)


@app.command()
def upgrade(ctx: typer.Context) -> None:
    """Migrate the database to the newest schema (needed once per release on PostgreSQL)."""
    from leadms_tui.domain.db import Database

    database = Database(database_url(ctx))
    before = database.schema_revision()
    database.upgrade()
    after = database.schema_revision()
    state = "already current" if before == after else f"upgraded from {before or 'empty'}"
    echo(f"{database.label}: schema {after} ({state})")


@app.command()
def current(ctx: typer.Context) -> None:
    """Print the schema revision the database is at."""
    from leadms_tui.domain.db import SCHEMA_HEAD, Database

    database = Database(database_url(ctx))
    revision = database.schema_revision()
    note = "current" if revision == SCHEMA_HEAD else f"newest is {SCHEMA_HEAD}"
    echo(f"{revision or 'empty'} ({note})")
