"""`leadms db`: schema migrations."""

from typing import Annotated

import typer

from leadms_tui.cli.common import database_url, echo

app = typer.Typer(help="Database schema commands.", no_args_is_help=True)


@app.command()
def upgrade(ctx: typer.Context) -> None:
    """Migrate the database to the newest schema (needed once per release on PostgreSQL)."""
    from leadms_tui.domain.db import Database

    database = Database(database_url(ctx))
    database.check_not_moving()  # a half-moved target is finished by the move, not upgraded
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


@app.command("move-to")
def move_to(
    ctx: typer.Context,
    target_url: Annotated[
        str, typer.Argument(help="An empty PostgreSQL database: postgresql://...")
    ],
    restart: Annotated[
        bool,
        typer.Option(
            "--restart", help="Clear a target an earlier move left unfinished, and move again."
        ),
    ] = False,
) -> None:
    """Copy this database (the embedded SQLite file by default) into an empty PostgreSQL
    database, verify the copy, and print the LEADMS_DATABASE_URL line to use from now on.
    The source is only read; a non-empty target is refused. Nothing is written unless every
    row fits the target; until the copy is verified no Lead MS command opens the target."""
    from leadms_tui.domain.db import Database, describe_url, normalize_url
    from leadms_tui.domain.transfer import move

    source = Database(database_url(ctx))
    target = Database(normalize_url(target_url))
    shown: dict[str, int] = {}

    def progress(table: str, copied: int, total: int) -> None:
        if copied == total or copied - shown.get(table, 0) >= 50_000:
            shown[table] = copied
            echo(f"  {table:<22} {copied:>10,} / {total:,}", err=True)

    echo(f"moving {source.label} to {describe_url(target_url.strip())} ...", err=True)
    result = move(source, target, progress=progress, restart_target=restart)
    checked, _ = result.numbers_per_day
    rows = sum(source_rows for source_rows, _ in result.counts.values())
    checksum = result.audit_checksum[1][:16]
    echo(
        f"verified: {len(result.counts)} tables, {rows:,} rows, lead numbers of {checked} "
        f"day(s), audit trail sha256 {checksum}"
    )
    if result.mismatches:
        for problem in result.mismatches:
            echo(f"MISMATCH: {problem}", err=True)
        echo(
            "the target stays marked unfinished: no Lead MS command opens it; "
            "`leadms db move-to URL --restart` moves again",
            err=True,
        )
        raise typer.Exit(1)
    # a password never reaches the terminal's scrollback: the URL is printed masked
    shown_url = describe_url(target_url.strip())
    echo(f"done. From now on use:\nexport LEADMS_DATABASE_URL='{shown_url}'")
    if shown_url != target_url.strip():
        echo("(the password is shown as ***: put it back, or keep it in ~/.pgpass)", err=True)
