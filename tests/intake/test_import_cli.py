"""`leadms import`: counts, idempotency, rejects, dry runs and exit codes, on both engines."""

import csv
import gc
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from leadms_tui import collector
from leadms_tui.cli import app
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.models import AuditEvent, Channel, Inquiry, Lead
from leadms_tui.intake.importer import run_import
from leadms_tui.intake.parsers.csv_leads import parse_csv_leads

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


def test_website_and_meta_files_import_with_cross_channel_repeats(db_url, db, tmp_path):
    leadms(db_url, "settings", "set", "phone_region", "GB")  # the samples are British

    def run(*args):
        result = leadms(db_url, "import", *args, "--json")
        return result.exit_code, json.loads(result.stdout)

    code, web = run("csv", str(SAMPLES / "csv" / "website_form.csv"))
    assert (code, web["read"], web["created"], web["rejected"]) == (0, 30, 30, 0)
    code, meta = run("meta-leads", str(SAMPLES / "meta" / "meta_leads_utf8.csv"))
    assert (code, meta["read"], meta["created"], meta["rejected"]) == (0, 10, 10, 0)
    assert meta["repeats"] >= 2  # two people first came through the website form
    code, utf16 = run("meta-leads", str(SAMPLES / "meta" / "meta_leads_utf16.csv"))
    assert (code, utf16["read"], utf16["rejected"]) == (1, 20, 1)
    assert utf16["created"] + utf16["skipped"] == 19
    with db.reading() as session:
        meta_lead = session.execute(
            select(Lead).where(Lead.channel == "meta_ads").order_by(Lead.id).limit(1)
        ).scalar_one()
        inquiry = session.execute(
            select(Inquiry).where(Inquiry.lead_id == meta_lead.id)
        ).scalar_one()
    assert inquiry.attributes.get("campaign_name")
    assert inquiry.dedupe_key.startswith("meta:")
    total = _count(db, Lead)
    code, again = run("meta-leads", str(SAMPLES / "meta" / "meta_leads_utf8.csv"))
    assert (again["created"], again["skipped"]) == (0, 10) and _count(db, Lead) == total


def test_messy_csv_reports_bad_rows_by_number(db_url, db, tmp_path):
    leadms(db_url, "settings", "set", "phone_region", "GB")
    result = leadms(
        db_url, "import", "csv", str(SAMPLES / "csv" / "website_form_messy.csv"), "--json"
    )
    summary = json.loads(result.stdout)
    assert result.exit_code == 1
    assert (summary["read"], summary["rejected"]) == (13, 5)
    assert summary["created"] + summary["skipped"] == 8
    assert summary["skipped"] >= 1  # the exact duplicate row
    with (tmp_path / "website_form_messy.csv.rejects.csv").open() as handle:
        rows = {int(r["row"]): r for r in csv.DictReader(handle)}
    assert sorted(rows) == [5, 7, 11, 12, 13]
    assert rows[12]["column"] == "Submitted At"


def test_latin1_tab_separated_with_entry_ids(db_url, db):
    leadms(db_url, "settings", "set", "phone_region", "GB")
    result = leadms(
        db_url,
        "import",
        "csv",
        str(SAMPLES / "csv" / "form_tool_latin1.csv"),
        "--channel",
        "website",
        "--json",
    )
    summary = json.loads(result.stdout)
    assert (summary["read"], summary["rejected"]) == (8, 1)
    with db.reading() as session:
        names = session.execute(select(Lead.name)).scalars().all()
    assert any(any(ch in name for ch in "éèáíóúñçü") for name in names)


