"""Many rows into one table at the driver, for imports: the same values, a fraction of the work.

SQLAlchemy's executemany ran each column type's bind processing for every value of every row
plus its own bookkeeping: half of an import's time. Here each value still goes through its
column type's bind processor (the cleaning of `Line`, `Lines`, `CleanJSON`, naive UTC
timestamps), but a value repeated in a column (the batch's timestamp, a channel, an action)
is processed once and JSON is serialized once. The rows go to the driver as multi-row VALUES
on SQLite (FTS5 flushes its pending terms once per statement; RETURNING works) and as COPY on
PostgreSQL, inside the caller's transaction, announced to live listeners like any other write.
"""

from collections.abc import Callable, Sequence
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import Column, Table
from sqlalchemy.engine import Connection

from leadms_tui.domain import live, text
from leadms_tui.domain.models import CleanJSON

SQLITE_MAX_VARIABLES = 32_766  # SQLite >= 3.32
SQLITE_ROWS_PER_STATEMENT = 500


def insert_rows(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    returning: Sequence[str] = (),
) -> list[tuple]:
    """Insert `rows` (dicts with the same keys) into `table`; the `returning` columns of each
    inserted row, in no particular order (SQLite only: COPY returns nothing)."""
    if not rows:
        return []
    names = list(rows[0])
    columns = [table.c[name] for name in names]
    _check_defaults(table, names)
    values = _bound(conn, columns, rows)
    if conn.dialect.name == "sqlite":
        return _insert_sqlite(conn, table, names, values, returning)
    if returning:
        raise ValueError("COPY returns no rows: query the inserted rows by a key instead")
    _copy_postgres(conn, table, names, values)
    return []


def _check_defaults(table: Table, names: list[str]) -> None:
    """A column left out would miss its Python-side default (only SQLAlchemy applies it)."""
    missing = [
        c.name
        for c in table.columns
        if c.default is not None and c.name not in names and not c.primary_key
    ]
    if missing:
        raise ValueError(f"rows for {table.name} lack {', '.join(missing)}, which have defaults")


def _bound(conn: Connection, columns: list[Column], rows: Sequence[dict[str, Any]]) -> list[tuple]:
    """Each row as the driver receives it: every value through its column's bind processor.

    Column by column, so each processor runs over a list, and once per distinct value where
    equal values are processed alike (`_shareable`) and of one type (1 and True are equal
    keys, not equal values)."""
    bound_columns = []
    for column in columns:
        values = [row[column.name] for row in rows]
        process = _processor(column, conn.dialect)
        if process is not None:
            values = _processed(process, values)
        bound_columns.append(values)
    return list(zip(*bound_columns, strict=True))


def _processed(process: Callable[[Any], Any], values: list[Any]) -> list[Any]:
    kinds = set(map(type, values)) - {type(None)}
    if len(kinds) == 1 and _shareable(kinds.pop(), values):
        distinct = {value: process(value) for value in dict.fromkeys(values)}
        return [distinct[value] for value in values]
    return list(map(process, values))


def _shareable(kind: type, values: list[Any]) -> bool:
    """Whether equal values are processed alike: not so for 0.0 and -0.0, 1.0 and 1.00 (a
    Decimal), one instant in two time zones, or JSON (unhashable)."""
    if issubclass(kind, datetime):
        return len({value.tzinfo for value in values if value is not None}) == 1
    return issubclass(kind, str | int | date | Enum)


def _processor(column: Column, dialect: Any) -> Callable[[Any], Any] | None:
    if isinstance(column.type, CleanJSON):  # its own processor serializes twice (check, store)
        if getattr(column.type.impl_instance, "none_as_null", False):
            return _clean_json_or_null
        return text.clean_json
    return column.type._cached_bind_processor(dialect)


def _clean_json_or_null(value: Any) -> str | None:
    return None if value is None else text.clean_json(value)


def _insert_sqlite(
    conn: Connection,
    table: Table,
    names: list[str],
    values: list[tuple],
    returning: Sequence[str],
) -> list[tuple]:
    per_statement = max(1, min(SQLITE_ROWS_PER_STATEMENT, SQLITE_MAX_VARIABLES // len(names)))
    row_marks = "(" + ", ".join("?" * len(names)) + ")"
    head = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES "
    tail = f" RETURNING {', '.join(returning)}" if returning else ""
    returned: list[tuple] = []
    for start in range(0, len(values), per_statement):
        chunk = values[start : start + per_statement]
        statement = head + ", ".join([row_marks] * len(chunk)) + tail
        flat = tuple(value for row in chunk for value in row)
        result = conn.exec_driver_sql(statement, flat)
        if returning:
            returned.extend(tuple(row) for row in result)
    return returned


def _copy_postgres(conn: Connection, table: Table, names: list[str], values: list[tuple]) -> None:
    driver = conn.connection.dbapi_connection
    statement = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
    with driver.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
        for row in values:
            copy.write_row(row)
    live.note_written(conn, {table.name})
