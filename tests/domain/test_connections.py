"""PostgreSQL connections: a pooled connection the server dropped is replaced, never fatal."""

import psycopg
import pytest
from sqlalchemy import text

from leadms_tui.domain import db as db_module
from leadms_tui.domain.db import Database
from leadms_tui.domain.errors import DatabaseError

pytestmark = pytest.mark.postgres


def _backend_pid(database: Database) -> int:
    with database.reading() as session:
        return session.execute(text("SELECT pg_backend_pid()")).scalar_one()


def _terminate(pg_url: str, pid: int) -> None:
    with psycopg.connect(pg_url.replace("+psycopg", ""), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])


def test_an_idle_connection_is_checked_and_replaced(pg_url, monkeypatch):
    database = Database(pg_url)
    try:
        killed = _backend_pid(database)
        _terminate(pg_url, killed)
        monkeypatch.setattr(db_module, "IDLE_PING_SECONDS", 0)  # every checkout counts as idle
        assert _backend_pid(database) != killed
    finally:
        database.dispose()


def test_a_connection_dropped_while_busy_fails_one_write_cleanly(pg_url):
    database = Database(pg_url)
    try:
        _terminate(pg_url, _backend_pid(database))  # within the idle window: not pinged
        with pytest.raises(DatabaseError):
            database.write(lambda session: session.execute(text("SELECT 1")))
        assert database.write(lambda session: session.execute(text("SELECT 2")).scalar()) == 2
    finally:
        database.dispose()
