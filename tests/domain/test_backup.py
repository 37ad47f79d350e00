"""`leadms db backup | verify | restore` (issue 30): a consistent copy while people work, on
both engines; a truncated or edited backup fails verification; a restore fills only an empty
database and is verified; --keep rotates; an existing file needs --force."""

import sqlite3
import uuid
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from multiprocessing import get_context

import pytest
from typer.testing import CliRunner

from leadms_tui import bootstrap
from leadms_tui.cli import app
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.backup import backup, restore, row_counts, verify_backup
from leadms_tui.domain.db import Database
from leadms_tui.domain.errors import ValidationError
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
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
    database = bootstrap.database(url)
    try:
        _leads(database, count, tag=f"w{worker}-")
    finally:
        database.dispose()
    return count


@pytest.mark.slow
def test_a_backup_taken_during_concurrent_intake_is_consistent(db, team, tmp_path):
    """Four processes take in leads while the backup runs: the copy is one moment's
    database (its numbers gapless, its manifest whole) and restores to the same rows."""
    _leads(db, 20)
    file = tmp_path / "busy.db"
    with ProcessPoolExecutor(4, mp_context=get_context("spawn")) as pool:
        writers = [pool.submit(_write_leads, db.url, w, 60) for w in range(4)]
        report = backup(db, file)
        assert sum(w.result() for w in writers) == 240
    assert verify_backup(file).problems == []
    target = bootstrap.database(f"sqlite:///{tmp_path / 'restored.db'}")
    assert restore(file, target) == []
    counts = row_counts(target)
    assert 20 <= counts["leads"] <= 260 and report.rows == sum(counts.values())


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
