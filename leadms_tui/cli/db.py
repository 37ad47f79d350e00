"""`leadms db`: schema migrations, moving to PostgreSQL, backups."""

from pathlib import Path
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


@app.command("backup")
def backup_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Where to write the backup (an SQLite file).")],
    keep: Annotated[
        int | None,
        typer.Option(
            "--keep", min=1, help="Stamp FILE with the time and keep only the newest N such files."
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
) -> None:
    """A consistent copy of the database while people work, as one SQLite file with a
    manifest that `leadms db verify` checks (SQLite: the online backup API; PostgreSQL: one
    read-only snapshot)."""
    from leadms_tui.domain.backup import backup

    source = _source(ctx)
    echo(f"backing up {source.label} ...", err=True)
    report = backup(source, file, force=force, keep=keep)
    taken = f"{report.taken_at:%Y-%m-%d %H:%M:%S} UTC"
    echo(f"{report.path}: {report.rows:,} rows in {report.tables} tables, taken {taken}")
    for old in report.removed:
        echo(f"removed {old} (past --keep {keep})")


@app.command("verify")
def verify_command(
    file: Annotated[Path, typer.Argument(help="A backup made by `leadms db backup`.")],
) -> None:
    """Check a backup against its manifest: every table's rows and checksum, SQLite's
    integrity check, gapless lead numbers per day. Exit 1 when anything is wrong."""
    from leadms_tui.domain.backup import verify_backup

    check = verify_backup(file)
    for problem in check.problems:
        echo(f"PROBLEM: {problem}", err=True)
    if check.problems:
        raise typer.Exit(1)
    echo(
        f"{file}: verified: {check.rows:,} rows, lead numbers of {check.days_checked} day(s), "
        f"schema {check.revision}, taken {check.taken_at} from {check.source}"
    )


@app.command("restore")
def restore_command(
    file: Annotated[Path, typer.Argument(help="A backup made by `leadms db backup`.")],
    to: Annotated[
        str, typer.Option("--to", help="An empty database: a new SQLite file or PostgreSQL URL.")
    ],
) -> None:
    """Restore a verified backup into an empty database, then verify the copy (row counts,
    lead numbers per day, the audit trail's checksum). A non-empty target is refused."""
    from leadms_tui.domain.backup import restore
    from leadms_tui.domain.db import Database, describe_url, normalize_url

    target = Database(normalize_url(to))
    echo(f"restoring {file} into {describe_url(to.strip())} ...", err=True)
    mismatches = restore(file, target)
    for problem in mismatches:
        echo(f"MISMATCH: {problem}", err=True)
    if mismatches:
        raise typer.Exit(1)
    url = describe_url(to.strip())
    echo(f"restored and verified. Use it with:\nexport LEADMS_DATABASE_URL='{url}'")


def _source(ctx: typer.Context):  # -> Database
    from leadms_tui.domain.db import Database

    source = Database(database_url(ctx))
    source.check_not_moving()
    return source
