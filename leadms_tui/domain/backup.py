"""Back up, verify and restore a Lead MS database while people work.

A backup is one SQLite file, whatever the engine: SQLite's online backup API copies a
consistent snapshot of an SQLite database page by page; a PostgreSQL database is read in one
REPEATABLE READ, read-only transaction (a consistent snapshot, writers never wait) into a new
SQLite file migrated to the same schema. Either way the file then gets a manifest table: when
it was taken, from what, the schema revision, and per table its row count and a sha256 of its
rows in id order. `verify_backup` re-reads the file against its manifest (plus SQLite's own
integrity check and gapless lead numbers per day), so a truncated or edited file fails.
`restore` checks the backup, then fills an empty database: a PostgreSQL one through the same
copy as `db move-to` (which verifies counts, numbers and the audit checksum), an SQLite file
by the backup API again.
"""

import hashlib
import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, Table, func, select, text
from sqlmodel import SQLModel

from leadms_tui.domain import clock, models
from leadms_tui.domain.audit import plain
from leadms_tui.domain.db import Database, describe_url, translate_errors
from leadms_tui.domain.errors import ValidationError

MANIFEST = "leadms_backup_manifest"
BATCH = 5_000
Progress = Callable[[str, int], None]  # table, rows copied


@dataclass(frozen=True)
class BackupReport:
    path: Path
    taken_at: datetime
    rows: int
    tables: int
    removed: list[Path] = field(default_factory=list)  # older backups past --keep


@dataclass
class BackupCheck:
    """What `verify_backup` found; `problems` empty means the file is whole."""

    path: Path
    taken_at: str = ""
    source: str = ""
    revision: str = ""
    rows: int = 0
    days_checked: int = 0
    problems: list[str] = field(default_factory=list)


def _tables() -> list[Table]:
    return [t for t in SQLModel.metadata.sorted_tables if t.name != "alembic_version"]


# --- taking a backup -----------------------------------------------------------------------


def backup(
    source: Database,
    path: Path,
    *,
    force: bool = False,
    keep: int | None = None,
    progress: Progress | None = None,
) -> BackupReport:
    """A consistent copy of `source` in `path` (with `keep`: `path` stamped with the time,
    only the newest `keep` such files kept). Refuses an existing file unless `force`."""
    if keep is not None and keep < 1:
        raise ValidationError("--keep must be at least 1")
    taken_at = clock.now()
    target = _stamped(path, taken_at) if keep else path
    if target.exists() and not force:
        raise ValidationError(f"{target} exists: give --force to replace it")
    if source.schema_revision() is None:
        raise ValidationError(f"{source.label} holds no Lead MS database")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        if source.is_sqlite:
            _copy_sqlite(source, partial)
        else:
            _copy_postgres(source, partial, progress)
        rows = _write_manifest(partial, source, taken_at)
        partial.replace(target)  # a reader never sees a half-written backup under the name
    finally:
        partial.unlink(missing_ok=True)
    removed = _rotate(path, keep) if keep else []
    return BackupReport(target, taken_at, rows, len(_tables()), removed)


def _stamped(path: Path, at: datetime) -> Path:
    return path.with_name(f"{path.stem}-{at:%Y%m%dT%H%M%SZ}{path.suffix or '.db'}")


def _rotate(path: Path, keep: int) -> list[Path]:
    pattern = f"{path.stem}-????????T??????Z{path.suffix or '.db'}"
    stamped = sorted(path.parent.glob(pattern))
    removed = stamped[:-keep]
    for old in removed:
        old.unlink()
    return removed


def _copy_sqlite(source: Database, target: Path) -> None:
    """SQLite's online backup: a consistent snapshot while others write (WAL)."""
    with translate_errors(), source.engine.connect() as conn:
        copy = sqlite3.connect(target)
        try:
            _sqlite_connection(conn).backup(copy)
        finally:
            copy.close()


def _sqlite_connection(conn: Connection) -> sqlite3.Connection:
    """The driver's own connection under a SQLite engine's (the backup API lives there)."""
    raw = conn.connection.driver_connection
    if not isinstance(raw, sqlite3.Connection):
        raise TypeError(f"not an SQLite connection: {type(raw).__name__}")
    return raw


def _copy_postgres(source: Database, target: Path, progress: Progress | None) -> None:
    """Every table read in one REPEATABLE READ, read-only transaction: one snapshot."""
    copy = Database(f"sqlite:///{target}")
    try:
        copy.upgrade()
        tables = _tables()
        with copy.engine.begin() as writing:
            for table in reversed(tables):  # what the migrations seed goes: the source has its own
                if table.name != "audit_events":
                    writing.execute(table.delete())
        with (
            translate_errors(),
            source.engine.connect().execution_options(isolation_level="REPEATABLE READ") as reading,
            copy.engine.begin() as writing,
        ):
            reading.execute(text("SET TRANSACTION READ ONLY"))
            for table in tables:
                copied = 0
                keys = list(table.primary_key.columns) or list(table.columns)
                result = reading.execution_options(yield_per=BATCH).execute(
                    select(table).order_by(*keys)
                )
                for part in result.mappings().partitions(BATCH):
                    writing.execute(table.insert(), [dict(row) for row in part])
                    copied += len(part)
                if progress:
                    progress(table.name, copied)
    finally:
        copy.dispose()


