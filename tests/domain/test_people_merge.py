"""Merging two leads of one person (issue 30): every row of the other lead moves to the
survivor in one transaction and the other lead is hidden but kept; a dry run changes
nothing; the refusals; an unmerge restores every table exactly, or refuses when a moved row
changed since. Both engines."""

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update
from sqlmodel import SQLModel
from typer.testing import CliRunner

from leadms_tui.cli import app
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.errors import ConflictError, NotFoundError, ValidationError
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import (
    AssignmentWait,
    AuditEvent,
    Call,
    CallDirection,
    CallOutcome,
    Client,
    DialRequest,
    FieldDefinition,
    FieldEntity,
    FieldKind,
    FieldValue,
    FollowUp,
    Lead,
    LeadMerge,
    Meeting,
    Notification,
    OutboundMessage,
    PhoneCall,
    ResponseClock,
    ResponseStep,
    Sale,
)
from leadms_tui.domain.people.merge import default_survivor, merge_leads, unmerge
from leadms_tui.domain.queries.dayview import load_day_view
from leadms_tui.domain.queries.leads import LeadFilter, iter_leads, search_leads
from tests.conftest import cli_token

AT = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
runner = CliRunner()
NOT_DUMPED = {"audit_events", "lead_merges"}


def dump(db) -> dict[str, list[tuple]]:
    """Every row of every table (but the audit log and the merge records), in key order."""
    with db.reading() as session:
        return {
            table.name: [
                tuple(row)
                for row in session.execute(select(table).order_by(*table.primary_key.columns)).all()
            ]
            for table in SQLModel.metadata.sorted_tables
            if table.name not in NOT_DUMPED
        }


def _children(session, lead_id: int, users: dict, tag: str, *, sold: bool = False) -> None:
    """One row of each kind hanging off a lead."""
    ana = users["ana"].id
    session.add(Call(lead_id=lead_id, user_id=ana, outcome=CallOutcome.NO_ANSWER, called_at=AT))
    session.add(FollowUp(lead_id=lead_id, owner_id=ana, due_at=AT + timedelta(days=1)))
    session.add(Meeting(lead_id=lead_id, owner_id=ana, starts_at=AT + timedelta(days=2)))
    session.add(
        OutboundMessage(
            lead_id=lead_id,
            channel="whatsapp",
            recipient="447700900123",
            kind="text",
            body=f"hello {tag}",
        )
    )
    session.add(
        PhoneCall(
            provider="asterisk",
            provider_call_id=f"call-{tag}",
            direction=CallDirection.INBOUND,
            lead_id=lead_id,
            started_at=AT,
        )
    )
    session.add(
        DialRequest(
            user_id=ana, lead_id=lead_id, extension="201", number="+447700900123", requested_at=AT
        )
    )
    session.add(Notification(user_id=ana, lead_id=lead_id, message=f"new lead {tag}"))
    clock_row = ResponseClock(lead_id=lead_id, started_at=AT)
    session.add(clock_row)
    session.flush()
    session.add(
        ResponseStep(clock_id=clock_row.id, lead_id=lead_id, minute=5, action="owner", fired_at=AT)
    )
    if sold:
        client = Client(
            number=f"CL-{lead_id:06d}", seq=lead_id, name=f"Client {tag}", first_lead_id=lead_id
        )
        session.add(client)
        session.flush()
        session.add(
            Sale(
                client_id=client.id,
                lead_id=lead_id,
                value=Decimal("100"),
                currency="GBP",
                sold_on=date(2026, 11, 25),
                previous_status="new",
            )
        )
    session.flush()


