"""Erase a person (issue 30): after the erase no dump of the database holds their name, phone
or email, the audit trail still verifies and the reports count the same; unpaid commission
needs a second confirmation; admins only, the typed number checked, a second erase refused.
Both engines."""

import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from leadms_tui.cli import app
from leadms_tui.domain import audit, trail
from leadms_tui.domain.audit import SYSTEM, Actor
from leadms_tui.domain.chat import outbox
from leadms_tui.domain.errors import PermissionDeniedError, ValidationError
from leadms_tui.domain.fields import definitions, files, kinds, values
from leadms_tui.domain.leads.edits import LeadUpdate, update_lead
from leadms_tui.domain.leads.intake import LeadCreate, create_lead, receive_message
from leadms_tui.domain.models import (
    AuditEvent,
    CallDirection,
    CallOutcome,
    Commission,
    FieldEntity,
    FieldKind,
    IntakeReject,
    Lead,
    Notification,
    PhoneCallState,
    Role,
    Sale,
)
from leadms_tui.domain.people import erase
from leadms_tui.domain.people.person import find_person
from leadms_tui.domain.phone import bridge
from leadms_tui.domain.queries.lead_detail import load_lead_detail
from leadms_tui.domain.reports.coaching import Period, coaching_report
from leadms_tui.domain.sales import commission, conversion
from leadms_tui.domain.team.users import add_user
from leadms_tui.domain.work import followups, meetings
from leadms_tui.domain.work.calls import log_call
from tests.conftest import cli_token

AT = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
ADMIN = Actor(None, "admin", Role.ADMIN)
NAME, OTHER_NAME = "Bia Souzaberg", "Beatriz Souzaberg"
PHONE, E164, NATIONAL = "+55 11 98765 4321", "+5511987654321", "11987654321"
EMAIL = "Bia.Souzaberg@example.com"
# what no dump may hold after the erase (the trigram index stores 3-letter pieces only)
SECRETS = ["Souzaberg", "souzaberg", E164, E164[1:], NATIONAL, EMAIL, EMAIL.lower()]
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8cfc0f01f0005000201e2b3d2a40000000049454e44ae426082"
)
runner = CliRunner()


@pytest.fixture
def person(db, team):
    """Bia: a WhatsApp lead and a form lead (same phone), with a note, a follow-up, a
    meeting, field values and an image, a reply, a phone call, a notification naming her
    and a refused webhook holding her number; Carl, someone else, stays."""
    ana = team["ana"]
    db.write(lambda s: add_user(s, "root", role=Role.ADMIN, actor=SYSTEM, password="secret"))
    for key, kind in (("nickname", FieldKind.TEXT), ("photo", FieldKind.IMAGE)):
        db.write(
            lambda s, key=key, kind=kind: definitions.add_field(
                s, FieldEntity.LEAD, key, kind, actor=ADMIN, ctx=values.context(s)
            )
        )
    chat = db.write(
        lambda s: receive_message(
            s,
            LeadCreate(name=NAME, channel="whatsapp", external_id=E164[1:], phone=PHONE,
                       message=f"Oi! Aqui é {NAME}", dedupe_key="wamid.1", owner_id=ana.id),
            actor=SYSTEM, now=AT,
        )
    )  # fmt: skip
    form = create_lead(
        db,
        LeadCreate(name=OTHER_NAME, channel="website", email=EMAIL, phone=PHONE, owner_id=ana.id),
        actor=SYSTEM,
        now=AT,
    )
    other = create_lead(
        db, LeadCreate(name="Carl Other", channel="website", phone="+44 7700 900999"),
        actor=SYSTEM, now=AT,
    )  # fmt: skip
    lead_id = form.lead_id

    def work(s):
        log_call(s, lead_id, CallOutcome.INTERESTED, actor=ana.actor,
                 note=f"{NAME} wants the yearly plan", now=AT)  # fmt: skip
        followups.add_followup(s, lead_id, due_at=AT + timedelta(hours=2),
                               reason=f"call {NAME} back", actor=ana.actor, now=AT)  # fmt: skip
        meetings.schedule_meeting(s, lead_id, starts_at=AT + timedelta(days=1),
                                  place="Rua Souzaberg 1", notes=f"{NAME}'s office",
                                  actor=ana.actor, now=AT)  # fmt: skip
        info = files.store_file(s, PNG + b"Souzaberg", "image/png")
        values.set_fields(
            s, FieldEntity.LEAD, lead_id,
            {"nickname": "Souzaberg", "photo": kinds.Upload(info.id, "souzaberg.png")},
            actor=ADMIN, now=AT,
        )  # fmt: skip
        outbox.send_text(s, chat.lead_id, f"Olá {NAME}!", actor=ana.actor, now=AT)
        s.add(Notification(user_id=team["maria"].id, message=f"{NAME} asked for a manager"))
        s.add(Notification(user_id=team["maria"].id, message=f"Missed call from {E164}"))
        s.add(IntakeReject(channel="whatsapp", reason="bad", payload=f'{{"from":"{E164[1:]}"}}'))
        s.add(IntakeReject(channel="website", reason=f"no consent: {EMAIL}", payload="{}"))

    db.write(work)
    event = bridge.PhoneEvent("asterisk", "1.1", PhoneCallState.RINGING, AT,
                              CallDirection.INBOUND, remote_number=PHONE)  # fmt: skip
    db.write(lambda s: bridge.record_phone_event(s, event))
    return {"chat": chat, "form": form, "other": other}


