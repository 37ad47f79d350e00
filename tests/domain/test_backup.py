"""`leadms db backup | verify | restore` (issue 30): a consistent copy while people work, on
both engines; a truncated or edited backup fails verification; a restore fills only an empty
database and is verified; --keep rotates; an existing file needs --force."""

import hashlib
import json
import sqlite3
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from multiprocessing import get_context

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from leadms_tui import bootstrap
from leadms_tui.cli import app
from leadms_tui.domain.audit import SYSTEM, plain
from leadms_tui.domain.backup import backup, restore, row_counts, verify_backup
from leadms_tui.domain.db import Database
from leadms_tui.domain.errors import ValidationError
from leadms_tui.domain.leads.intake import LeadCreate, create_lead, receive_message
from leadms_tui.domain.models import AuditEvent, Channel, Lead, table_of
from leadms_tui.domain.transfer import verify
from tests.conftest import _pg_admin, _pg_conninfo

AT = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
runner = CliRunner()


def _leads(db, n, tag="a"):
    for i in range(n):
        data = LeadCreate(name=f"Lee {tag}{i}", phone=f"+4477009{i:05d}", channel="website")
        create_lead(db, data, actor=SYSTEM, now=AT)


@pytest.fixture
def empty_pg(pg_template):
    name = f"leadms_restore_{uuid.uuid4().hex[:10]}"
    with _pg_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield _pg_conninfo(name)
    with _pg_admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_backup_verifies_and_restores_to_the_same_rows(db, team, tmp_path):
    _leads(db, 12)
    file = tmp_path / "nightly.db"
    report = backup(db, file)
    assert report.path == file and report.rows >= 12
    check = verify_backup(file)
    assert check.problems == [] and check.days_checked == 1
    target = bootstrap.database(f"sqlite:///{tmp_path / 'restored.db'}")
    assert restore(file, target) == []
    assert row_counts(target) == row_counts(db)
    assert verify(db, target).mismatches == []
    _leads(target, 1, tag="after")  # numbering goes on in the restored database
    with pytest.raises(ValidationError, match="not empty"):
        restore(file, target)


@pytest.mark.postgres
def test_a_restore_into_postgres_is_verified(db, team, tmp_path, empty_pg):
    _leads(db, 5)
    file = tmp_path / "b.db"
    backup(db, file)
    target = Database(empty_pg)  # empty: restore migrates it
    assert restore(file, target) == []
    assert row_counts(target) == row_counts(db)


