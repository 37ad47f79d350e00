"""Moving a team's Lead MS database (the embedded SQLite file, or any Lead MS database) into
an empty PostgreSQL database: schema by migration, rows in batches with their ids, sequences
and day counters set so numbering continues gapless, files and field values included, the
audit trail copied as it is (its append-only triggers in place), then verified. The source is
only read."""

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import Table, func, inspect, select, text
from sqlmodel import SQLModel

from leadms_tui.domain import models
from leadms_tui.domain.audit import plain
from leadms_tui.domain.db import Database
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


def check_empty(target: Database) -> None:
    """Refuse a target that has any Lead MS table (or any table at all in its schema)."""
    if target.engine.dialect.name != "postgresql":
        raise ValidationError("the target must be a PostgreSQL database (postgresql://...)")
    with target.engine.connect() as conn:
        tables = inspect(conn).get_table_names()
    if tables:
        raise ValidationError(
            f"{target.label} is not empty ({len(tables)} tables, e.g. {sorted(tables)[0]}): "
            "create a new database for the move"
        )


def move(source: Database, target: Database, *, progress: Progress | None = None) -> Verification:
    """Copy every row of `source` into the empty `target`, then verify the copy."""
    check_empty(target)
    target.upgrade()
    tables = _tables()
    with target.engine.begin() as conn:  # rows the migrations seed (rules, a template) go
        names = ", ".join(f'"{t.name}"' for t in tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    with source.engine.connect() as reading:
        totals = {
            t.name: reading.execute(select(func.count()).select_from(t)).scalar_one()
            for t in tables
        }
        for table in tables:
            copied = 0
            with target.engine.begin() as writing:
                for rows in _batches(reading, table):
                    writing.execute(table.insert(), rows)
                    copied += len(rows)
                    if progress:
                        progress(table.name, copied, totals[table.name])
            if progress and not copied:
                progress(table.name, 0, 0)
    _set_sequences(target, tables)
    return verify(source, target)


def _batches(conn, table: Table) -> Iterator[list[dict]]:  # type: ignore[no-untyped-def]
    keys = list(table.primary_key.columns) or list(table.columns)
    result = conn.execution_options(yield_per=BATCH).execute(select(table).order_by(*keys))
    for partition in result.mappings().partitions(BATCH):
        yield [dict(row) for row in partition]


def _set_sequences(target: Database, tables: list[Table]) -> None:
    """Each serial id continues after the highest copied one (lead, call, ... ids)."""
    with target.engine.begin() as conn:
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
    events = models.AuditEvent.__table__  # type: ignore[attr-defined]
    digest = hashlib.sha256()
    result = conn.execution_options(yield_per=BATCH).execute(select(events).order_by(events.c.id))
    for row in result.mappings():
        canonical = {key: plain(value) for key, value in row.items()}
        digest.update(json.dumps(canonical, sort_keys=True, default=str).encode())
    return digest.hexdigest()
