"""What each rule action does, exactly: who is notified and with what words, whom a lead is
given to, what a status rule closes (issue 26: the rules' actions were tested only in part)."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from leadms_tui.domain import clock
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import (
    AuditEvent,
    CallOutcome,
    FollowUp,
    Lead,
    Notification,
    Rule,
    User,
)
from leadms_tui.domain.team.settings import set_setting
from leadms_tui.domain.work.calls import BY_RULES, log_call, preview_call
from leadms_tui.domain.work.followups import add_followup
from leadms_tui.domain.work.rules import save_rule, sweep

WED_10 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # London is on GMT: 10:00 local
WRONG = CallOutcome.WRONG_NUMBER  # no shipped rule listens for it


@pytest.fixture(autouse=True)
def _no_ladder(db):
    db.write(lambda s: set_setting(s, "response_ladder", "off", actor=SYSTEM))


@pytest.fixture
def lead(db, team):
    data = LeadCreate(name="Dora", email="dora@example.com", channel="website",
                      owner_id=team["ana"].id)  # fmt: skip
    lead_id = create_lead(db, data, actor=team["ana"].actor, now=WED_10).lead_id
    with db.reading() as session:
        return session.get(Lead, lead_id)


def _rule(db, action, params=None, name="Wrong number", outcome=WRONG):
    rule = Rule(name=name, trigger="call_outcome", trigger_values=[outcome.value],
                action=action, action_params=params or {})  # fmt: skip
    return db.write(lambda s: save_rule(s, rule, actor=SYSTEM, now=WED_10)).id


def _call(db, team, lead_id, at=WED_10, who="ana", outcome=WRONG) -> list[str]:
    """Log the call; what the rules said they did."""
    logged = db.write(lambda s: log_call(s, lead_id, outcome, actor=team[who].actor, now=at))
    return logged.rule_effects


def _notes(db):
    with db.reading() as session:
        rows = session.execute(select(Notification).order_by(Notification.id)).scalars()
        return [(n.user_id, n.message) for n in rows]


def _owner(db, lead_id):
    with db.reading() as session:
        return session.get(Lead, lead_id).owner_id


@pytest.mark.parametrize(
    ("params", "who"),
    [
        ({}, "ana"),  # the owner by default
        ({"to": "owner"}, "ana"),
        ({"to": "managers"}, "maria"),
        ({"to": "bruno"}, "bruno"),
    ],
)
def test_a_notice_goes_to_whom_the_rule_says_in_its_words(db, team, lead, params, who):
    _rule(db, "notify", params | {"message": "check the number"})
    assert _call(db, team, lead.id) == [f"notify {params.get('to', 'owner')}"]
    assert _notes(db) == [(team[who].id, f"{lead.number} Dora: check the number")]


def test_a_notice_without_words_says_the_rules_name_and_an_unowned_leads_goes_to_managers(
    db, team, lead
):
    _rule(db, "notify", {"to": "owner"}, name="Wrong number: look")
    db.write(lambda s: setattr(s.get(Lead, lead.id), "owner_id", None))
    db.write(lambda s: log_call(s, lead.id, WRONG, actor=SYSTEM, now=WED_10))  # (no owner)
    assert _notes(db) == [(team["maria"].id, f"{lead.number} Dora: Wrong number: look")]


def test_a_notice_is_cut_to_1000_characters_and_sent_once_to_each(db, team, lead):
    _rule(db, "notify", {"to": "managers", "message": "x" * 1200})
    db.write(lambda s: s.execute(update(User).values(role="manager")))  # three managers
    _call(db, team, lead.id)
    notes = _notes(db)
    assert [user for user, _ in notes] == [team[n].id for n in ("ana", "bruno", "maria")]
    assert {len(message) for _, message in notes} == {1000}


def test_a_notice_to_an_inactive_user_reaches_nobody(db, team, lead):
    _rule(db, "notify", {"to": "bruno"})
    db.write(lambda s: s.execute(update(User).where(User.id == team["bruno"].id)
                                 .values(active=False)))  # fmt: skip
    _call(db, team, lead.id)
    assert _notes(db) == []


def test_reassigning_gives_the_lead_and_says_so_unless_it_is_already_theirs(db, team, lead):
    _rule(db, "reassign", {"to": "bruno"}, name="Give to bruno")
    assert _call(db, team, lead.id) == ["reassigned to bruno"]
    assert _owner(db, lead.id) == team["bruno"].id
    assert _notes(db) == [(team["bruno"].id, f"{lead.number} was assigned to you: Give to bruno")]
    assert _call(db, team, lead.id, WED_10 + timedelta(minutes=5), "bruno") == []  # his
    assert len(_notes(db)) == 1
    with db.reading() as session:
        updates = session.execute(
            select(AuditEvent.actor).where(AuditEvent.action == "lead.update")
            .where(AuditEvent.changes["owner_id"].isnot(None))
        ).scalars().all()  # fmt: skip
    assert updates.count(f"rule:{_rule_id(db, 'Give to bruno')}") == 1


def _rule_id(db, name):
    with db.reading() as session:
        return session.execute(select(Rule.id).where(Rule.name == name)).scalar_one()


def test_reassigning_to_an_inactive_user_leaves_the_lead(db, team, lead):
    _rule(db, "reassign", {"to": "bruno"})
    db.write(lambda s: s.execute(update(User).where(User.id == team["bruno"].id)
                                 .values(active=False)))  # fmt: skip
    _call(db, team, lead.id)
    assert (_owner(db, lead.id), _notes(db)) == (team["ana"].id, [])


def test_escalating_without_a_manager_leaves_the_lead(db, team, lead):
    _rule(db, "escalate")
    db.write(lambda s: s.execute(update(User).where(User.role == "manager").values(role="admin")))
    assert _call(db, team, lead.id) == []
    assert (_owner(db, lead.id), _notes(db)) == (team["ana"].id, [])


def test_escalating_gives_the_lead_to_the_first_manager_and_tells_each(db, team, lead):
    _rule(db, "escalate", name="Wrong number: escalate")
    db.write(lambda s: s.execute(update(User).where(User.id == team["bruno"].id)
                                 .values(role="manager")))  # fmt: skip
    assert _call(db, team, lead.id) == ["escalated to a manager"]
    assert _owner(db, lead.id) == team["bruno"].id  # the lowest id
    message = f"Escalated {lead.number}: Wrong number: escalate"
    assert _notes(db) == [(team["bruno"].id, message), (team["maria"].id, message)]


def test_a_lost_rule_closes_the_leads_open_followups(db, team, lead):
    db.write(lambda s: s.execute(update(Rule).values(enabled=False)))  # the shipped ones
    idle = Rule(name="Idle: lost", trigger="no_activity", trigger_hours=1, action="set_status",
                action_params={"status": "lost", "lost_reason": "went quiet"})  # fmt: skip
    db.write(lambda s: save_rule(s, idle, actor=SYSTEM, now=WED_10 - timedelta(days=1)))
    followup_id = db.write(
        lambda s: add_followup(
            s, lead.id, due_at=WED_10 + timedelta(days=1), reason="Call", actor=SYSTEM, now=WED_10
        )
    ).id
    at = WED_10 + timedelta(hours=2)
    assert sweep(db, now=at).fired == 1
    with db.reading() as session:
        stored = session.get(Lead, lead.id)
        followup = session.get(FollowUp, followup_id)
        skip = session.execute(
            select(AuditEvent).where(AuditEvent.action == "followup.skip")
        ).scalar_one()
    assert (stored.status, stored.lost_reason) == ("lost", "went quiet")
    assert (followup.state, followup.version) == ("skipped", 2)
    assert clock.as_utc(followup.completed_at) == at
    assert (skip.entity, skip.entity_id, skip.changes) == (
        "followup",
        str(followup_id),
        {"state": [None, "skipped"]},
    )


def test_a_status_rule_keeps_a_status_the_lead_has_and_a_lost_reason_only_for_lost(db, team, lead):
    chat = CallOutcome.CHAT  # new → contacted, closes nothing
    _rule(db, "set_status", {"status": "contacted", "lost_reason": "x"}, "Chat", chat)
    _call(db, team, lead.id, outcome=chat)
    with db.reading() as session:
        events = session.execute(
            select(AuditEvent.actor).where(AuditEvent.action == "lead.update")
        ).scalars().all()  # fmt: skip
    assert events == ["ana"]  # the call's own change; the rule found the status there
    db.write(lambda s: s.execute(update(Rule).where(Rule.name == "Chat")
                                 .values(action_params={"status": "qualified",
                                                        "lost_reason": "x"})))  # fmt: skip
    _call(db, team, lead.id, WED_10 + timedelta(minutes=5), outcome=chat)
    with db.reading() as session:
        stored = session.get(Lead, lead.id)
    assert (stored.status, stored.lost_reason) == ("qualified", None)


def test_a_call_preview_says_what_each_rule_would_do_and_the_call_does_it(db, team, lead):
    db.write(lambda s: s.execute(update(Rule).values(enabled=False)))  # the shipped ones
    busy = CallOutcome.BUSY
    _rule(db, "create_followup", {"after_minutes": 30, "reason": "Try again"}, "First", busy)
    _rule(db, "create_followup", {"after_business_hours": 1}, "Second", busy)
    _rule(db, "set_status", {"status": "lost", "lost_reason": "gone"}, "Third", busy)
    _rule(db, "notify", {"to": "managers"}, "Fourth", busy)
    with db.reading() as session:
        preview = preview_call(session, lead.id, busy, now=WED_10)
    assert preview.followup_due == WED_10 + timedelta(minutes=30)  # the first rule's only
    assert preview.descriptions == [
        "follow-up: Try again",
        "status → lost (gone)",
        "when a call is busy: notify managers",
    ]
    logged = db.write(lambda s: log_call(s, lead.id, busy, actor=team["ana"].actor, now=WED_10))
    assert logged.followup_due == WED_10 + timedelta(hours=1)  # the last one booked
    assert logged.rule_effects == [
        "follow-up: Try again",
        "follow-up: Second",
        "status → lost",
        "notify managers",
    ]
    with db.reading() as session:
        followups = session.execute(select(FollowUp).order_by(FollowUp.id)).scalars().all()
    assert [(clock.as_utc(f.due_at), f.reason, f.state) for f in followups] == [
        (WED_10 + timedelta(minutes=30), "Try again", "skipped"),  # the lost lead's: closed
        (WED_10 + timedelta(hours=1), "Second", "skipped"),
    ]


def test_a_rule_booking_at_the_picked_time_falls_back_to_its_delay(db, team, lead):
    db.write(lambda s: s.execute(update(Rule).values(enabled=False)))
    _rule(db, "create_followup", {"at_picked_time": True, "after_business_days": 1, "at": "16:00"},
          "Callback", CallOutcome.CALLBACK_REQUESTED)  # fmt: skip
    picked = WED_10 + timedelta(days=2, hours=3)
    for when, due in ((picked, picked), (BY_RULES, datetime(2026, 11, 26, 16, 0, tzinfo=UTC))):
        logged = db.write(
            lambda s, when=when: log_call(
                s,
                lead.id,
                CallOutcome.CALLBACK_REQUESTED,
                actor=team["ana"].actor,
                next_followup_at=when,
                now=WED_10,
            )
        )
        assert logged.followup_due == due
