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

from leadms_tui import bootstrap
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
    source, _ = build_demo(
        f"sqlite:///{source_file}", dispatcher=bootstrap.default_dispatcher(), now=NOW
    )
    source.dispose()
    before = hashlib.sha256(source_file.read_bytes()).hexdigest()
    result = runner.invoke(
        app, ["--database-url", f"sqlite:///{source_file}", "db", "move-to", empty_pg]
    )
    assert result.exit_code == 0, result.output
    assert "LEADMS_DATABASE_URL=" in result.output and "verified: " in result.output
    assert hashlib.sha256(Path(source_file).read_bytes()).hexdigest() == before  # only read
    target = bootstrap.database(empty_pg)
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


def _sqlite_source(tmp_path) -> tuple[Database, str]:
    url = f"sqlite:///{tmp_path / 'source.db'}"
    source = Database(url)
    source.upgrade()
    return source, url


def _tables_of(url: str) -> list[str]:
    with psycopg.connect(url, autocommit=True) as conn:
        return [
            name
            for (name,) in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            ).fetchall()
        ]


@pytest.mark.postgres
def test_a_source_that_does_not_fit_the_target_is_refused_before_anything_is_written(
    tmp_path, empty_pg
):
    """SQLite keeps a 10,000-character label in a 200-character column; PostgreSQL stopped
    the move halfway, leaving a half-filled target that a retry called "not empty"."""
    from leadms_tui.domain.fields import definitions, kinds
    from leadms_tui.domain.models import FieldEntity, FieldKind

    source, url = _sqlite_source(tmp_path)
    context = kinds.Context("UTC", "GB", "USD", NOW)
    source.write(
        lambda s: definitions.add_field(
            s, FieldEntity.LEAD, "tier", FieldKind.TEXT, actor=SYSTEM, ctx=context
        )
    )
    with source.engine.begin() as conn:  # as SQLite let an older release store it
        conn.execute(text("UPDATE field_definitions SET label = :label"), {"label": "x" * 10_000})
    result = runner.invoke(app, ["--database-url", url, "db", "move-to", empty_pg])
    assert result.exit_code == 1, result.output
    assert "field_definitions.label of row id 1: 10,000 characters, the target holds 200" in (
        result.output
    )
    assert "unexpected" not in result.output
    assert _tables_of(empty_pg) == []  # nothing written: a corrected source moves as it is


@pytest.mark.postgres
def test_an_unfinished_move_keeps_every_command_out_and_restart_recovers(tmp_path, empty_pg):
    from leadms_tui.domain.transfer import _mark

    _, url = _sqlite_source(tmp_path)
    target = Database(empty_pg)
    _mark(target)  # the move's first write; then it stopped (killed, the network went)
    target.upgrade()
    target.dispose()
    opened = runner.invoke(app, ["--database-url", empty_pg, "leads", "list"])
    assert opened.exit_code == 1
    assert "`leadms db move-to` that has not finished" in opened.output
    assert "--restart" in opened.output and "unexpected" not in opened.output
    upgrade = runner.invoke(app, ["--database-url", empty_pg, "db", "upgrade"])
    assert upgrade.exit_code == 1 and "has not finished" in upgrade.output
    retry = runner.invoke(app, ["--database-url", url, "db", "move-to", empty_pg])
    assert retry.exit_code == 1 and "holds an unfinished move" in retry.output
    assert "--restart" in retry.output
    again = runner.invoke(app, ["--database-url", url, "db", "move-to", empty_pg, "--restart"])
    assert again.exit_code == 0, again.output
    assert "leadms_move_in_progress" not in _tables_of(empty_pg)
    listed = runner.invoke(app, ["--database-url", empty_pg, "leads", "list"])
    assert "has not finished" not in listed.output


@pytest.mark.postgres
def test_restart_never_clears_a_database_that_is_not_an_unfinished_move(tmp_path, pg_url):
    _, url = _sqlite_source(tmp_path)
    result = runner.invoke(app, ["--database-url", url, "db", "move-to", pg_url, "--restart"])
    assert result.exit_code == 1 and "holds no unfinished move" in result.output
    assert "leads" in _tables_of(pg_url)


@pytest.mark.postgres
def test_a_password_in_the_query_is_masked(tmp_path, empty_pg):
    _, url = _sqlite_source(tmp_path)
    with_password = f"{empty_pg}?password=hunter2secret"  # trust auth: the password is unused
    result = runner.invoke(app, ["--database-url", url, "db", "move-to", with_password])
    assert result.exit_code == 0, result.output
    assert "hunter2secret" not in result.output and "password=***" in result.output


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("postgresql://postgres@127.0.0.1:1/leadms", "connection refused"),
        ("postgresql://postgres@no-such-host.invalid/leadms", "unknown host 'no-such-host"),
        ("postgresql://postgres@127.0.0.1:5432/no_such_db_4711", 'database "no_such_db_4711"'),
        ("postgresql://a:b@[::1/x", "not a database URL"),
        ("postgresql://postgres@127.0.0.1:5432/x?sslmode=", "error: "),
    ],
)
def test_a_target_that_cannot_be_reached_gets_its_own_one_line_reason(
    tmp_path, pg_template, target, reason
):
    _, url = _sqlite_source(tmp_path)
    result = runner.invoke(app, ["--database-url", url, "db", "move-to", target])
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and reason in errors[0], result.output
    assert "unexpected" not in result.output and "Traceback" not in result.output