@pytest.fixture
def two(db, team):
    """Bia's older lead `keep` and her newer lead `other` (with a repeat `later` of it), each
    with rows of every kind; two lead fields both have and one only the other has."""

    def lead(name, phone=None, email=None, at=AT):
        return create_lead(
            db,
            LeadCreate(name=name, channel="website", phone=phone, email=email),
            actor=SYSTEM,
            now=at,
        )

    keep = lead("Bia Souza", phone="+44 7700 900123", at=AT - timedelta(days=3))
    other = lead("Beatriz Souza", email="bia@example.com", at=AT - timedelta(hours=1))
    later = lead("Beatriz S.", email="bia@example.com")
    stranger = lead("Carl Other", phone="+44 7700 900999")

    def seed(session):
        session.execute(
            update(Lead).where(Lead.id == later.lead_id).values(repeat_of_id=other.lead_id)
        )
        defs = {}
        for key in ("budget", "plan", "source"):
            row = FieldDefinition(
                entity=FieldEntity.LEAD, key=key, label=key.title(), kind=FieldKind.TEXT
            )
            session.add(row)
            session.flush()
            defs[key] = row.id
        for lead_id, values in (
            (keep.lead_id, {"budget": "500", "plan": "Gold"}),
            (other.lead_id, {"budget": "900", "plan": "Silver", "source": "fair"}),
        ):
            for key, value in values.items():
                session.add(
                    FieldValue(
                        definition_id=defs[key],
                        entity_id=lead_id,
                        value_text=value,
                        value_key=value.lower(),
                    )
                )
        _children(session, keep.lead_id, team, "keep")
        _children(session, other.lead_id, team, "other", sold=True)
        _children(session, stranger.lead_id, team, "stranger")
        session.add(AssignmentWait(lead_id=other.lead_id, since=AT, reason="nobody free"))

    db.write(seed)
    return {"keep": keep, "other": other, "later": later, "stranger": stranger}


def _count(session, model, lead_id):
    return len(session.execute(select(model.id).where(model.lead_id == lead_id)).all())


def _merge(db, keep, other, **kwargs):
    actor = kwargs.pop("actor", SYSTEM)
    return db.write(
        lambda s: merge_leads(s, keep.number, other.number, actor=actor, now=AT, **kwargs)
    )


def test_a_merge_moves_every_row_and_hides_the_other_lead(db, team, two):
    keep, other = two["keep"], two["other"]
    result = _merge(db, keep, other, actor=team["maria"].actor)
    assert result.merge_id is not None and result.survivor == keep.number
    assert result.moved == {
        "inquiries": 1,
        "calls": 1,
        "follow_ups": 1,
        "meetings": 1,
        "outbound_messages": 1,
        "phone_calls": 1,
        "response_steps": 1,
        "notifications": 1,
        "sales": 1,
        "dial_requests": 1,
        "field_values": 1,
        "assignment_waits": 1,
        "leads": 1,
    }
    assert result.kept_fields == ("budget", "plan")
    with db.reading() as s:
        for model in (
            Call,
            FollowUp,
            Meeting,
            OutboundMessage,
            DialRequest,
            PhoneCall,
            Notification,
            ResponseStep,
        ):
            assert _count(s, model, other.lead_id) == 0, model
            assert _count(s, model, keep.lead_id) == 2, model
        assert _count(s, Sale, other.lead_id) == 0 and _count(s, Sale, keep.lead_id) == 1
        # the survivor keeps its own response clock; the other's stays, recorded
        assert _count(s, ResponseClock, other.lead_id) == 1
        assert s.get(AssignmentWait, keep.lead_id) is not None
        assert s.get(AssignmentWait, other.lead_id) is None
        assert s.get(Lead, two["later"].lead_id).repeat_of_id == keep.lead_id
        values = dict(
            s.execute(
                select(FieldDefinition.key, FieldValue.value_text)
                .join(FieldDefinition)
                .where(FieldValue.entity_id == keep.lead_id)
            ).all()
        )
        assert values == {"budget": "500", "plan": "Gold", "source": "fair"}
        merged = s.get(Lead, other.lead_id)
        assert merged.merged_into_id == keep.lead_id and merged.status == "new"
        listed = {
            r.number
            for r in search_leads(session=s, where=LeadFilter(), phone_region="GB", viewer=SYSTEM)
        }
        found = {
            r.number
            for r in search_leads(
                session=s, where=LeadFilter(text="Beatriz"), phone_region="GB", viewer=SYSTEM
            )
        }
        streamed = {r.number for r in iter_leads(session=s, viewer=SYSTEM)}
        day = load_day_view(session=s, day=AT.date(), timezone="Europe/London", owner_id=None)
        event = s.execute(select(AuditEvent).where(AuditEvent.action == "lead.merge")).scalar_one()
    assert other.number not in listed | found | streamed
    assert keep.number in listed and two["later"].number in found
    assert other.number not in {row.number for row in day.new_leads}
    assert event.actor == "maria" and event.entity_id == str(other.lead_id)