def test_column_mapping_and_binary_input(sqlite_url, tmp_path):
    custom = tmp_path / "custom.csv"
    custom.write_text("Cliente,Celular,Obs\nJoão Silva,+55 11 98765-4321,quer plano\n")
    result = leadms(
        sqlite_url,
        "import",
        "csv",
        str(custom),
        "--map",
        "Cliente=name",
        "--map",
        "Celular=phone",
        "--map",
        "Obs=message",
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["created"] == 1
    binary = leadms(sqlite_url, "import", "csv", str(SAMPLES / "csv" / "not_a_csv.bin"))
    assert binary.exit_code == 2 and binary.stderr.count("\n") == 1
    bad_map = leadms(sqlite_url, "import", "csv", str(custom), "--map", "Cliente")
    assert bad_map.exit_code == 2


def test_an_import_runs_with_a_roomy_young_generation_and_restores_the_collector(db):
    """~17% of a 100,000-row import was the collector walking the parsed file (BENCHMARKS)."""
    before = gc.get_threshold()
    assert before != collector.THRESHOLDS
    seen = []
    rows = b"Name,Phone\nAda,+442079460001\nBen,+442079460002\n"
    items = parse_csv_leads(rows, source_name="form.csv", channel=Channel.WEBSITE)
    summary = run_import(
        db, items, source="form.csv", actor=SYSTEM, on_row=lambda _: seen.append(gc.get_threshold())
    )
    assert summary.created == 2
    assert seen == [collector.THRESHOLDS] * 2
    assert gc.get_threshold() == before


RUSSIAN_CSV = (
    "name,phone,email,message\n"
    "Иван Петров,+79161234567,ivan@example.ru,Здравствуйте хочу узнать цену\n"
    "Ольга Смирнова,+79161234568,olga@example.ru,Перезвоните мне пожалуйста\n"
)
POLISH_CSV = (
    "name,phone,email,message\n"
    "Łukasz Żółć,+48501234567,l@example.pl,Dzień dobry proszę o kontakt\n"
    "Zofia Wróbel,+48501234568,z@example.pl,Chciałabym zapytać o cenę\n"
)


def _names(db) -> set[str]:
    with db.reading() as session:
        return set(session.scalars(select(Lead.name)))


def test_a_cyrillic_export_is_read_as_cp1251_and_the_summary_says_so(db_url, db, tmp_path):
    """cp1252 then latin-1 never failed, so this imported as silent mojibake (Èâàí)."""
    path = tmp_path / "ru.csv"
    path.write_bytes(RUSSIAN_CSV.encode("cp1251"))
    result = leadms(db_url, "import", "csv", str(path))
    assert result.exit_code == 0, result.output
    assert "ru.csv: read as cp1251 (detected)" in result.stdout
    assert _names(db) == {"Иван Петров", "Ольга Смирнова"}


def test_an_export_that_cannot_be_told_is_refused_and_encoding_overrides(db_url, db, tmp_path):
    leadms(db_url, "settings", "set", "phone_region", "RU")  # Cyrillic expected: Polish is not
    path = tmp_path / "pl.csv"
    path.write_bytes(POLISH_CSV.encode("iso8859_2"))
    refused = leadms(db_url, "import", "csv", str(path))
    assert refused.exit_code == 2
    assert "cannot tell the file's encoding" in refused.output and "best guess" in refused.output
    assert _names(db) == set()
    given = leadms(db_url, "import", "csv", str(path), "--encoding", "iso8859_2", "--json")
    assert given.exit_code == 0, given.output
    assert json.loads(given.stdout)["encoding"]["how"] == "given"
    assert _names(db) == {"Łukasz Żółć", "Zofia Wróbel"}


def test_the_team_region_breaks_the_tie_between_single_byte_encodings(db_url, db, tmp_path):
    leadms(db_url, "settings", "set", "phone_region", "PL")
    path = tmp_path / "pl.csv"
    path.write_bytes(POLISH_CSV.encode("iso8859_2"))
    result = leadms(db_url, "import", "csv", str(path))
    assert result.exit_code == 0, result.output
    assert "read as iso8859-2 (by the team's region PL)" in result.stdout
    assert _names(db) == {"Łukasz Żółć", "Zofia Wróbel"}
