"""Moving a team's Lead MS database (the embedded SQLite file, or any Lead MS database) into
an empty PostgreSQL database: schema by migration, rows in batches with their ids, sequences
and day counters set so numbering continues gapless, files and field values included, the
audit trail copied as it is (its append-only triggers in place), then verified. The source is
only read.

Nothing is written until every source row is known to fit the target's columns (SQLite keeps
a 10,000-character label in a 200-character column; PostgreSQL refuses it halfway). From its
first write until verification passes the target carries a "move in progress" marker table:
no Lead MS command opens it (`db.check_not_moving`), and a retry says how to start over."""

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Table,
    TypeDecorator,
    func,
    inspect,
    select,
    text,
)
from sqlmodel import SQLModel

from leadms_tui.domain import clock, models
from leadms_tui.domain.audit import plain
from leadms_tui.domain.db import MOVE_MARKER, Database, translate_errors
from leadms_tui.domain.errors import ValidationError

BATCH = 5_000
Progress = Callable[[str, int, int], None]  # table, rows copied so far, rows in all


@dataclass
class Verification:
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)  # table: (source, target)
    numbers_per_day: tuple[int, int] = (0, 0)  # days whose numbers differ: (checked, differing)
    audit_checksum: tuple[str, str] = ("", "")

    @property
    def mismatches(self) -> list[str]:
        found = [
            f"{t}: {s} rows in the source, {d} in the target"
            for t, (s, d) in self.counts.items()
            if s != d
        ]
        if self.numbers_per_day[1]:
            found.append(f"lead numbers differ on {self.numbers_per_day[1]} day(s)")
        if self.audit_checksum[0] != self.audit_checksum[1]:
            found.append("the audit trail's checksum differs")
        return found


def _tables() -> list[Table]:
    return [t for t in SQLModel.metadata.sorted_tables if t.name != "alembic_version"]


SHOWN_PROBLEMS = 5  # rows that do not fit, listed in the refusal; the rest are counted
_INTEGER_BITS = {SmallInteger: 16, BigInteger: 64, Integer: 32}  # subclasses first


def check_empty(target: Database) -> None:
    """Refuse a target that has any table in its schema; an unfinished move says so."""
    if target.engine.dialect.name != "postgresql":
        raise ValidationError("the target must be a PostgreSQL database (postgresql://...)")
    with translate_errors(), target.engine.connect() as conn:
        tables = inspect(conn).get_table_names()
    if MOVE_MARKER in tables:
        raise ValidationError(
            f"{target.label} holds an unfinished move: run `leadms db move-to URL --restart` "
            "to clear it and move again"
        )
    if tables:
        raise ValidationError(
            f"{target.label} is not empty ({len(tables)} tables, e.g. {sorted(tables)[0]}): "
            "create a new database for the move"
        )


def check_restartable(target: Database) -> None:
    """`--restart` clears only a target an earlier move left unfinished (or an empty one),
    never a database that was not ours to fill."""
    if target.engine.dialect.name != "postgresql":
        raise ValidationError("the target must be a PostgreSQL database (postgresql://...)")
    with translate_errors(), target.engine.connect() as conn:
        tables = inspect(conn).get_table_names()
    if tables and MOVE_MARKER not in tables:
        raise ValidationError(
            f"{target.label} holds no unfinished move and is not empty: --restart clears "
            "only a target an earlier move left unfinished"
        )


def _clear(target: Database) -> None:
    """The whole schema: tables, the audit trigger's function, pg_trgm, the sequences."""
    with translate_errors(), target.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))


def check_fits(source: Database, tables: list[Table] | None = None) -> None:
    """Refuse, before anything is written, a source with any value the target's columns
    cannot hold (a text longer than its column, a number out of its column's range)."""
    problems: list[str] = []
    with translate_errors(), source.engine.connect() as reading:
        for table in tables or _tables():
            checks = [(column, _limit(column)) for column in table.columns]
            checks = [(column, limit) for column, limit in checks if limit]
            if not checks:
                continue
            for rows in _batches(reading, table):
                for row in rows:
                    for column, limit in checks:
                        why = limit(row[column.name])
                        if why:
                            problems.append(f"{table.name}.{column.name} {_row_name(row)}: {why}")
    if problems:
        more = len(problems) - SHOWN_PROBLEMS
        raise ValidationError(
            "nothing was written: the source has values the target cannot hold: "
            + "; ".join(problems[:SHOWN_PROBLEMS])
            + (f"; and {more} more" if more > 0 else "")
            + " (shorten or correct them in the source, then move again)"
        )


def _row_name(row: dict) -> str:
    return f"of row id {row['id']}" if "id" in row else "of a row"