def test_a_dry_run_changes_nothing_and_reports_the_same(db, two):
    before = dump(db)
    dry = _merge(db, two["keep"], two["other"], dry_run=True)
    assert dry.merge_id is None and dry.moved["calls"] == 1
    assert dump(db) == before
    with db.reading() as s:
        assert (
            s.execute(select(AuditEvent).where(AuditEvent.action == "lead.merge")).first() is None
        )
        assert s.execute(select(LeadMerge)).first() is None
    assert _merge(db, two["keep"], two["other"]).moved == dry.moved


def test_the_refusals(db, team, two):
    keep, other, stranger = two["keep"], two["other"], two["stranger"]
    with pytest.raises(ValidationError, match="with itself"):
        _merge(db, keep, keep)
    with pytest.raises(NotFoundError):
        db.write(lambda s: merge_leads(s, keep.number, "LEAD-19990101-001", actor=SYSTEM))

    def sell(session):
        client = Client(number="CL-999999", seq=999999, name="Carl")
        session.add(client)
        session.flush()
        session.add(
            Sale(
                client_id=client.id,
                lead_id=stranger.lead_id,
                value=Decimal(1),
                currency="GBP",
                sold_on=date(2026, 11, 25),
                previous_status="new",
            )
        )

    db.write(sell)
    with pytest.raises(ConflictError, match="both leads were sold"):
        _merge(db, stranger, other)
    _merge(db, keep, other)
    with pytest.raises(ValidationError, match="already merged into"):
        _merge(db, stranger, other)
    with pytest.raises(ValidationError, match="already merged into"):
        _merge(db, other, keep)


def test_the_default_survivor_is_the_one_with_a_client_else_the_older(db, two):
    with db.reading() as s:
        assert default_survivor(s, two["keep"].number, two["other"].number) == two["other"].number
        assert default_survivor(s, two["later"].number, two["keep"].number) == two["keep"].number


def test_unmerge_restores_every_table_exactly(db, team, two):
    before = dump(db)
    result = _merge(db, two["keep"], two["other"], picks={"budget": "other"})
    assert result.taken_fields == ("budget",) and result.kept_fields == ("plan",)
    with db.reading() as s:
        budget = s.execute(
            select(FieldValue.value_text)
            .join(FieldDefinition)
            .where(FieldDefinition.key == "budget", FieldValue.entity_id == two["keep"].lead_id)
        ).scalar()
    assert budget == "900"
    assert dump(db) != before
    db.write(lambda s: unmerge(s, result.merge_id, actor=team["maria"].actor, now=AT))
    assert dump(db) == before
    with db.reading() as s:
        assert s.get(LeadMerge, result.merge_id).unmerged_at is not None
        assert s.execute(select(AuditEvent).where(AuditEvent.action == "lead.unmerge")).first()
    with pytest.raises(ValidationError, match="already undone"):
        db.write(lambda s: unmerge(s, result.merge_id, actor=SYSTEM))


def test_unmerge_is_refused_after_a_conflicting_change(db, two):
    keep, other, stranger = two["keep"], two["other"], two["stranger"]
    result = _merge(db, keep, other)
    with db.reading() as s:
        moved = s.get(LeadMerge, result.merge_id).moved
    call_id, follow_up_id = moved["calls"][0], moved["follow_ups"][0]
    db.write(
        lambda s: s.execute(
            update(FollowUp).where(FollowUp.id == follow_up_id).values(lead_id=stranger.lead_id)
        )
    )
    db.write(lambda s: s.execute(delete(Call).where(Call.id == call_id)))
    snapshot = dump(db)
    with pytest.raises(
        ConflictError, match=r"1 calls row\(s\) deleted.*1 follow_ups row\(s\) moved"
    ):
        db.write(lambda s: unmerge(s, result.merge_id, actor=SYSTEM))
    assert dump(db) == snapshot


def test_a_dropped_assignment_wait_comes_back(db, two):
    keep, other = two["keep"], two["other"]
    db.write(lambda s: s.add(AssignmentWait(lead_id=keep.lead_id, since=AT, reason="busy")))
    before = dump(db)
    result = _merge(db, keep, other)
    assert "assignment_waits" not in result.moved
    with db.reading() as s:
        assert s.get(AssignmentWait, other.lead_id) is None
    db.write(lambda s: unmerge(s, result.merge_id, actor=SYSTEM))
    assert dump(db) == before


