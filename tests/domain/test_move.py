"""`leadms db move-to`: the demo database (SQLite) into an empty PostgreSQL database, every
row with its id, numbering continuing gapless, the audit trail intact and still append-only,
the source untouched; a non-empty target is refused."""

import hashlib
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from leadms_tui.cli import app
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.db import Database
from leadms_tui.domain.demo import build_demo
from leadms_tui.domain.errors import ValidationError
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.transfer import move
from tests.conftest import _pg_admin, _pg_conninfo

NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
runner = CliRunner()


@pytest.fixture
def empty_pg(pg_template) -> str:  # pg_template: the server is there (or the test skips/fails)
    name = f"leadms_move_{uuid.uuid4().hex[:10]}"
    with _pg_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield _pg_conninfo(name)
    with _pg_admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgres
def test_the_demo_moves_to_postgres_and_numbering_continues(tmp_path, empty_pg):
    source_file = tmp_path / "demo.db"
    source, _ = build_demo(f"sqlite:///{source_file}", now=NOW)
    source.dispose()
    before = hashlib.sha256(source_file.read_bytes()).hexdigest()
    result = runner.invoke(
        app, ["--database-url", f"sqlite:///{source_file}", "db", "move-to", empty_pg]
    )
    assert result.exit_code == 0, result.output
    assert "LEADMS_DATABASE_URL=" in result.output and "verified: " in result.output
    assert hashlib.sha256(Path(source_file).read_bytes()).hexdigest() == before  # only read
    target = Database(empty_pg)
    try:
        lead = create_lead(
            target,
            LeadCreate(name="After the move", phone="+447700900999", channel="website"),
            actor=SYSTEM,
            now=NOW,
        )
        with Database(f"sqlite:///{source_file}").reading() as s:
            last = s.execute(
                text("SELECT max(seq) FROM leads WHERE business_date = '2026-11-25'")
            ).scalar()
        assert lead.number == f"LEAD-20261125-{last + 1:03d}"
        with (
            pytest.raises(Exception, match=r"append-only|not allowed|audit"),
            target.engine.begin() as conn,
        ):
            conn.execute(text("DELETE FROM audit_events"))
    finally:
        target.dispose()
    again = runner.invoke(
        app, ["--database-url", f"sqlite:///{source_file}", "db", "move-to", empty_pg]
    )
    assert again.exit_code == 1 and "is not empty" in again.output


@pytest.mark.postgres
def test_a_non_postgres_or_non_empty_target_is_refused(tmp_path, pg_url):
    source = Database(f"sqlite:///{tmp_path / 'a.db'}")
    source.upgrade()
    with pytest.raises(ValidationError, match="is not empty"):
        move(source, Database(pg_url))
    with pytest.raises(ValidationError, match="must be a PostgreSQL"):
        move(source, Database(f"sqlite:///{tmp_path / 'b.db'}"))
    assert psycopg  # the driver the move writes with
