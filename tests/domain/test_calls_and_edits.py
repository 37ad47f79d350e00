"""Call logging and lead edits: one transaction each, concurrency-safe, permission-checked."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from leadms_tui.domain.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from leadms_tui.domain.leads.edits import LeadUpdate, update_lead
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import AuditEvent, Call, CallOutcome, FollowUp, Lead, LeadStatus
from leadms_tui.domain.work.calls import log_call, undo_call
from leadms_tui.domain.work.followups import add_followup

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def _lead(db, team, owner="ana", phone="+5511987654321", **extra):
    data = LeadCreate(
        name="Bruno Lima",
        phone=phone,
        channel="whatsapp",
        owner_id=team[owner].id if owner else None,
        **extra,
    )
    return create_lead(db, data, actor=team["maria"].actor, now=NOW).lead_id


def _get(db, model, **where):
    with db.reading() as session:
        return session.execute(select(model).filter_by(**where)).scalars().all()


def test_no_answer_logs_call_contacts_lead_and_books_retry(db, team):
    lead_id = _lead(db, team)
    due = NOW + timedelta(hours=4)
    logged = db.write(
        lambda s: log_call(
            s,
            lead_id,
            CallOutcome.NO_ANSWER,
            actor=team["ana"].actor,
            next_followup_at=due,
            now=NOW,
        )
    )
    assert logged.status == LeadStatus.CONTACTED
    (lead,) = _get(db, Lead, id=lead_id)
    (call,) = _get(db, Call, lead_id=lead_id)
    (followup,) = _get(db, FollowUp, lead_id=lead_id)
    assert (lead.status, lead.version) == (LeadStatus.CONTACTED, 2)
    assert (call.outcome, call.user_id) == (CallOutcome.NO_ANSWER, team["ana"].id)
    assert (followup.due_at, followup.state, followup.attempt) == (due, "open", 1)
    actions = [e.action for e in _get(db, AuditEvent)]
    assert actions[-3:] == ["call.create", "lead.update", "followup.create"]


def test_next_call_completes_the_open_followup(db, team):
    lead_id = _lead(db, team)
    for outcome in (CallOutcome.NO_ANSWER, CallOutcome.BUSY):
        db.write(
            lambda s, o=outcome: log_call(
                s,
                lead_id,
                o,
                actor=team["ana"].actor,
                next_followup_at=NOW + timedelta(hours=4),
                now=NOW,
            )
        )
    first, second = sorted(_get(db, FollowUp, lead_id=lead_id), key=lambda f: f.id)
    assert (first.state, second.state, second.attempt) == ("done", "open", 2)
    assert first.call_id is not None


def test_not_interested_closes_the_lead_without_followup(db, team):
    lead_id = _lead(db, team)
    db.write(
        lambda s: log_call(
            s,
            lead_id,
            CallOutcome.NOT_INTERESTED,
            actor=team["ana"].actor,
            next_followup_at=NOW + timedelta(days=1),
            now=NOW,
        )
    )
    (lead,) = _get(db, Lead, id=lead_id)
    assert (lead.status, lead.lost_reason) == (LeadStatus.LOST, "not interested")
    assert _get(db, FollowUp, lead_id=lead_id) == []


def test_a_rep_cannot_call_another_reps_lead_and_takes_unassigned_ones(db, team):
    theirs = _lead(db, team, owner="bruno")
    with pytest.raises(PermissionDeniedError):
        db.write(lambda s: log_call(s, theirs, CallOutcome.BUSY, actor=team["ana"].actor))
    assert _get(db, Call) == []
    unassigned = _lead(db, team, owner=None, phone="+34612345678")
    db.write(lambda s: log_call(s, unassigned, CallOutcome.BUSY, actor=team["ana"].actor))
    assert _get(db, Lead, id=unassigned)[0].owner_id == team["ana"].id


def test_concurrent_edit_is_refused_not_overwritten(db, team):
    lead_id = _lead(db, team)
    db.write(
        lambda s: update_lead(
            s,
            lead_id,
            LeadUpdate(name="Bruno Lima Jr"),
            expected_version=1,
            actor=team["maria"].actor,
        )
    )
    with pytest.raises(ConflictError, match="changed by maria"):
        db.write(
            lambda s: update_lead(
                s,
                lead_id,
                LeadUpdate(email="b@example.com"),
                expected_version=1,
                actor=team["ana"].actor,
            )
        )
    (lead,) = _get(db, Lead, id=lead_id)
    assert (lead.name, lead.email, lead.version) == ("Bruno Lima Jr", None, 2)


def test_status_rules(db, team):
    lead_id = _lead(db, team)
    ana = team["ana"].actor

    def edit(version, **changes):
        return db.write(
            lambda s: update_lead(
                s, lead_id, LeadUpdate(**changes), expected_version=version, actor=ana
            )
        )

    edit(1, status=LeadStatus.QUALIFIED)
    with pytest.raises(PermissionDeniedError, match="move a lead back"):
        edit(2, status=LeadStatus.NEW)
    with pytest.raises(ValidationError, match="lost reason"):
        edit(2, status=LeadStatus.LOST)
    edit(2, status=LeadStatus.LOST, lost_reason="price")
    with pytest.raises(PermissionDeniedError, match="reopen"):
        edit(3, status=LeadStatus.CONTACTED)
    db.write(
        lambda s: update_lead(
            s,
            lead_id,
            LeadUpdate(status=LeadStatus.CONTACTED),
            expected_version=3,
            actor=team["maria"].actor,
        )
    )
    (lead,) = _get(db, Lead, id=lead_id)
    assert (lead.status, lead.lost_reason) == (LeadStatus.CONTACTED, None)


def test_a_phone_learned_later_links_the_lead_as_a_repeat(db, team):
    first = _lead(db, team)
    messenger = create_lead(
        db,
        LeadCreate(name="Bruno", external_id="psid-1", channel="messenger"),
        actor=team["maria"].actor,
        now=NOW,
    )
    assert messenger.repeat_of is None
    db.write(
        lambda s: update_lead(
            s,
            messenger.lead_id,
            LeadUpdate(phone="+55 11 98765-4321"),
            expected_version=1,
            actor=team["maria"].actor,
        )
    )
    (lead,) = _get(db, Lead, id=messenger.lead_id)
    assert (lead.repeat_of_id, lead.phone_e164) == (first, "+5511987654321")


def test_invalid_edits_are_refused(db, team):
    lead_id = _lead(db, team)
    for changes, message in [
        ({"phone": "call me"}, "invalid phone"),
        ({"email": "not-an-email"}, "invalid email"),
        ({"name": "  "}, "cannot be empty"),
    ]:
        with pytest.raises(ValidationError, match=message):
            db.write(
                lambda s, c=changes: update_lead(
                    s, lead_id, LeadUpdate(**c), expected_version=1, actor=team["ana"].actor
                )
            )
    assert _get(db, Lead, id=lead_id)[0].version == 1


def test_a_call_is_undone_within_a_minute_with_what_it_did(db, team):
    ana = team["ana"].actor
    lead = create_lead(
        db,
        LeadCreate(name="Una", phone="+447700900777", channel="phone", owner_id=team["ana"].id),
        actor=ana,
        now=NOW - timedelta(hours=1),
    )
    asked = db.write(
        lambda s: add_followup(s, lead.lead_id, due_at=NOW, reason="Call", actor=ana, now=NOW)
    )
    logged = db.write(
        lambda s: log_call(s, lead.lead_id, CallOutcome.NO_ANSWER, actor=ana, now=NOW)
    )
    assert logged.status == LeadStatus.CONTACTED and logged.followup_due is not None
    late = NOW + timedelta(seconds=61)
    with pytest.raises(ValidationError, match="within a minute"):
        db.write(lambda s: undo_call(s, logged.call_id, actor=ana, now=late))
    bruno = team["bruno"].actor
    with pytest.raises(PermissionDeniedError):
        db.write(lambda s: undo_call(s, logged.call_id, actor=bruno, now=NOW))
    number = db.write(
        lambda s: undo_call(s, logged.call_id, actor=ana, now=NOW + timedelta(seconds=30))
    )
    assert number == lead.number
    with db.reading() as session:
        assert session.get(Call, logged.call_id) is None
        states = {f.id: f.state for f in session.execute(select(FollowUp)).scalars()}
        status = session.get(Lead, lead.lead_id).status
        undo = session.execute(
            select(AuditEvent).where(AuditEvent.action == "call.undo")
        ).scalar_one()
    assert states.pop(asked.id) == "open"  # answered by the call: open again
    assert set(states.values()) == {"skipped"}  # booked by the call: withdrawn
    assert status == LeadStatus.NEW and undo.changes["outcome"][0] == "no_answer"
    with pytest.raises(NotFoundError):
        db.write(lambda s: undo_call(s, logged.call_id, actor=ana, now=NOW))


def test_a_person_won_or_lost_closes_the_followups_of_their_other_leads(db, team):
    ana = team["ana"].actor
    first = _lead(db, team, phone="+447700900601")
    again = _lead(db, team, phone="+447700900601", message="me again")  # a repeat
    other = _lead(db, team, phone="+447700900602")  # someone else
    for lead_id in (first, again, other):
        db.write(lambda s, i=lead_id: add_followup(s, i, due_at=NOW, reason="Call", actor=ana))
    db.write(
        lambda s: update_lead(
            s, again, LeadUpdate(status=LeadStatus.LOST, lost_reason="bought elsewhere"),
            expected_version=1, actor=team["maria"].actor,
        )
    )  # fmt: skip
    state = {f.lead_id: f.state for f in _get(db, FollowUp)}
    assert state[first] == "skipped" and state[other] == "open"
    (note,) = [
        e.changes["note"][1]
        for e in _get(db, AuditEvent, action="followup.update")
        if "note" in e.changes
    ]
    assert note.endswith("was lost")


def test_a_meeting_booked_closes_the_retries_of_the_persons_other_leads(db, team):
    from leadms_tui.domain.work.meetings import schedule_meeting

    ana = team["ana"].actor
    first = _lead(db, team, phone="+447700900701")
    again = _lead(db, team, phone="+447700900701", message="me again")  # a repeat
    other = _lead(db, team, phone="+447700900702")  # someone else
    for lead_id, reason in ((first, "Retry: no answer"), (other, "Retry: no answer")):
        db.write(lambda s, i=lead_id, r=reason: add_followup(s, i, due_at=NOW, reason=r, actor=ana))
    callback = db.write(
        lambda s: add_followup(s, first, due_at=NOW, reason="Callback requested", actor=ana)
    ).id
    db.write(
        lambda s: schedule_meeting(s, again, starts_at=NOW + timedelta(days=1), actor=ana, now=NOW)
    )
    state = {f.id: (f.lead_id, f.reason, f.state) for f in _get(db, FollowUp)}
    assert sorted(state.values()) == sorted(
        [
            (first, "Retry: no answer", "skipped"),  # the person's retry: stopped
            (first, "Callback requested", "open"),  # a promise to them stays
            (other, "Retry: no answer", "open"),  # someone else's
        ]
    )
    assert state[callback][2] == "open"
    (note,) = [
        e.changes["note"][1]
        for e in _get(db, AuditEvent, action="followup.update")
        if "note" in e.changes
    ]
    lead_number = next(lead.number for lead in _get(db, Lead) if lead.id == again)
    assert note == f"a meeting is booked on {lead_number}"
