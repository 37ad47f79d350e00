"""Which leads a rule acts on (its conditions, on events and on sweeps), what a preview and a
sweep report say, and switching a rule on and off (issue 26: these were untested)."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select, update

from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.errors import NotFoundError, PermissionDeniedError
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import AuditEvent, Call, CallOutcome, Lead, Notification, Rule
from leadms_tui.domain.team.settings import set_setting
from leadms_tui.domain.work.calls import log_call, preview_call
from leadms_tui.domain.work.followups import add_followup
from leadms_tui.domain.work.rules import (
    SweepReport,
    list_rules,
    preview_rule,
    rule_as_json,
    save_rule,
    set_rule_enabled,
    sweep,
)

WED_10 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # London is on GMT: 10:00 local


@pytest.fixture(autouse=True)
def _only_our_rules(db):
    """No shipped rule and no speed-to-lead ladder: only the rules a test adds act."""
    db.write(lambda s: set_setting(s, "response_ladder", "off", actor=SYSTEM))
    db.write(lambda s: s.execute(update(Rule).values(enabled=False)))


def _lead(db, team, name, channel="website", owner="ana", at=WED_10) -> Lead:
    data = LeadCreate(name=name, email=f"{name.lower()}@example.com", channel=channel,
                      owner_id=team[owner].id if owner else None)  # fmt: skip
    lead_id = create_lead(db, data, actor=SYSTEM, now=at).lead_id
    with db.reading() as session:
        return session.get(Lead, lead_id)


def _add(db, now=WED_10 - timedelta(days=1), **fields) -> Rule:
    fields = {"name": "r", "action": "notify", "action_params": {"to": "managers"}} | fields
    return db.write(lambda s: save_rule(s, Rule(**fields), actor=SYSTEM, now=now))


def _told(db) -> list[str]:
    """The leads' names in the managers' notices, in order."""
    with db.reading() as session:
        messages = session.execute(select(Notification.message).order_by(Notification.id))
        return [message.split(" ")[1].rstrip(":") for message in messages.scalars()]


def test_an_event_rule_acts_only_on_its_channels_statuses_and_owners(db, team):
    _add(db, trigger="lead_created", conditions={"channels": ["email", "meta_ads"]})
    _add(db, trigger="lead_created", conditions={"owner_roles": ["manager"]})
    _lead(db, team, "Web")
    _lead(db, team, "Mail", channel="email")
    _lead(db, team, "Boss", owner="maria")
    _lead(db, team, "Nobody", owner=None)
    assert _told(db) == ["Mail", "Boss"]
    _add(db, trigger="call_outcome", trigger_values=["chat"],
         conditions={"statuses": ["qualified"]})  # fmt: skip
    lead = _lead(db, team, "Chatty")
    told = []
    for minutes in (0, 1):  # new → contacted: no match; then qualified by hand: a match
        at = WED_10 + timedelta(minutes=minutes)
        db.write(lambda s, at=at: log_call(s, lead.id, CallOutcome.CHAT, actor=SYSTEM, now=at))
        db.write(lambda s: s.execute(update(Lead).values(status="qualified")))
        told.append(_told(db))
    assert told == [["Mail", "Boss"], ["Mail", "Boss", "Chatty"]]


def test_unanswered_tries_bound_a_rule_at_both_ends_and_a_preview_counts_the_call(db, team):
    _add(db, trigger="call_outcome", trigger_values=["busy"],
         conditions={"min_attempts": 2, "max_attempts": 3})  # fmt: skip
    lead = _lead(db, team, "Dora")
    told = []
    for tries in range(1, 5):
        at = WED_10 + timedelta(minutes=tries)
        with db.reading() as session:
            preview = preview_call(session, lead.id, CallOutcome.BUSY, now=at)
        db.write(lambda s, at=at: log_call(s, lead.id, CallOutcome.BUSY, actor=SYSTEM,
                                           next_followup_at=None, now=at))  # fmt: skip
        told.append((tries, len(_told(db)), preview.descriptions))
    assert told == [
        (1, 0, []),
        (2, 1, ["when a call is busy (unanswered tries 2-3): notify managers"]),
        (3, 2, ["when a call is busy (unanswered tries 2-3): notify managers"]),
        (4, 2, []),
    ]


def test_a_sweep_acts_only_on_its_statuses_and_channels_since_the_rule_changed(db, team):
    _add(db, trigger="no_activity", trigger_hours=1,
         conditions={"statuses": ["new"], "channels": ["email"]})  # fmt: skip
    _lead(db, team, "Web")
    _lead(db, team, "Mail", channel="email")
    contacted = _lead(db, team, "Old", channel="email")
    db.write(lambda s: s.execute(update(Lead).where(Lead.id == contacted.id)
                                 .values(status="contacted")))  # fmt: skip
    made = WED_10 - timedelta(days=1)  # the rule's last change: it looks back its 1 hour
    _lead(db, team, "Ancient", channel="email", at=made - timedelta(hours=1, minutes=1))
    _lead(db, team, "Recent", channel="email", at=made - timedelta(minutes=59))
    assert sweep(db, now=WED_10 + timedelta(hours=2)).fired == 2
    assert sorted(_told(db)) == ["Mail", "Recent"]


def test_an_overdue_rule_acts_on_missed_followups_too_once_each(db, team):
    _add(db, trigger="followup_overdue", trigger_hours=1, now=WED_10 - timedelta(days=3))
    lead = _lead(db, team, "Dora", at=WED_10 - timedelta(days=2))
    for due in (WED_10 - timedelta(days=1), WED_10):
        made = due - timedelta(hours=1)
        db.write(
            lambda s, due=due, made=made: add_followup(
                s, lead.id, due_at=due, reason="Call", actor=SYSTEM, now=made
            )
        )
    report = sweep(db, now=WED_10 + timedelta(hours=2))  # marks the first missed, fires both
    assert (report.missed_followups, report.fired) == (1, 2)
    assert sweep(db, now=WED_10 + timedelta(hours=3)).fired == 0


def test_a_sweep_report_says_what_it_did():
    report = SweepReport(fired=1, missed_followups=2, missed_meetings=3, missed_tasks=4,
                         assigned=5, ladder=6)  # fmt: skip
    assert report.missed == 9
    assert report.describe() == (
        "1 rule firing(s); 2 follow-up(s), 3 meeting(s) and 4 onboarding task(s) marked missed; "
        "5 waiting lead(s) assigned; 6 speed-to-lead step(s) fired"
    )


def test_a_preview_names_the_leads_a_time_rule_would_act_on(db, team):
    idle = _add(db, trigger="no_activity", trigger_hours=1)
    event = _add(db, trigger="lead_created", conditions={"always": True})
    first, second = _lead(db, team, "One"), _lead(db, team, "Two")
    with db.reading() as session:
        before = preview_rule(session, idle, now=WED_10 + timedelta(minutes=59))
        after = preview_rule(session, idle, now=WED_10 + timedelta(hours=2))
        on_event = preview_rule(session, event, now=WED_10)
    assert before == [
        "when an open lead is untouched for 1 hours: notify managers",
        "due now for 0 subject(s)",
    ]
    assert after[1] == f"due now for 2 subject(s): {first.number}, {second.number}"
    assert on_event == [
        "when a lead arrives (any): notify managers",
        "runs when the event happens, in the same transaction",
    ]


def test_rules_are_listed_in_order_shown_as_json_and_switched_in_place(db, team):
    second = _add(db, name="Second", position=102, trigger="no_activity", trigger_hours=1)
    first = _add(db, name="First", position=101, trigger="no_activity", trigger_hours=2)
    with db.reading() as session:
        names = [rule.name for rule in list_rules(session=session)]
        shown = rule_as_json(session.get(Rule, first.id))
    assert names[-2:] == ["First", "Second"]  # by position, not by id
    assert shown["description"] == "when an open lead is untouched for 2 hours: notify managers"
    assert (shown["id"], shown["trigger"], shown["enabled"]) == (first.id, "no_activity", True)
    later = WED_10 + timedelta(hours=1)
    off = db.write(lambda s: set_rule_enabled(s, second.id, False, actor=SYSTEM, now=later))
    assert (off.id, off.enabled, off.version, off.name) == (second.id, False, 2, "Second")
    with db.reading() as session:
        (event,) = session.execute(
            select(AuditEvent).where(AuditEvent.action == "rule.save",
                                     AuditEvent.entity_id == str(second.id))
            .order_by(AuditEvent.id.desc()).limit(1)
        ).scalars()  # fmt: skip
    assert event.changes["enabled"] == [True, False]
    with pytest.raises(NotFoundError) as missing:
        db.write(lambda s: set_rule_enabled(s, 999, True, actor=SYSTEM))
    assert str(missing.value) == "no rule 999"


def test_only_an_admin_changes_rules(db, team):
    rule = Rule(name="r", trigger="no_activity", trigger_hours=1, action="notify")
    with pytest.raises(PermissionDeniedError) as refused:
        db.write(lambda s: save_rule(s, rule, actor=team["maria"].actor))
    assert str(refused.value) == "only an admin can change rules"


def test_tries_unbounded_on_one_side_are_unbounded(db, team):
    """Only a most: a lead with no unanswered call yet matches. Only a least: a lead with a
    hundred unanswered calls still matches."""
    _add(db, trigger="lead_created", conditions={"max_attempts": 3})
    _lead(db, team, "Fresh")
    assert _told(db) == ["Fresh"]
    _add(db, trigger="call_outcome", trigger_values=["busy"], conditions={"min_attempts": 1})
    lead = _lead(db, team, "Stubborn")
    earlier = [
        {"lead_id": lead.id, "outcome": "busy", "called_at": WED_10, "created_at": WED_10}
    ] * 100
    db.write(lambda s: s.execute(insert(Call), earlier))
    db.write(lambda s: log_call(s, lead.id, CallOutcome.BUSY, actor=SYSTEM,
                                next_followup_at=None, now=WED_10))  # fmt: skip
    assert _told(db) == ["Fresh", "Stubborn", "Stubborn"]  # arriving, then the 101st call


def test_each_idle_lead_fires_its_own_spell_whatever_others_fired(db, team):
    """Both leads are at version 1: the first's firing ("idle:v1") must not hide the second's."""
    _add(db, trigger="no_activity", trigger_hours=1)
    _lead(db, team, "First")
    assert sweep(db, now=WED_10 + timedelta(hours=2)).fired == 1
    _lead(db, team, "Second", at=WED_10 + timedelta(hours=3))
    assert sweep(db, now=WED_10 + timedelta(hours=5)).fired == 1
    assert _told(db) == ["First", "Second"]