def test_a_truncated_or_edited_backup_fails(db, team, tmp_path):
    _leads(db, 3)
    file = tmp_path / "b.db"
    backup(db, file)
    edited = tmp_path / "edited.db"
    edited.write_bytes(file.read_bytes())
    with sqlite3.connect(edited) as conn:
        conn.execute(
            "UPDATE leads SET name = 'Someone Else' WHERE id = (SELECT min(id) FROM leads)"
        )
    assert verify_backup(edited).problems == [
        "leads: its rows differ from when the backup was taken"
    ]
    truncated = tmp_path / "truncated.db"
    truncated.write_bytes(file.read_bytes()[: file.stat().st_size // 2])
    assert verify_backup(truncated).problems
    result = runner.invoke(app, ["db", "verify", str(truncated)])
    assert result.exit_code == 1 and "PROBLEM" in result.output
    with pytest.raises(ValidationError, match="fails verification"):
        restore(edited, bootstrap.database(f"sqlite:///{tmp_path / 'r.db'}"))


def test_an_existing_file_needs_force_and_keep_rotates(db, team, tmp_path):
    from leadms_tui.domain import clock

    file = tmp_path / "b.db"
    backup(db, file)
    with pytest.raises(ValidationError, match="exists: give --force"):
        backup(db, file)
    backup(db, file, force=True)
    for minute in range(4):
        clock.set_clock(lambda m=minute: datetime(2026, 11, 25, 2, m, tzinfo=UTC))
        report = backup(db, file, keep=2)
    kept = sorted(p.name for p in tmp_path.glob("b-*.db"))
    assert kept == ["b-20261125T020200Z.db", "b-20261125T020300Z.db"]
    assert len(report.removed) == 1


def _write_leads(url: str, worker: int, count: int) -> int:
    """One intake process: `count` leads through the intake services the webhooks and the
    imports use (a chat message from a new sender, or a form lead), each its own transaction."""
    database = bootstrap.database(url)
    try:
        for i in range(count):
            if i % 2:
                data = LeadCreate(
                    name=f"Lee w{worker}-{i}", channel=Channel.WHATSAPP,
                    external_id=f"4477{worker:02d}{i:06d}", message="Hi",
                    dedupe_key=f"w{worker}-{i}",
                )  # fmt: skip
                database.write(lambda s, d=data: receive_message(s, d, actor=SYSTEM))
            else:
                data = LeadCreate(name=f"Lee w{worker}-{i}", channel="website",
                                  phone=f"+44780{worker:02d}{i:05d}")  # fmt: skip
                create_lead(database, data, actor=SYSTEM)
    finally:
        database.dispose()
    return count


def _lead_count(db) -> int:
    return row_counts(db)["leads"]


def _rows(database: Database, table, ids=None) -> dict[int, tuple]:
    with database.engine.connect() as conn:
        query = select(table).order_by(table.c.id)
        return {row[0]: tuple(row) for row in conn.execute(query) if ids is None or row[0] in ids}


WRITERS, PER_WRITER = 8, 60


@pytest.mark.slow
def test_a_backup_taken_during_eight_intake_writers_restores_to_that_moment(
    db, team, tmp_path, db_url
):
    """Eight processes take in leads while `db backup` runs: the file verifies, `db restore`
    fills an empty database with it (counts, numbers per day and audit checksum equal to the
    file's), and what it holds is the source at one moment: every row it has is the source's
    row unchanged, the audit trail up to then checksums the same in both, no lead without its
    audit event or the reverse (no transaction torn), and numbers gapless per day."""
    _leads(db, 20)
    file = tmp_path / "busy.db"
    with ProcessPoolExecutor(WRITERS, mp_context=get_context("spawn")) as pool:
        writers = [pool.submit(_write_leads, db.url, w, PER_WRITER) for w in range(WRITERS)]
        deadline = time.monotonic() + 120
        while _lead_count(db) < 60 and time.monotonic() < deadline:  # the writers are going
            time.sleep(0.05)
        made = runner.invoke(app, ["--database-url", db_url, "db", "backup", str(file)])
        assert made.exit_code == 0, made.output
        during = _lead_count(db)
        assert sum(w.result() for w in writers) == WRITERS * PER_WRITER
    total = 20 + WRITERS * PER_WRITER
    assert _lead_count(db) == total
    assert verify_backup(file).problems == []
    target_url = f"sqlite:///{tmp_path / 'restored.db'}"
    restored = runner.invoke(app, ["db", "restore", str(file), "--to", target_url])
    assert restored.exit_code == 0, restored.output
    target = bootstrap.database(target_url)
    try:
        leads, events = table_of(Lead), table_of(AuditEvent)
        snapshot_leads, snapshot_events = _rows(target, leads), _rows(target, events)
        assert 60 <= len(snapshot_leads) <= total
        # the source's rows at the snapshot: the same rows, unchanged since
        assert _rows(db, leads, snapshot_leads.keys()) == snapshot_leads
        assert _rows(db, events, snapshot_events.keys()) == snapshot_events
        with db.engine.connect() as source, target.engine.connect() as copy:
            at_snapshot = _audit_checksum(
                source.execute(select(events).where(events.c.id.in_(list(snapshot_events))))
            )
            assert at_snapshot == _audit_checksum(copy.execute(select(events)))
            per_day = select(Lead.business_date, func.count(), func.max(Lead.seq)).group_by(
                Lead.business_date
            )
            for conn in (source, copy):  # gapless per day, in the copy and at the end
                assert all(count == top for _day, count, top in conn.execute(per_day))
        # one transaction each: a lead is in the copy exactly when its lead.create event is
        action, entity_id = events.c.keys().index("action"), events.c.keys().index("entity_id")
        created = {
            int(row[entity_id]) for row in snapshot_events.values() if row[action] == "lead.create"
        }
        assert created == set(snapshot_leads)
    finally:
        target.dispose()
    print(f"backup at {len(snapshot_leads)} of {total} leads ({during} when it ended)")


def _audit_checksum(rows) -> str:
    """sha256 over audit events in id order (as `db move-to` and `db verify` check it)."""
    digest = hashlib.sha256()
    for row in sorted(rows.mappings(), key=lambda r: r["id"]):
        canonical = {key: plain(value) for key, value in row.items()}
        digest.update(json.dumps(canonical, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def test_the_cli_backs_up_verifies_and_restores(db, team, tmp_path, db_url):
    _leads(db, 2)
    file = tmp_path / "cli.db"
    made = runner.invoke(app, ["--database-url", db_url, "db", "backup", str(file)])
    assert made.exit_code == 0, made.output
    checked = runner.invoke(app, ["db", "verify", str(file)])
    assert checked.exit_code == 0 and "verified" in checked.output
    target = f"sqlite:///{tmp_path / 'to.db'}"
    restored = runner.invoke(app, ["db", "restore", str(file), "--to", target])
    assert restored.exit_code == 0, restored.output
    again = runner.invoke(app, ["--database-url", db_url, "db", "backup", str(file)])
    assert again.exit_code != 0 and "--force" in again.output
