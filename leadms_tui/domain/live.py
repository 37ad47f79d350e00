"""Live updates: every committed write tells every open TUI which tables it touched.

Writers (a TUI, the CLI, the intake service: any process) note the tables their statements
write and announce them as the transaction commits: on PostgreSQL with `pg_notify`, which
listeners receive only if the transaction commits; on SQLite, which has no notifications, as
a row in `live_changes` written inside the transaction. A `Listener` (one per TUI, in a
thread) turns either into sets of table names: PostgreSQL by `LISTEN` on its own connection,
SQLite by polling `PRAGMA data_version` (a counter read from shared memory: microseconds)
and reading the rows added since the last poll.
"""

import re
import sqlite3
import time
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError

from leadms_tui.domain import clock

CHANNEL = "leadms_changes"
EVERYTHING = frozenset({"*"})  # changes were missed (a reconnect, a pruned backlog): reload all
SQLITE_POLL_SECONDS = 0.1
KEEP_SQLITE_CHANGES = 5_000  # rows of `live_changes` kept for slow readers
_NOT_ANNOUNCED = {"live_changes", "alembic_version", "login_failures"}
_WRITING = re.compile(r"\s*(?:INSERT|UPDATE|DELETE|WITH)\b", re.IGNORECASE)
# The tables a writing statement (or its data-modifying CTEs) writes; not `ON CONFLICT DO
# UPDATE SET` or `FOR UPDATE OF`, which name no table of their own.
_WRITTEN = re.compile(
    r'(?<!FOR )(?<!DO )\b(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)',
    re.IGNORECASE,
)
_TOUCHED = "leadms_touched"


def touches(changes: frozenset[str], tables: Iterable[str]) -> bool:
    """Whether `changes` (from a Listener) concern any of `tables`."""
    return "*" in changes or not changes.isdisjoint(tables)


@lru_cache(maxsize=256)  # compiled statements repeat; intake's one is ~4 KB of SQL to scan
def written_tables(statement: str) -> frozenset[str]:
    """The tables a statement writes (none for a read)."""
    if not _WRITING.match(statement):
        return frozenset()
    return frozenset(name.lower() for name in _WRITTEN.findall(statement))


def note_written(conn: Connection, tables: Iterable[str]) -> None:
    """Announce `tables` when `conn`'s transaction commits (for writes made on its driver
    connection, such as COPY, which SQLAlchemy's events do not see)."""
    conn.info.setdefault(_TOUCHED, set()).update(tables)


def install(engine: Engine, *, is_sqlite: bool) -> None:
    """Make every transaction on `engine` announce, as it commits, the tables it wrote."""

    @event.listens_for(engine, "before_cursor_execute")
    def _note(conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        if tables := written_tables(statement):
            note_written(conn, tables)

    @event.listens_for(engine, "commit")
    def _announce(conn: Connection) -> None:
        tables = conn.info.pop(_TOUCHED, set()) - _NOT_ANNOUNCED
        if tables:
            dbapi = conn.connection.dbapi_connection
            (_announce_sqlite if is_sqlite else _announce_postgres)(dbapi, ",".join(sorted(tables)))

    @event.listens_for(engine, "rollback")
    def _forget(conn: Connection) -> None:
        if not conn.invalidated:  # a lost connection takes its notes with it
            conn.info.pop(_TOUCHED, None)


def _announce_postgres(dbapi: Any, tables: str) -> None:
    """NOTIFY and COMMIT in one round trip (psycopg sends a query without parameters as one
    simple query): a lead's number is locked from its upsert to the commit, and an extra
    round trip there would halve intake with eight writers. psycopg's own commit that
    follows finds no transaction open and sends nothing."""
    try:
        dbapi.execute(f"NOTIFY {CHANNEL}, '{tables}'; COMMIT")  # names are \w+: no quoting
    except Exception as exc:  # as SQLAlchemy would raise it, so writes retry as usual
        import psycopg

        raise DBAPIError.instance("COMMIT", None, exc, psycopg.Error) from exc


def _announce_sqlite(dbapi: Any, tables: str) -> None:
    try:
        cursor = dbapi.execute(
            "INSERT INTO live_changes (at, tables) VALUES (?, ?)", (clock.now().timestamp(), tables)
        )
    except sqlite3.OperationalError:  # a database before migration 0010: nobody listens
        return
    if cursor.lastrowid and cursor.lastrowid % 256 == 0:  # pruned now and then, by index
        dbapi.execute(
            "DELETE FROM live_changes WHERE id <= ?", (cursor.lastrowid - KEEP_SQLITE_CHANGES,)
        )


class Listener:
    """The changes other writers (and this process) commit to one database, for one thread."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self._is_sqlite = parsed.get_backend_name() == "sqlite"
        self._path = parsed.database or ""
        self._conninfo = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        self._connection: Any = None
        self._missed = False  # the connection was lost: changes may have gone unseen
        self._version = -1
        self._last_id = 0

    def wait(self, timeout: float) -> frozenset[str]:
        """The tables changed since the last call, waiting up to `timeout` seconds for one.

        An empty set: nothing changed. `EVERYTHING` when changes may have been missed (the
        first wait after a lost connection)."""
        try:
            if self._connection is None:
                self._connect()
                missed, self._missed = self._missed, False
                return EVERYTHING if missed else frozenset()
            return self._wait_sqlite(timeout) if self._is_sqlite else self._wait_postgres(timeout)
        except Exception:  # the database went away: try again after a pause
            self.close()
            self._missed = True
            time.sleep(min(timeout, 1.0))
            return frozenset()

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            finally:
                self._connection = None

    def _connect(self) -> None:
        if self._is_sqlite:
            self._connection = sqlite3.connect(self._path, timeout=5, isolation_level=None)
            (self._last_id,) = self._connection.execute(
                "SELECT coalesce(max(id), 0) FROM live_changes"
            ).fetchone()
            self._data_version()
        else:
            import psycopg

            self._connection = psycopg.connect(self._conninfo, autocommit=True)
            self._connection.execute(f"LISTEN {CHANNEL}")

    # --- PostgreSQL ---

    def _wait_postgres(self, timeout: float) -> frozenset[str]:
        tables: set[str] = set()
        for notice in self._connection.notifies(timeout=timeout, stop_after=1):
            tables.update(notice.payload.split(","))
        if tables:  # whatever else already arrived, in the same batch
            for notice in self._connection.notifies(timeout=0.001):
                tables.update(notice.payload.split(","))
        return frozenset(tables)

    # --- SQLite ---

    def _wait_sqlite(self, timeout: float) -> frozenset[str]:
        deadline = time.monotonic() + timeout
        while not self._data_version():
            if time.monotonic() >= deadline:
                return frozenset()
            time.sleep(SQLITE_POLL_SECONDS)
        rows = self._connection.execute(
            "SELECT id, tables FROM live_changes WHERE id > ? ORDER BY id", (self._last_id,)
        ).fetchall()
        if not rows:  # a commit that wrote no announced table (statistics, say)
            return frozenset()
        missed = rows[0][0] != self._last_id + 1  # pruned before this reader saw them
        self._last_id = rows[-1][0]
        if missed:
            return EVERYTHING
        return frozenset(table for _, tables in rows for table in tables.split(","))

    def _data_version(self) -> bool:
        """Whether any other connection committed since the last look."""
        (version,) = self._connection.execute("PRAGMA data_version").fetchone()
        changed = version != self._version
        self._version = version
        return changed
