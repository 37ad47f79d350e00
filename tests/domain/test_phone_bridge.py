"""The phone bridge's domain (issue 29): one event model into one stored call per provider id,
matched to the person's lead and the rep's extension, moved only forward; unanswered outbound
attempts logged without the rep when the team says so. Both engines."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.errors import ValidationError
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import (
    AuditEvent,
    Call,
    CallDirection,
    CallOutcome,
    Lead,
    LeadStatus,
    PhoneCall,
    PhoneCallState,
)
from leadms_tui.domain.phone.bridge import (
    PROPOSED_OUTCOME,
    EndStatus,
    PhoneEvent,
    phone_calls_of_lead,
    recent_calls_of,
    record_phone_event,
)
from leadms_tui.domain.team.settings import set_setting
from leadms_tui.domain.team.users import update_user
from leadms_tui.domain.work.calls import log_call

AT = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
PHONE = "07700 900123"  # GB: +447700900123


@pytest.fixture
def phones(db, team):
    db.write(lambda s: update_user(s, "ana", actor=SYSTEM, extension="201"))
    db.write(lambda s: update_user(s, "bruno", actor=SYSTEM, extension="PJSIP/202"))
    return team


def _lead(db, name, phone=PHONE, at=AT):
    data = LeadCreate(name=name, phone=phone, channel="website")
    return create_lead(db, data, actor=SYSTEM, now=at).lead_id


def _event(state, at, **values):
    values.setdefault("direction", CallDirection.INBOUND)
    return PhoneEvent(provider="asterisk", call_id="1700000000.42", state=state, at=at, **values)


def _record(db, event):
    return db.write(lambda s: record_phone_event(s, event, now=event.at))


def test_a_call_is_stored_once_matched_and_moved_only_forward(db, phones):
    old = _lead(db, "Nora Old", at=AT - timedelta(days=9))
    db.write(lambda s: s.get(Lead, old).__setattr__("status", LeadStatus.LOST))
    newest_open = _lead(db, "Nora New", at=AT - timedelta(days=2))
    ring = _event(PhoneCallState.RINGING, AT, extension="201", remote_number="+44 7700 900123")
    answer = _event(PhoneCallState.ANSWERED, AT + timedelta(seconds=6))
    end = _event(PhoneCallState.ENDED, AT + timedelta(seconds=66), end_status=EndStatus.ANSWERED,
                 recording_url="https://pbx.example/rec/42.wav")  # fmt: skip
    first = _record(db, ring)
    assert (first.new, first.lead_id, first.user_id) == (True, newest_open, phones["ana"].id)
    _record(db, end)  # out of order: the end before the answer
    _record(db, answer)
    again = _record(db, end)  # repeated
    assert not again.changed
    with db.reading() as session:
        row = session.execute(select(PhoneCall)).scalar_one()
        audits = session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.entity == "phone_call")
        )
    assert (row.state, row.end_status, row.duration_seconds) == ("ended", "answered", 60)
    assert (row.answered_at, row.ended_at, row.remote_e164) == (
        AT + timedelta(seconds=6), AT + timedelta(seconds=66), "+447700900123"
    )  # fmt: skip
    assert row.recording_url == "https://pbx.example/rec/42.wav"
    assert audits == 3  # create, end, answer: the repeat wrote nothing


def test_the_systems_own_duration_wins_and_a_late_recording_is_added(db, phones):
    _lead(db, "Ola")
    _record(db, _event(PhoneCallState.ANSWERED, AT, extension="PJSIP/202", remote_number=PHONE))
    _record(db, _event(PhoneCallState.ENDED, AT + timedelta(seconds=50), duration_seconds=47))
    _record(db, _event(PhoneCallState.ENDED, AT + timedelta(seconds=55),
                       recording_url="https://pbx.example/r.wav"))  # fmt: skip
    with db.reading() as session:
        row = session.execute(select(PhoneCall)).scalar_one()
    assert (row.user_id, row.duration_seconds, row.ended_at) == (
        phones["bruno"].id, 47, AT + timedelta(seconds=50)
    )  # fmt: skip
    assert row.recording_url == "https://pbx.example/r.wav"


def test_an_unknown_extension_and_an_unreadable_number_are_refused(db, phones):
    with pytest.raises(ValidationError, match="unknown extension 999 and no readable number abc"):
        _record(db, _event(PhoneCallState.RINGING, AT, extension="999", remote_number="abc"))
    with pytest.raises(ValidationError, match="call id"):
        db.write(lambda s: record_phone_event(s, PhoneEvent(
            "asterisk", " ", PhoneCallState.RINGING, AT, CallDirection.INBOUND, extension="201"
        ), now=AT))  # fmt: skip
    # an unknown caller on a known extension is kept: the rep gets the new-lead modal
    unknown = _record(
        db, _event(PhoneCallState.RINGING, AT, extension="201", remote_number="+1 202 555 0143")
    )
    assert (unknown.lead_id, unknown.user_id) == (None, phones["ana"].id)


def test_extensions_are_unique_and_read_without_the_technology(db, phones):
    with pytest.raises(ValidationError, match="extension 201 belongs to ana"):
        db.write(lambda s: update_user(s, "maria", actor=SYSTEM, extension="SIP/201"))
    assert db.write(lambda s: update_user(s, "ana", actor=SYSTEM, extension="")).extension is None


def test_unanswered_outbound_attempts_are_logged_without_the_rep_when_the_team_says_so(db, phones):
    lead_id = _lead(db, "Pia")
    out = dict(direction=CallDirection.OUTBOUND, extension="201", remote_number=PHONE)
    _record(
        db, PhoneEvent("twilio", "CA1", PhoneCallState.ENDED, AT, end_status=EndStatus.BUSY, **out)
    )
    db.write(lambda s: set_setting(s, "log_unanswered_calls", "yes", actor=SYSTEM))
    logged = _record(
        db,
        PhoneEvent(
            "twilio", "CA2", PhoneCallState.ENDED, AT, end_status=EndStatus.NO_ANSWER, **out
        ),
    )
    answered = _record(
        db,
        PhoneEvent(
            "twilio",
            "CA3",
            PhoneCallState.ENDED,
            AT,
            end_status=EndStatus.ANSWERED,
            duration_seconds=30,
            **out,
        ),
    )
    assert answered.logged_call_id is None  # the rep says how it went
    with db.reading() as session:
        calls = session.execute(select(Call.outcome, Call.user_id, Call.phone_call_id)).all()
        views = phone_calls_of_lead(session, lead_id)
        popped = recent_calls_of(session, phones["ana"].id, since=AT)
    assert calls == [(CallOutcome.NO_ANSWER, phones["ana"].id, logged.phone_call_id)]
    assert [v.id for v in views if v.logged] == [logged.phone_call_id] and len(views) == 3
    assert {v.proposed_outcome for v in popped} == {CallOutcome.BUSY, CallOutcome.NO_ANSWER, None}
    with pytest.raises(ValidationError, match="already logged"):
        db.write(lambda s: log_call(s, lead_id, CallOutcome.NO_ANSWER, actor=phones["ana"].actor,
                                    phone_call_id=logged.phone_call_id, now=AT))  # fmt: skip


def test_every_end_status_proposes_an_outcome_or_leaves_it_to_the_rep():
    assert set(PROPOSED_OUTCOME) == set(EndStatus)
    assert PROPOSED_OUTCOME[EndStatus.BUSY] == CallOutcome.BUSY
    assert PROPOSED_OUTCOME[EndStatus.NO_ANSWER] == CallOutcome.NO_ANSWER


def test_in_a_ring_group_the_call_goes_to_the_rep_who_answered(db, phones):
    _lead(db, "Rita")
    _record(db, _event(PhoneCallState.RINGING, AT, extension="201", remote_number=PHONE))
    _record(db, _event(PhoneCallState.RINGING, AT, extension="202"))
    _record(db, _event(PhoneCallState.ANSWERED, AT + timedelta(seconds=4), extension="202"))
    done = _record(db, _event(PhoneCallState.ENDED, AT + timedelta(seconds=30), extension="201"))
    assert done.user_id == phones["bruno"].id