def _write_manifest(path: Path, source: Database, taken_at: datetime) -> int:
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        conn.execute(f'DROP TABLE IF EXISTS "{MANIFEST}"')
        conn.execute(f'CREATE TABLE "{MANIFEST}" (key TEXT PRIMARY KEY, value TEXT NOT NULL)')
        sums = _table_sums(conn)
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        values = {
            "taken_at": taken_at.isoformat(timespec="seconds"),
            "source": describe_url(source.url),
            "engine": "sqlite" if source.is_sqlite else "postgresql",
            "revision": revision,
            "tables": json.dumps(sums, sort_keys=True),
        }
        conn.executemany(f'INSERT INTO "{MANIFEST}" VALUES (?, ?)', values.items())
    return sum(count for count, _ in sums.values())


def _table_sums(conn: sqlite3.Connection) -> dict[str, tuple[int, str]]:
    """Per table: rows, and sha256 over them in key order (each a canonical JSON list)."""
    sums = {}
    for table in _tables():
        keys = [c.name for c in table.primary_key.columns] or [c.name for c in table.columns]
        order = ", ".join(f'"{k}"' for k in keys)
        digest, count = hashlib.sha256(), 0
        for row in conn.execute(f'SELECT * FROM "{table.name}" ORDER BY {order}'):
            digest.update(json.dumps([plain(v) for v in row], default=str).encode())
            digest.update(b"\n")
            count += 1
        sums[table.name] = (count, digest.hexdigest())
    return sums


# --- checking one ---------------------------------------------------------------------------


def verify_backup(path: Path) -> BackupCheck:
    """Read the whole file back against its manifest; every problem found is listed."""
    check = BackupCheck(path)
    if not path.is_file():
        check.problems.append(f"{path} is not a file")
        return check
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        check.problems.append(f"not a readable SQLite file ({exc})")
        return check
    try:
        _check(conn, check)
    except sqlite3.DatabaseError as exc:
        check.problems.append(f"the file is damaged or truncated ({exc})")
    finally:
        conn.close()
    return check


def _check(conn: sqlite3.Connection, check: BackupCheck) -> None:
    integrity = conn.execute("PRAGMA integrity_check").fetchall()
    if integrity != [("ok",)]:
        check.problems.append(f"SQLite integrity check: {integrity[0][0]}")
        return
    try:
        manifest = dict(conn.execute(f'SELECT key, value FROM "{MANIFEST}"').fetchall())
    except sqlite3.OperationalError:
        check.problems.append("no manifest: not a Lead MS backup (or made by another tool)")
        return
    check.taken_at, check.source = manifest.get("taken_at", ""), manifest.get("source", "")
    check.revision = manifest.get("revision", "")
    expected = {name: tuple(value) for name, value in json.loads(manifest["tables"]).items()}
    found = _table_sums(conn)
    check.rows = sum(count for count, _ in found.values())
    for name in sorted(expected.keys() | found.keys()):
        want, got = expected.get(name), found.get(name)
        if want is None or got is None:
            check.problems.append(f"{name}: in the {'file' if want is None else 'manifest'} only")
        elif want[0] != got[0]:
            check.problems.append(f"{name}: {got[0]} rows, the manifest says {want[0]}")
        elif want[1] != got[1]:
            check.problems.append(f"{name}: its rows differ from when the backup was taken")
    days = conn.execute(
        "SELECT business_date, count(*), max(seq) FROM leads GROUP BY business_date"
    ).fetchall()
    check.days_checked = len(days)
    gaps = [day for day, count, top in days if count != top]
    if gaps:
        check.problems.append(f"lead numbers have gaps on {len(gaps)} day(s), e.g. {gaps[0]}")


# --- restoring ------------------------------------------------------------------------------


def restore(
    path: Path, target: Database, *, progress: Callable[[str, int, int], None] | None = None
) -> list[str]:
    """Fill the empty `target` from the backup at `path`, after checking the file; returns
    the mismatches found when the copy is verified (none: restored)."""
    check = verify_backup(path)
    if check.problems:
        raise ValidationError(f"{path} fails verification: " + "; ".join(check.problems[:3]))
    source = Database(f"sqlite:///{path}")
    try:
        if source.schema_revision() != _head():
            raise ValidationError(
                f"{path} is at schema {check.revision}; this Lead MS restores {_head()}: "
                "restore it with the Lead MS version that made it, then `leadms db upgrade`"
            )
        if target.is_sqlite:
            return _restore_sqlite(source, path, target)
        from leadms_tui.domain.transfer import move

        return move(source, target, progress=progress).mismatches
    finally:
        source.dispose()


def _head() -> str:
    from leadms_tui.domain.db import SCHEMA_HEAD

    return SCHEMA_HEAD


def _restore_sqlite(source: Database, path: Path, target: Database) -> list[str]:
    with translate_errors(), target.engine.connect() as conn:
        tables = conn.execute(
            text("SELECT count(*) FROM sqlite_master WHERE type = 'table'")
        ).scalar_one()
    if tables:
        raise ValidationError(f"{target.label} is not empty: restore into a new database")
    backup_file = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        with target.engine.connect() as conn:
            backup_file.backup(_sqlite_connection(conn))
    finally:
        backup_file.close()
    with target.engine.begin() as conn:
        conn.execute(text(f'DROP TABLE "{MANIFEST}"'))
    from leadms_tui.domain.transfer import verify

    return verify(source, target).mismatches


def row_counts(database: Database) -> dict[str, int]:
    """Rows per table (to compare a database with what a backup restored)."""
    with database.engine.connect() as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in _tables()
        }


_ = models  # the tables must be registered on SQLModel.metadata before _tables() reads it
