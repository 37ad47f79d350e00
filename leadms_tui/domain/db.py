"""Engines, sessions, write transactions with retry, and schema migrations.

SQLite runs in WAL mode; write transactions start with `BEGIN IMMEDIATE` so a
writer takes the lock before it reads (no read-then-upgrade deadlocks), waits
out a busy timeout, and is retried a bounded number of times. PostgreSQL uses
psycopg 3 with READ COMMITTED and row locks taken by the services.
"""

import random
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    DisconnectionError,
    OperationalError,
    ProgrammingError,
)
from sqlmodel import Session

from leadms_tui.domain import live
from leadms_tui.domain.errors import DatabaseError
from leadms_tui.domain.events import SESSION_KEY, Dispatcher

T = TypeVar("T")

# The newest migration; compared with the database before Alembic is ever imported (fast start).
SCHEMA_HEAD = "0020"
# PostgreSQL's pool: connections kept open, and at most at once. The intake service runs
# at most MAX_CONNECTIONS request threads on either engine (SQLite writes one at a time).
POOL_SIZE, MAX_CONNECTIONS = 5, 10
SQLITE_BUSY_TIMEOUT_MS = 30_000
IDLE_PING_SECONDS = 10  # a pooled PostgreSQL connection idle longer is checked before use
WRITE_RETRIES = 8
_MIGRATION_LOCK_ID = 7_272_023  # pg advisory lock key: one upgrader at a time
_WRITE_OPTION = "leadms_write"
# A table `db move-to` keeps in its target until the copy is verified: nothing opens it.
MOVE_MARKER = "leadms_move_in_progress"


class _RolledBack(Exception):
    """Carries a dry run's result out of the transaction it rolls back."""

    def __init__(self, result: object) -> None:
        self.result = result


def normalize_url(url: str) -> str:
    """Accept the usual spellings; PostgreSQL always goes through psycopg 3."""
    url = url.strip()
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def parse_url(url: str) -> URL:
    """The parsed URL, or a one-line reason it is not one."""
    try:
        return make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise DatabaseError(
            f"not a database URL: {_masked_text(url)!r} (expected e.g. "
            "postgresql://user@host/dbname or sqlite:///path/leadms.db)"
        ) from exc


