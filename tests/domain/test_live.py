"""Live updates, the domain half: a committed write reaches a Listener on the same database
with the tables it touched, from this process or another; a rolled-back one never does."""

import multiprocessing
import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from leadms_tui.domain import live
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.db import Database
from leadms_tui.domain.errors import ValidationError
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.team.settings import set_setting
from tests.workers import take_leads


def _collect(listener: live.Listener, seconds: float = 3.0, want: str | None = None) -> set[str]:
    """Everything the listener reports within `seconds` (or until `want` is among it)."""
    seen: set[str] = set()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and (want is None or want not in seen):
        seen |= listener.wait(0.2)
    return seen


@pytest.fixture
def listener(db: Database):
    listening = live.Listener(db.url)
    assert listening.wait(0.1) == frozenset()  # connects; nothing has happened yet
    yield listening
    listening.close()


def test_a_committed_write_is_announced_with_its_tables(db, listener):
    lead = LeadCreate(name="Dora Due", phone="+442079460000", channel="website")
    create_lead(db, lead, actor=SYSTEM)
    seen = _collect(listener, want="leads")
    assert {"leads", "inquiries", "audit_events", "day_counters"} <= seen
    assert "live_changes" not in seen and "*" not in seen
    assert _collect(listener, seconds=0.5) == set()  # told once


def test_a_rolled_back_write_is_not_announced(db, listener):
    db.write(lambda s: set_setting(s, "currency", "EUR", actor=SYSTEM), dry_run=True)

    def fails(session):
        set_setting(session, "currency", "GBP", actor=SYSTEM)
        raise ValidationError("no")

    with pytest.raises(ValidationError):
        db.write(fails)
    assert _collect(listener, seconds=1.0) == set()
    db.write(lambda s: set_setting(s, "currency", "GBP", actor=SYSTEM))
    assert "settings" in _collect(listener, want="settings")


def test_writes_of_other_processes_are_announced(db, listener):
    start_at = time.monotonic() + 0.5
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        results = pool.starmap(take_leads, [(db.url, w, 5, start_at + 2.0) for w in range(2)])
    assert all(not errors for _, errors in results)
    assert "leads" in _collect(listener, want="leads")


def test_a_listener_that_lost_its_connection_reports_everything(db):
    listening = live.Listener(db.url)
    try:
        listening.wait(0.1)
        listening._connection.close()  # the server went away under it
        assert listening.wait(0.1) == frozenset()  # the failure: a pause, no news
        assert listening.wait(0.1) == live.EVERYTHING  # back: whatever was missed, reload
    finally:
        listening.close()


def test_a_sqlite_reader_that_fell_behind_the_pruning_reloads_everything(sqlite_url):
    database = Database(sqlite_url)
    database.upgrade()
    listening = live.Listener(sqlite_url)
    try:
        listening.wait(0.1)
        with database.engine.begin() as conn:  # as if 5,000 changes had come and gone
            conn.exec_driver_sql("INSERT INTO live_changes VALUES (9000, 0, 'leads')")
        assert listening.wait(1.0) == live.EVERYTHING
    finally:
        listening.close()
        database.dispose()


def test_touches():
    assert live.touches(frozenset({"calls"}), {"calls", "leads"})
    assert not live.touches(frozenset({"users"}), {"calls", "leads"})
    assert live.touches(live.EVERYTHING, {"calls"})


@pytest.mark.postgres
def test_a_commit_that_fails_with_its_notify_fails_as_a_write_does(pg_url):
    """On PostgreSQL the NOTIFY rides with the COMMIT: a commit refused by the server is
    still SQLAlchemy's error (retried or reported as any write failure), nothing is
    announced, and the connection serves the next write."""
    database = Database(pg_url)
    listening = live.Listener(database.url)
    try:
        listening.wait(0.1)
        with database.engine.begin() as conn:
            conn.exec_driver_sql(
                "CREATE TABLE deferred_check (id int, CONSTRAINT once UNIQUE (id) "
                "DEFERRABLE INITIALLY DEFERRED)"
            )
        _collect(listening, seconds=0.5)

        def twice(session):
            session.execute(text("INSERT INTO deferred_check VALUES (1), (1)"))

        with pytest.raises(IntegrityError):
            database.write(twice)  # the unique check runs at COMMIT
        assert _collect(listening, seconds=1.0) == set()
        database.write(lambda s: s.execute(text("INSERT INTO deferred_check VALUES (2)")))
        assert "deferred_check" in _collect(listening, want="deferred_check")
    finally:
        listening.close()
        database.dispose()
