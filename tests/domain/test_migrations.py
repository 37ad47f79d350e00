"""Migrations take an empty database to head on both engines, and match the models."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlmodel import SQLModel

from leadms_tui.domain.db import SCHEMA_HEAD, Database, _alembic_config


def _empty_database(request, engine: str) -> Database:
    if engine == "sqlite":
        return Database(request.getfixturevalue("sqlite_url"))
    url = request.getfixturevalue("pg_url")
    database = Database(url)
    with database.engine.begin() as conn:  # the fixture's copy is migrated: empty it
        SQLModel.metadata.drop_all(conn)
        conn.exec_driver_sql("DROP TABLE alembic_version")
    return database


def _modelled(name: str | None, type_: str, parent_names: dict) -> bool:
    """All but the lead search index, which each engine builds its own way (see `Lead`), and
    SQLite's log of changes for live updates (see `domain/live.py`)."""
    return not (name or "").startswith("lead_search") and name != "live_changes"


def test_empty_database_upgrades_to_head_and_matches_models(request, db_url):
    engine = "sqlite" if db_url.startswith("sqlite") else "postgres"
    database = _empty_database(request, engine)
    assert database.schema_revision() is None
    database.upgrade()
    database.upgrade()  # idempotent
    assert database.schema_revision() == SCHEMA_HEAD
    with database.engine.connect() as conn:
        assert {"leads", "users", "day_counters", "audit_events"} <= set(
            inspect(conn).get_table_names()
        )
        opts = {"compare_type": True, "include_name": _modelled}
        context = MigrationContext.configure(conn, opts=opts)
        assert compare_metadata(context, SQLModel.metadata) == []


def test_schema_head_constant_is_the_newest_migration(sqlite_url):
    database = Database(sqlite_url)
    with database.engine.connect() as conn:
        heads = ScriptDirectory.from_config(_alembic_config(conn)).get_heads()
    assert heads == [SCHEMA_HEAD]


def test_0012_marks_leads_taken_in_before_response_clocks(request, db_url):
    """A database with leads gets `response_clock_since` = its newest lead's time, so the
    ladder never acts on leads from before the clocks existed; an empty one gets nothing."""
    from alembic import command
    from sqlalchemy import text

    engine = "sqlite" if db_url.startswith("sqlite") else "postgres"
    database = _empty_database(request, engine)
    with database.engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "0010")
        conn.execute(
            text(
                "INSERT INTO leads (number, business_date, seq, name, channel, status, "
                "repeat_count, created_at, updated_at, version, search_name) VALUES "
                "('LEAD-20261125-001', '2026-11-25', 1, 'Dora', 'website', 'new', 0, "
                "'2026-11-25 10:00:00', '2026-11-25 10:00:00', 1, 'dora')"
            )
        )
    database.upgrade()
    with database.engine.connect() as conn:
        since = conn.execute(
            text("SELECT value FROM settings WHERE key = 'response_clock_since'")
        ).scalar()
    assert since is not None and since.startswith("2026-11-25")