def _erase(db, number, *, actor=ADMIN, confirm=None, unpaid_ok=False):
    def work(s):
        found = find_person(s, lead_number=number, region="BR")
        return erase.erase_person(
            s, found, actor=actor, reason="GDPR request 7", confirm=confirm or number,
            unpaid_ok=unpaid_ok, now=AT,
        )  # fmt: skip

    return db.write(work)


def _dump(db) -> str:
    """Everything the database holds, as text: SQLite's iterdump and the raw file bytes
    (WAL included), PostgreSQL every row of every table cast to text."""
    if db.is_sqlite:
        path = Path(db.engine.url.database)
        with sqlite3.connect(path) as conn:
            dumped = "\n".join(conn.iterdump())
        raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        return dumped + raw.decode("latin-1")
    with db.engine.connect() as conn:
        tables = conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        ).scalars()
        return "\n".join(
            str(row[0])
            for table in list(tables)
            for row in conn.execute(text(f'SELECT t::text FROM "{table}" t'))
        )


def _report_counts(db):
    """What reports count: leads by status, channel and owner, calls by outcome, the
    coaching report of the day, sales and commission amounts."""
    with db.reading() as s:
        leads = s.execute(
            select(Lead.status, Lead.channel, Lead.owner_id, Lead.business_date, func.count())
            .group_by(Lead.status, Lead.channel, Lead.owner_id, Lead.business_date)
            .order_by(Lead.status, Lead.channel, Lead.owner_id)
        ).all()
        numbers = sorted(s.execute(select(Lead.number)).scalars())
        report = coaching_report(s, Period(date(2026, 11, 25), date(2026, 11, 26)))
        money = (
            s.execute(select(func.sum(Sale.value))).scalar(),
            s.execute(select(func.sum(Commission.amount))).scalar(),
        )
    return leads, numbers, report, money


def test_after_an_erase_no_dump_holds_the_person_and_the_trail_verifies(db, person):
    before = _report_counts(db)
    with db.reading() as s:
        events = s.execute(select(func.count()).select_from(AuditEvent)).scalar()
    dumped = _dump(db)
    assert all(secret in dumped for secret in SECRETS)  # the dump sees them before

    erased = _erase(db, person["chat"].number)
    erase.compact(db)

    assert erased.lead_numbers == sorted([person["chat"].number, person["form"].number])
    dumped = _dump(db)
    assert [secret for secret in SECRETS if secret in dumped] == []
    assert "Carl Other" in dumped and "+447700900999" in dumped  # someone else stays
    assert _report_counts(db) == before
    with db.reading() as s:
        verified = trail.verify(s)
        assert s.execute(select(func.count()).select_from(AuditEvent)).scalar() == events + 2
        created = s.execute(
            select(AuditEvent.changes, AuditEvent.personal).where(
                AuditEvent.action == "lead.create",
                AuditEvent.entity_id == str(person["form"].lead_id),
            )
        ).one()
        done = s.execute(select(AuditEvent).where(AuditEvent.action == "person.erase")).scalar_one()
    assert verified.ok and verified.seals == 1
    assert audit.changes_of(*created)["name"] == ["erased", "erased"]
    assert created[0]["status"] == [None, "new"]  # the trail still says what happened
    assert done.changes["reason"] == [None, "GDPR request 7"]
    assert done.changes["erased"][1]["leads"] == 2 and done.changes["erased"][1]["calls"] == 1