NAMES = ("keep", "other", "later", "stranger")
PAIRS = [(a, b) for a in NAMES for b in NAMES if a != b]


@settings(
    max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    pair=st.sampled_from(PAIRS),
    take=st.lists(st.sampled_from(["budget", "plan", "source"]), unique=True),
    core=st.lists(st.sampled_from(["name", "phone", "email"]), unique=True),
)
@example(pair=("later", "other"), take=["budget"], core=[])  # the survivor repeated the other
@example(pair=("keep", "other"), take=[], core=["name", "phone", "email"])
def test_any_merge_then_unmerge_is_the_identity(db, two, pair, take, core):
    """Whichever two leads, whatever fields taken (the survivor's own name, phone and email
    too): merge then unmerge changes no row."""
    keep, other = two[pair[0]], two[pair[1]]
    before = dump(db)
    try:
        result = _merge(db, keep, other, picks=dict.fromkeys(take, "other"), take=frozenset(core))
    except ConflictError:  # both sold
        assert dump(db) == before
        return
    db.write(lambda s: unmerge(s, result.merge_id, actor=SYSTEM))
    assert dump(db) == before


def test_the_cli_merges_and_unmerges_for_managers_only(db, db_url, two, monkeypatch):
    keep, other = two["keep"], two["other"]
    base = ["--database-url", db_url, "people"]
    monkeypatch.setenv("LEADMS_TOKEN", cli_token(db, "ana"))
    refused = runner.invoke(app, [*base, "merge", keep.number, other.number])
    assert refused.exit_code != 0 and "only a manager or an admin" in refused.output
    monkeypatch.setenv("LEADMS_TOKEN", cli_token(db, "maria"))
    dry = runner.invoke(app, [*base, "merge", keep.number, other.number, "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    shown = json.loads(dry.output)
    # the default survivor is the lead with a client
    assert shown["survivor"] == other.number and shown["merge_id"] is None
    made = runner.invoke(app, [*base, "merge", keep.number, other.number, "--keep", "A"])
    assert made.exit_code == 0, made.output
    assert f"{other.number} into {keep.number}" in made.output and "calls" in made.output
    with db.reading() as s:
        merge_id = s.execute(select(LeadMerge.id)).scalar_one()
    undone = runner.invoke(app, [*base, "unmerge", str(merge_id)])
    assert undone.exit_code == 0, undone.output
    again = runner.invoke(app, [*base, "unmerge", str(merge_id)])
    assert again.exit_code != 0 and "already undone" in again.output


def test_a_new_lead_like_a_merged_one_is_a_repeat_of_the_survivor(db, two):
    _merge(db, two["keep"], two["other"])
    again = create_lead(
        db, LeadCreate(name="Bia", channel="website", email="bia@example.com"), actor=SYSTEM, now=AT
    )
    assert again.repeat_of == two["keep"].number  # not the hidden lead it was merged from


def test_the_survivor_can_take_the_others_name_phone_and_email(db, team, two):
    keep, other = two["keep"], two["other"]
    with db.reading() as s:
        theirs = s.get(Lead, other.lead_id)
        wanted = (theirs.name, theirs.phone_e164, theirs.email)
    result = _merge(db, keep, other, take=frozenset({"name", "phone", "email"}))
    assert result.taken_core == ("name", "phone", "email")
    with db.reading() as s:
        survivor = s.get(Lead, keep.lead_id)
        assert (survivor.name, survivor.phone_e164, survivor.email) == wanted
    with pytest.raises(ValidationError, match="take name, phone, email, not age"):
        _merge(db, two["later"], two["stranger"], take=frozenset({"age"}))


def test_reps_neither_find_nor_merge_duplicates(db, team, two):
    from leadms_tui.domain.errors import PermissionDeniedError
    from leadms_tui.domain.people.duplicates import duplicate_page

    rep = team["ana"].actor
    with pytest.raises(PermissionDeniedError), db.reading() as s:
        duplicate_page(s, viewer=rep)
    with pytest.raises(PermissionDeniedError):
        _merge(db, two["keep"], two["other"], actor=rep)
