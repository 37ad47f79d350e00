"""`leadms import`: counts, idempotency, rejects, dry runs and exit codes, on both engines."""

import csv
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from leadms_tui.cli import app
from leadms_tui.domain.models import AuditEvent, Inquiry, Lead

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
runner = CliRunner()


def leadms(url: str, *args: str):
    return runner.invoke(app, ["--database-url", url, *args])


def _count(db, model, *where) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # rejects CSVs land here


def test_payloads_import_counts_and_is_idempotent(db_url, db, tmp_path):
    path = SAMPLES / "webhooks" / "webhooks.jsonl"
    first = leadms(db_url, "import", "payloads", str(path), "--json")
    assert first.exit_code == 1  # three bad lines
    summary = json.loads(first.stdout)
    assert {k: summary[k] for k in ("read", "created", "appended", "skipped", "rejected")} == {
        "read": 11,
        "created": 7,
        "appended": 1,
        "skipped": 0,
        "rejected": 3,
    }
    with (tmp_path / "webhooks.jsonl.rejects.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["row"]) for r in rows] == [9, 10, 11]
    assert all(r["reason"] for r in rows)
    assert (_count(db, Lead), _count(db, Inquiry)) == (7, 8)

    again = json.loads(leadms(db_url, "import", "payloads", str(path), "--json").stdout)
    assert (again["created"], again["appended"], again["skipped"]) == (0, 0, 8)
    assert (_count(db, Lead), _count(db, Inquiry)) == (7, 8)


def test_clean_file_exits_zero_with_a_plain_summary(db_url, db):
    result = leadms(db_url, "import", "payloads", str(SAMPLES / "webhooks" / "mixed_array.json"))
    assert result.exit_code == 0, result.output
    assert "read 8, created 7" in result.stdout and "rejected 0" in result.stdout


def test_dry_run_writes_nothing_but_counts_exactly(db_url, db):
    result = leadms(
        db_url,
        "import",
        "payloads",
        str(SAMPLES / "webhooks" / "mixed_array.json"),
        "--dry-run",
        "--json",
    )
    summary = json.loads(result.stdout)
    assert (summary["created"], summary["appended"], summary["dry_run"]) == (7, 1, True)
    assert (_count(db, Lead), _count(db, AuditEvent)) == (0, 0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["payloads", "/no/such/file.json"], "cannot read"),
        (["payloads", str(SAMPLES / "webhooks" / "README.md")], "not JSON"),
    ],
)
def test_unusable_input_exits_two_with_one_line(sqlite_url, args, message):
    result = leadms(sqlite_url, "import", *args)
    assert result.exit_code == 2
    assert message in result.stderr and result.stderr.count("\n") == 1


def test_whatsapp_chats_import_one_lead_each_and_refuse_the_rest(db_url, db):
    folder = SAMPLES / "whatsapp"
    outcomes = {}
    for path in sorted(folder.glob("WhatsApp Chat with *.txt")):
        result = leadms(
            db_url,
            "import",
            "whatsapp-chat",
            str(path),
            "--business-name",
            "FitHub London",
            "--json",
        )
        outcomes[path.name] = (result.exit_code, json.loads(result.stdout)["created"])
    assert outcomes["WhatsApp Chat with Ana Ruiz.txt"] == (0, 1)
    assert outcomes["WhatsApp Chat with +44 7700 900123.txt"] == (0, 1)
    assert outcomes["WhatsApp Chat with Leo Grant.txt"] == (1, 0)  # only the business wrote
    assert outcomes["WhatsApp Chat with FitHub Bootcamp Group.txt"] == (1, 0)
    assert _count(db, Lead) == 5
    with db.reading() as session:
        by_phone = session.execute(
            select(Lead).where(Lead.phone_e164 == "+447700900123")
        ).scalar_one()
        saved = session.execute(select(Lead).where(Lead.name == "Ana Ruiz")).scalar_one()
    assert by_phone.channel == "whatsapp" and by_phone.first_message
    assert saved.external_id == "contact:Ana Ruiz"
    again = leadms(
        db_url, "import", "whatsapp-chat", str(folder / "WhatsApp Chat with Ana Ruiz.txt"), "--json"
    )
    assert json.loads(again.stdout)["skipped"] == 1 and _count(db, Lead) == 5


def test_whatsapp_zip_export(sqlite_url, tmp_path):
    import zipfile

    archive = tmp_path / "WhatsApp Chat - Priya Shah.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.write(SAMPLES / "whatsapp" / "WhatsApp Chat with Priya Shah.txt", "_chat.txt")
        handle.writestr("00000012-PHOTO.jpg", b"\xff\xd8")
    result = leadms(sqlite_url, "import", "whatsapp-chat", str(archive), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["created"] == 1


def test_not_a_chat_exits_two(sqlite_url):
    result = leadms(sqlite_url, "import", "whatsapp-chat", str(SAMPLES / "whatsapp" / "notes.txt"))
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