def test_an_unpaid_commission_needs_a_second_confirmation_and_its_amount_stays(db, team, person):
    maria = team["maria"].actor
    db.write(
        lambda s: commission.add_plan(
            s, "Standard", currency="USD", rate="10", make_default=True, actor=maria
        )
    )
    db.write(
        lambda s: conversion.convert_lead(
            s, person["form"].lead_id, conversion.ConversionRequest(value="1000"), actor=ADMIN
        )
    )
    with pytest.raises(erase.UnpaidCommissionError, match="not paid yet"):
        _erase(db, person["form"].number)
    _erase(db, person["form"].number, unpaid_ok=True)
    with db.reading() as s:
        amounts = s.execute(select(Sale.value, Commission.amount).join(Commission)).one()
        names = set(s.execute(text("SELECT name FROM clients")).scalars())
    assert amounts == (1000, 100) and names == {"erased"}


def test_only_admins_erase_the_typed_number_is_checked_and_erased_is_said(db, team, person):
    number = person["form"].number
    with pytest.raises(PermissionDeniedError):
        _erase(db, number, actor=team["maria"].actor)
    with pytest.raises(ValidationError, match="not one of this person's lead numbers"):
        _erase(db, number, confirm=person["other"].number)
    _erase(db, number, confirm=person["chat"].number)  # any of the person's numbers
    with pytest.raises(erase.AlreadyErasedError, match="already erased"):
        _erase(db, number)


def test_the_cli_erases_for_admins_after_the_typed_number(db, db_url, team, person, monkeypatch):
    number = person["form"].number
    args = ["--database-url", db_url, "people", "erase", number, "--reason", "ticket 9"]
    monkeypatch.setenv("LEADMS_TOKEN", cli_token(db, "maria"))
    refused = runner.invoke(app, [*args, "--confirm", number])
    assert refused.exit_code != 0 and "only an admin" in refused.output
    monkeypatch.setenv("LEADMS_TOKEN", cli_token(db, "root"))
    wrong = runner.invoke(app, args, input="LEAD-20260101-001\n")
    assert wrong.exit_code != 0 and "nothing erased" in wrong.output
    done = runner.invoke(app, args, input=f"{number}\n")
    assert done.exit_code == 0, done.output
    assert "erased:" in done.output and person["chat"].number in done.output
    again = runner.invoke(app, [*args, "--confirm", number])
    assert again.exit_code != 0 and "already erased" in again.output
    verified = runner.invoke(app, ["--database-url", db_url, "audit", "verify"])
    assert verified.exit_code == 0 and "1 seal(s) hold" in verified.output


def test_the_lead_timeline_shows_changed_values_until_the_erase_then_erased(db, person):
    lead_id = person["form"].lead_id

    def rename(s):
        version = s.get(Lead, lead_id).version
        update_lead(s, lead_id, LeadUpdate(name="Bia S."), expected_version=version, actor=ADMIN)

    def changes_shown():
        with db.reading() as s:
            detail = load_lead_detail(session=s, lead_id=lead_id, viewer=ADMIN)
        return [e.detail for e in detail.timeline if e.kind == "change"]

    db.write(rename)
    assert any(OTHER_NAME in shown and "Bia S." in shown for shown in changes_shown())
    _erase(db, person["form"].number)
    shown = changes_shown()
    assert shown and all("Souzaberg" not in line for line in shown)
    assert any("erased" in line for line in shown)


def test_the_cli_asks_again_for_unpaid_commission(db, db_url, team, person, monkeypatch):
    maria = team["maria"].actor
    db.write(
        lambda s: commission.add_plan(
            s, "Standard", currency="USD", rate="10", make_default=True, actor=maria
        )
    )
    db.write(
        lambda s: conversion.convert_lead(
            s, person["form"].lead_id, conversion.ConversionRequest(value="1000"), actor=ADMIN
        )
    )
    number = person["form"].number
    args = ["--database-url", db_url, "people", "erase", number, "--reason", "ticket 9"]
    monkeypatch.setenv("LEADMS_TOKEN", cli_token(db, "root"))
    scripted = runner.invoke(app, [*args, "--confirm", number])
    assert scripted.exit_code != 0 and "--unpaid-ok" in scripted.output
    declined = runner.invoke(app, args, input=f"{number}\nn\n")
    assert declined.exit_code != 0 and "nothing erased" in declined.output
    done = runner.invoke(app, args, input=f"{number}\ny\n")
    assert done.exit_code == 0 and "erased:" in done.output, done.output