def _limit(column: Column) -> Callable[[object], str | None] | None:  # type: ignore[type-arg]
    """A check of one value against what the column holds on PostgreSQL, or None."""
    kind = column.type.impl if isinstance(column.type, TypeDecorator) else column.type
    if isinstance(kind, String) and kind.length:
        length = kind.length
        return lambda v: (
            f"{len(v):,} characters, the target holds {length}"
            if isinstance(v, str) and len(v) > length
            else None
        )
    if isinstance(kind, Numeric) and kind.precision:
        whole_digits = kind.precision - (kind.scale or 0)
        bound = Decimal(10) ** whole_digits
        return lambda v: (
            f"{v} does not fit {whole_digits} whole digits"
            if isinstance(v, int | float | Decimal) and abs(Decimal(str(v))) >= bound
            else None
        )
    if isinstance(kind, Integer):
        bits = next(b for t, b in _INTEGER_BITS.items() if isinstance(kind, t))
        low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
        return lambda v: (
            f"{v} is outside {low}..{high}" if isinstance(v, int) and not low <= v <= high else None
        )
    return None


def move(
    source: Database,
    target: Database,
    *,
    progress: Progress | None = None,
    restart_target: bool = False,
) -> Verification:
    """Copy every row of `source` into the empty `target` in one transaction, then verify the
    copy; the target is marked "move in progress" until the verification passes."""
    (check_restartable if restart_target else check_empty)(target)
    tables = _tables()
    check_fits(source, tables)
    if restart_target:
        _clear(target)
    _mark(target)
    target.upgrade()
    with source.engine.connect() as reading, target.engine.begin() as writing:
        # rows the migrations seed (rules, a template) go: the source has its own
        names = ", ".join(f'"{t.name}"' for t in tables)
        writing.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        totals = {
            t.name: reading.execute(select(func.count()).select_from(t)).scalar_one()
            for t in tables
        }
        for table in tables:
            copied = 0
            for rows in _batches(reading, table):
                writing.execute(table.insert(), rows)
                copied += len(rows)
                if progress:
                    progress(table.name, copied, totals[table.name])
            if progress and not copied:
                progress(table.name, 0, 0)
        _set_sequences(writing, tables)
    result = verify(source, target)
    if not result.mismatches:
        with target.engine.begin() as conn:
            conn.execute(text(f'DROP TABLE "{MOVE_MARKER}"'))
    return result


def _mark(target: Database) -> None:
    """The first write: the marker that keeps every Lead MS command out until verified."""
    with translate_errors(), target.engine.begin() as conn:
        conn.execute(text(f'CREATE TABLE IF NOT EXISTS "{MOVE_MARKER}" (started_at TEXT NOT NULL)'))
        conn.execute(
            text(f'INSERT INTO "{MOVE_MARKER}" (started_at) VALUES (:at)'),
            {"at": clock.now().isoformat(timespec="seconds")},
        )


def _batches(conn, table: Table) -> Iterator[list[dict]]:  # type: ignore[no-untyped-def]
    keys = list(table.primary_key.columns) or list(table.columns)
    result = conn.execution_options(yield_per=BATCH).execute(select(table).order_by(*keys))
    for partition in result.mappings().partitions(BATCH):
        yield [dict(row) for row in partition]


def _set_sequences(conn, tables: list[Table]) -> None:  # type: ignore[no-untyped-def]
    """Each serial id continues after the highest copied one (lead, call, ... ids)."""
    for table in tables:
        if "id" not in table.columns or not table.c.id.autoincrement:
            continue
        sequence = conn.execute(
            text("SELECT pg_get_serial_sequence(:table, 'id')"), {"table": table.name}
        ).scalar()
        if sequence:
            conn.execute(
                text(
                    f'SELECT setval(:seq, coalesce((SELECT max(id) FROM "{table.name}"), 1), '
                    f'(SELECT max(id) FROM "{table.name}") IS NOT NULL)'
                ),
                {"seq": sequence},
            )


def verify(source: Database, target: Database) -> Verification:
    result = Verification()
    tables = _tables()
    with source.engine.connect() as a, target.engine.connect() as b:
        for table in tables:
            count = select(func.count()).select_from(table)
            result.counts[table.name] = (
                a.execute(count).scalar_one(),
                b.execute(count).scalar_one(),
            )
        per_day = select(
            models.Lead.business_date, func.count(), func.max(models.Lead.seq)
        ).group_by(models.Lead.business_date)
        days_a, days_b = dict_of(a.execute(per_day)), dict_of(b.execute(per_day))
        differing = sum(
            1 for day in days_a.keys() | days_b.keys() if days_a.get(day) != days_b.get(day)
        )
        result.numbers_per_day = (len(days_a), differing)
        result.audit_checksum = (_audit_checksum(a), _audit_checksum(b))
    return result


def dict_of(rows) -> dict:  # type: ignore[no-untyped-def]
    return {row[0]: tuple(row[1:]) for row in rows}


def _audit_checksum(conn) -> str:  # type: ignore[no-untyped-def]
    """sha256 over the audit trail in id order, each event in a canonical JSON form."""
    events = models.table_of(models.AuditEvent)
    digest = hashlib.sha256()
    result = conn.execution_options(yield_per=BATCH).execute(select(events).order_by(events.c.id))
    for row in result.mappings():
        canonical = {key: plain(value) for key, value in row.items()}
        digest.update(json.dumps(canonical, sort_keys=True, default=str).encode())
    return digest.hexdigest()