def describe_url(url: str) -> str:
    """The URL without its password (userinfo or `?password=`), for titles and messages."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return _masked_text(url)
    return _masked_text(parsed.render_as_string(hide_password=True))


def _masked_text(url: str) -> str:
    """A URL too broken to parse, with anything that may be a password masked."""
    url = re.sub(r"(?i)([?&]password=)[^&]*", r"\1***", url)
    return re.sub(r"(//[^/:@]*:)[^/@]*@", r"\1***@", url)


class Database:
    """One database: its engine, short sessions for reads, retried transactions for writes.

    `dispatcher` is who hears the events its sessions publish; `leadms_tui.bootstrap` gives
    the subscriber table. Without one, a database still reads, migrates and copies, but a
    service that publishes an event in it fails.
    """

    def __init__(self, url: str, dispatcher: Dispatcher | None = None) -> None:
        self.dispatcher = dispatcher
        self.url = normalize_url(url)
        parsed = parse_url(self.url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        # a SQLite file that is not there yet is created on first use: a mistyped path
        # would otherwise become a silent, empty database (the CLI says so on stderr)
        self.new_file = _new_sqlite_file(parsed.database) if self.is_sqlite else None
        if self.is_sqlite:
            self.engine = _sqlite_engine(self.url, parsed.database)
        elif parsed.get_backend_name() == "postgresql":
            self.engine = _postgres_engine(self.url)
        else:
            raise DatabaseError(f"unsupported database URL {describe_url(self.url)!r}")
        self._write_engine = self.engine.execution_options(**{_WRITE_OPTION: True})
        live.install(self.engine, is_sqlite=self.is_sqlite)  # every commit tells open TUIs

    @property
    def label(self) -> str:
        return describe_url(self.url)

    @property
    def short_label(self) -> str:
        """ "leadms.db" or "postgresql db.example.com/leadms": for titles."""
        parsed = make_url(self.url)
        if self.is_sqlite:
            return Path(parsed.database or ":memory:").name
        return f"postgresql {parsed.host or 'localhost'}/{parsed.database or ''}"

    def session(self) -> Session:
        """A session for reading; close it (use `with`) before handing data to the UI."""
        return self._session(self.engine)

    def _session(self, engine: Engine) -> Session:
        return Session(engine, expire_on_commit=False, info={SESSION_KEY: self.dispatcher})

    @contextmanager
    def reading(self) -> Iterator[Session]:
        with translate_errors(), self.session() as session:
            yield session

    def write(
        self, work: Callable[[Session], T], *, retries: int = WRITE_RETRIES, dry_run: bool = False
    ) -> T:
        """Run `work(session)` in one write transaction, retrying lock contention and deadlocks.

        `work` must be safe to run again: everything it did is rolled back before a retry.
        With `dry_run` the transaction is rolled back at the end and `work`'s result returned.
        """
        for attempt in range(retries + 1):
            try:
                session = self._session(self._write_engine)
                with session, session.begin():
                    result = work(session)
                    if dry_run:
                        raise _RolledBack(result)
                    return result
            except _RolledBack as rolled_back:
                return rolled_back.result
            except OperationalError as exc:
                if attempt == retries or not _is_retryable(exc):
                    raise DatabaseError(describe_db_error(exc)) from exc
            except DBAPIError as exc:
                if attempt == retries or not _is_retryable(exc):
                    raise
            time.sleep(random.uniform(0.005, 0.05) * (attempt + 1))
        raise AssertionError("unreachable")

    # --- schema ---------------------------------------------------------------

    def schema_revision(self) -> str | None:
        """The migration the database is at, or None for an empty database."""
        with translate_errors(), self.engine.connect() as conn:
            try:
                return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            except (OperationalError, ProgrammingError):
                return None

    def upgrade(self) -> None:
        """Bring the schema to the newest migration (idempotent, safe to run concurrently)."""
        from alembic import command  # imported only when a migration really has to run

        with translate_errors(), self._write_engine.begin() as conn:
            if not self.is_sqlite:
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_ID})")
            command.upgrade(_alembic_config(conn), "head")
        self.refresh_statistics()

    def refresh_statistics(self) -> None:
        """Keep SQLite's query planner informed (PostgreSQL's autovacuum does this itself).

        Without statistics SQLite can pick the wrong index once the tables are large (the
        team day view went from 27 ms to 2.6 s on 100k leads / 1M follow-ups). A sampled
        ANALYZE takes a few milliseconds; the sweep runs it every minute.
        """
        if not self.is_sqlite:
            return
        with translate_errors(), self._write_engine.begin() as conn:
            conn.exec_driver_sql("PRAGMA analysis_limit=1000")
            # Ordinary tables only: statistics of the full-text index's own tables, taken while
            # they were nearly empty, made indexing every later lead several times slower.
            tables = conn.exec_driver_sql(
                "SELECT name FROM pragma_table_list "
                "WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite%'"
            )
            for (name,) in tables.all():
                conn.exec_driver_sql(f'ANALYZE "{name}"')

    def check_not_moving(self) -> None:
        """Refuse a database `db move-to` is filling or left unfinished: its rows are not all
        there, and a person working in it would lose what they do on the restart."""
        if self.is_sqlite:
            return  # a move's target is always PostgreSQL
        with translate_errors(), self.engine.connect() as conn:
            marked = conn.execute(text("SELECT to_regclass(:name)"), {"name": MOVE_MARKER})
            if marked.scalar() is None:
                return
        raise DatabaseError(
            f"{self.label} is the target of a `leadms db move-to` that has not finished: "
            "wait for it, or if it stopped, run it again with --restart"
        )

    def ensure_schema(self, *, migrate: bool) -> None:
        """Check the schema is current; upgrade it when `migrate`, else explain what to run."""
        self.check_not_moving()
        if self.schema_revision() == SCHEMA_HEAD:
            return
        if migrate:
            self.upgrade()
            return
        raise DatabaseError(
            f"the database schema is not current (run `leadms db upgrade` for {self.label})"
        )

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(url: str, dispatcher: Dispatcher | None = None) -> Database:
    """Open `url`: a SQLite file is migrated automatically; PostgreSQL must be upgraded first."""
    database = Database(url, dispatcher)
    database.ensure_schema(migrate=database.is_sqlite)
    return database


def _postgres_engine(url: str) -> Engine:
    """A pooled psycopg 3 engine that checks a connection only when it has been idle.

    `pool_pre_ping` would add a round trip to every transaction (intake runs ~5); a
    connection used in the last few seconds is almost surely alive, and if not, the
    write fails with a one-line error and the pool replaces the connection.
    """
    engine = create_engine(url, pool_size=POOL_SIZE, max_overflow=MAX_CONNECTIONS - POOL_SIZE)

    @event.listens_for(engine, "connect")
    @event.listens_for(engine, "checkin")
    def _mark_used(_dbapi_connection: Any, record: Any) -> None:
        record.info["used_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get("used_at", 0.0) < IDLE_PING_SECONDS:
            return
        try:
            dbapi_connection.execute("SELECT 1")
            dbapi_connection.rollback()
        except Exception as exc:  # the pool discards it and connects again
            raise DisconnectionError("stale pooled connection") from exc

    return engine


def _new_sqlite_file(path: str | None) -> Path | None:
    """The file a SQLite URL will create, or None when it exists (or lives in memory)."""
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    file = Path(path).expanduser()
    return None if file.exists() else file.absolute()


def _sqlite_engine(url: str, path: str | None) -> Engine:
    if path and path != ":memory:":
        Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(_WRITE_OPTION)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _alembic_config(connection: Connection) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    config.attributes["connection"] = connection
    return config


def _is_retryable(exc: DBAPIError) -> bool:
    message = str(exc.orig).lower()
    if "database is locked" in message or "database is busy" in message:
        return True
    sqlstate = getattr(exc.orig, "sqlstate", None)
    return sqlstate in {"40001", "40P01"}  # serialization failure, deadlock detected


def describe_db_error(exc: BaseException) -> str:
    """One line a user can act on, for an error raised by the driver."""
    orig = getattr(exc, "orig", None) or exc
    first_line = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    if isinstance(exc, OperationalError):
        for pattern, reason in _CONNECTION_FAILURES:
            found = pattern.search(str(orig))
            if found:
                return reason.format(*found.groups())
        return f"database error: {first_line}"
    return first_line


# What psycopg says when a connection cannot be made, and the reason a person can act on.
_CONNECTION_FAILURES = [
    (
        re.compile(r'server at "([^"]*)", port (\d+) failed: Connection refused'),
        "cannot connect to {0} port {1}: connection refused (is PostgreSQL running there?)",
    ),
    (
        re.compile(r"(?:failed to resolve host|could not translate host name) '?\"?([^'\" ]*)"),
        "unknown host {0!r}: check the host in the database URL",
    ),
    (
        re.compile(r'database "([^"]*)" does not exist'),
        'database "{0}" does not exist on that server: create it (createdb {0}) or fix the URL',
    ),
    (
        re.compile(r'password authentication failed for user "([^"]*)"'),
        'the server refused the password of user "{0}"',
    ),
    (re.compile(r"(timeout expired)"), "cannot connect: {0} (is the host reachable?)"),
]


@contextmanager
def translate_errors() -> Iterator[None]:
    """Turn driver-level connection failures into a `DatabaseError` with a one-line message."""
    try:
        yield
    except OperationalError as exc:
        raise DatabaseError(describe_db_error(exc)) from exc
