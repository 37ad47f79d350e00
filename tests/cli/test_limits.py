"""Dates, files and sizes have limits (issue 10 §4): refused in one line, never a crash."""

import io
import json
import zipfile

from typer.testing import CliRunner

from leadms_tui.cli import app
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import Call, Lead, Role
from leadms_tui.domain.team.users import add_user
from tests.conftest import cli_token

runner = CliRunner()


def leadms(url, *args):
    return runner.invoke(app, ["--database-url", url, *args])


def _count(db, model) -> int:
    from sqlalchemy import func, select

    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_year_one_and_far_future_call_times_are_refused(db_url, db):
    db.write(lambda s: add_user(s, "ana", role=Role.REP, actor=SYSTEM))
    lead = create_lead(
        db, LeadCreate(name="Dora", phone="+447700900111", channel="phone"), actor=SYSTEM
    )
    for outcome, option, value in [
        ("no_answer", "--at", "0001-01-01T00:00"),
        ("callback_requested", "--callback-at", "9999-12-31T10:00"),
    ]:
        args = ["calls", "log", lead.number, "--outcome", outcome, option, value]
        result = runner.invoke(
            app, ["--database-url", db_url, *args], env={"LEADMS_TOKEN": cli_token(db, "ana")}
        )
        assert result.exit_code == 1, result.output
        assert result.stderr.count("\n") == 1 and "outside the plausible range" in result.stderr
    assert _count(db, Call) == 0


def test_a_webhook_payload_from_1970_is_a_rejected_row(db_url, db, tmp_path):
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "1",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "contacts": [{"wa_id": "447700900123", "profile": {"name": "Old"}}],
                            "messages": [
                                {
                                    "from": "447700900123",
                                    "id": "wamid.OLD",
                                    "timestamp": "1",
                                    "type": "text",
                                    "text": {"body": "hi"},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    path = tmp_path / "old.json"
    path.write_text(json.dumps(body))
    rejects = str(tmp_path / "rejects.csv")
    result = leadms(db_url, "import", "payloads", str(path), "--json", "--rejects", rejects)
    assert result.exit_code == 1, result.output
    assert json.loads(result.stdout)["rejected"] == 1
    assert _count(db, Lead) == 0


def test_an_endless_file_and_a_zip_bomb_are_refused_past_the_size_limit(db_url, db, tmp_path):
    assert leadms(db_url, "settings", "set", "import_max_mb", "1").exit_code == 0  # no users yet
    result = leadms(db_url, "import", "csv", "/dev/zero")  # endless: refused before reading
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "not a regular file" in result.stderr
    big = tmp_path / "big.csv"
    big.write_bytes(b"name,phone\n" + b"Ana,+447700900111\n" * 70_000)  # ~1.2 MB
    result = leadms(db_url, "import", "csv", str(big))
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "larger than 1 MB" in result.stderr

    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("WhatsApp Chat with Bo.txt", b"0" * (5 * 2**20))  # 5 MB in ~5 KB
    path = tmp_path / "WhatsApp Chat with Bo.zip"
    path.write_bytes(bomb.getvalue())
    assert path.stat().st_size < 100_000
    result = leadms(db_url, "import", "whatsapp-chat", str(path))
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "larger than 1 MB" in result.stderr
    assert _count(db, Lead) == 0


def test_a_size_limit_must_be_a_sane_number(db_url, db):
    for bad in ("0", "1.5", "lots", "9999999"):
        result = leadms(db_url, "settings", "set", "import_max_mb", bad)
        assert result.exit_code == 1 and "between 1 and 100000" in result.stderr


def test_the_tui_exit_code_reaches_the_shell(sqlite_url, db, monkeypatch):
    import leadms_tui.app

    monkeypatch.setattr(leadms_tui.app, "run_tui", lambda *args, **kwargs: 1)  # as after a crash
    assert leadms(sqlite_url).exit_code == 1
