"""Export a person (issue 30): every lead of theirs found through phone, email and sender id,
with what hangs off those leads and the audit events about them, in one zip; someone else's
data never in it; the export audited; reps refused. Both engines."""

import io
import json
import zipfile
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from leadms_tui.cli import app
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.errors import NotFoundError, ValidationError
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import AuditEvent, CallOutcome
from leadms_tui.domain.people.export import export_person
from leadms_tui.domain.people.person import find_person
from leadms_tui.domain.work.calls import log_call
from tests.conftest import cli_token

AT = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
runner = CliRunner()


@pytest.fixture
def people(db, team):
    def lead(**values):
        return create_lead(db, LeadCreate(**values), actor=SYSTEM, now=AT)

    chat = lead(name="Bia Souza", channel="whatsapp", external_id="5511987654321",
                phone="+55 11 98765 4321", message="Oi!", dedupe_key="wamid.1")  # fmt: skip
    form = lead(name="Beatriz Souza", channel="website", email="Bia@Example.com",
                phone="+55 11 98765 4321")  # fmt: skip
    later = lead(name="B. Souza", channel="website", email="bia@example.com")  # same email only
    other = lead(name="Carl Other", channel="website", phone="+44 7700 900999")
    db.write(lambda s: log_call(s, form.lead_id, CallOutcome.INTERESTED, actor=team["ana"].actor,
                                note="wants the yearly plan", now=AT))  # fmt: skip
    return {"chat": chat, "form": form, "later": later, "other": other}


def test_a_person_is_found_through_phone_email_and_repeats(db, people):
    with db.reading() as session:
        by_number = find_person(session, lead_number=people["chat"].number)
        by_email = find_person(session, email="BIA@example.com")
        by_phone = find_person(session, phone="+5511987654321", region="BR")
    expected = sorted(people[k].lead_id for k in ("chat", "form", "later"))
    assert by_number.lead_ids == by_email.lead_ids == by_phone.lead_ids == expected
    with db.reading() as session, pytest.raises(ValidationError, match="give one of"):
        find_person(session, phone="+5511987654321", email="bia@example.com")
    with db.reading() as session, pytest.raises(NotFoundError):
        find_person(session, lead_number="LEAD-19990101-001")


def test_the_export_holds_their_data_and_nobody_elses_and_is_audited(db, team, people):
    def work(session):
        person = find_person(session, lead_number=people["form"].number)
        return export_person(session, person, actor=team["maria"].actor, now=AT)

    data = db.write(work)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        document = json.loads(archive.read("person.json"))
    assert {lead["name"] for lead in document["leads"]} == {
        "Bia Souza",
        "Beatriz Souza",
        "B. Souza",
    }
    assert [call["note"] for call in document["calls"]] == ["wants the yearly plan"]
    assert [i["message"] for i in document["inquiries"] if i["message"]] == ["Oi!"]
    assert "Carl Other" not in json.dumps(document)
    actions = {event["action"] for event in document["audit_events"]}
    assert {"lead.create", "call.create"} <= actions
    with db.reading() as session:
        exported = session.execute(
            select(AuditEvent).where(AuditEvent.action == "person.export")
        ).scalar_one()
    assert exported.actor == "maria"


def test_the_cli_writes_the_zip_for_managers_only(db, db_url, team, people, tmp_path, monkeypatch):
    out = tmp_path / "bia.zip"
    monkeypatch.setenv("LEADMS_TOKEN", cli_token(db, "ana"))
    refused = runner.invoke(
        app, ["--database-url", db_url, "people", "export", people["chat"].number, "-o", str(out)]
    )
    assert refused.exit_code != 0 and "only a manager or an admin" in refused.output
    monkeypatch.setenv("LEADMS_TOKEN", cli_token(db, "maria"))
    made = runner.invoke(
        app,
        [
            "--database-url",
            db_url,
            "people",
            "export",
            "--email",
            "bia@example.com",
            "-o",
            str(out),
        ],
    )
    assert made.exit_code == 0, made.output
    assert "3 lead(s)" in made.output and zipfile.is_zipfile(out)
