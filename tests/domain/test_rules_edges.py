"""The instants the rules engine turns on, one minute (or one microsecond) either side, and
the trail it leaves (issue 26: no test noticed these move)."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from leadms_tui.domain import audit, clock
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import AuditEvent, FollowUp, Meeting, Notification, Rule
from leadms_tui.domain.team.settings import set_setting
from leadms_tui.domain.work.followups import add_followup
from leadms_tui.domain.work.meetings import schedule_meeting
from leadms_tui.domain.work.rules import SweepReport, save_rule, sweep

WED_10 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # London is on GMT: 10:00 local
THU_MIDNIGHT = datetime(2026, 11, 26, 0, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _no_ladder(db):
    """The rules' own notices are counted here; the speed-to-lead ladder (which notifies and
    reassigns untouched leads) is tested in test_response_clock.py."""
    db.write(lambda s: set_setting(s, "response_ladder", "off", actor=SYSTEM))


def _rules_older_than_the_leads(db) -> None:
    db.write(lambda s: s.execute(update(Rule).values(updated_at=WED_10 - timedelta(days=30))))


def _lead(db, team, name="Dora") -> int:
    data = LeadCreate(
        name=name, email=f"{name.lower()}@example.com", channel="website", owner_id=team["ana"].id
    )
    return create_lead(db, data, actor=team["ana"].actor, now=WED_10).lead_id


def _followup(db, lead_id, due_at) -> int:
    followup = db.write(
        lambda s: add_followup(s, lead_id, due_at=due_at, reason="Call", actor=SYSTEM, now=WED_10)
    )
    return followup.id


def _events(db, action):
    with db.reading() as session:
        query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        return session.execute(query).scalars().all()


def test_a_followup_is_missed_once_its_business_day_has_ended(db, team):
    """Due the last microsecond of Wednesday: missed on Thursday. Due at Thursday's first
    instant: still Thursday's work."""
    _rules_older_than_the_leads(db)
    lead_id = _lead(db, team)
    last_of_wed = _followup(db, lead_id, THU_MIDNIGHT - timedelta(microseconds=1))
    first_of_thu = _followup(db, lead_id, THU_MIDNIGHT)
    report = sweep(db, now=THU_MIDNIGHT + timedelta(hours=9))
    assert report.missed_followups == 1
    with db.reading() as session:
        states = dict(session.execute(select(FollowUp.id, FollowUp.state)).all())
    assert (states[last_of_wed], states[first_of_thu]) == ("missed", "open")


def test_the_sweep_leaves_one_event_saying_what_it_marked_missed(db, team):
    _rules_older_than_the_leads(db)
    lead_id = _lead(db, team)
    _followup(db, lead_id, WED_10 + timedelta(hours=1))
    _followup(db, lead_id, WED_10 + timedelta(hours=2))
    at = WED_10 + timedelta(days=1)
    sweep(db, now=at)
    sweep(db, now=at + timedelta(hours=1))  # nothing new: no event
    (event,) = _events(db, "commitments.missed")
    assert (event.actor, event.entity, event.entity_id) == ("sweep", "sweep", at.isoformat())
    assert event.changes == {
        "followups": [None, 2],
        "meetings": [None, 0],
        "onboarding_tasks": [None, 0],
    }


def test_the_idle_rule_fires_one_business_minute_after_its_30(db, team):
    """Taken in 10 minutes before Friday's close: 30 business minutes end Monday 09:20."""
    _rules_older_than_the_leads(db)
    friday_evening = datetime(2026, 11, 27, 17, 50, tzinfo=UTC)
    data = LeadCreate(name="Late", email="late@example.com", channel="website")
    create_lead(db, data, actor=SYSTEM, now=friday_evening)
    monday = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert sweep(db, now=monday + timedelta(minutes=19)).fired == 0
    assert sweep(db, now=monday + timedelta(minutes=20)).fired == 0  # exactly 30: not yet
    assert sweep(db, now=monday + timedelta(minutes=21)).fired == 1


def test_an_overdue_rule_in_clock_hours_waits_its_full_hours(db, team):
    _rules_older_than_the_leads(db)
    lead_id = _lead(db, team)
    save = Rule(
        name="Overdue 2h: tell the owner",
        trigger="followup_overdue",
        trigger_hours=2,
        business_time=False,
        action="notify",
        action_params={"to": "owner", "message": "follow-up overdue"},
    )
    db.write(lambda s: save_rule(s, save, actor=SYSTEM, now=WED_10 - timedelta(days=1)))
    _followup(db, lead_id, WED_10)
    told = []  # after each sweep: the owner's "overdue" notifications
    for after in (
        timedelta(hours=1, minutes=59),
        timedelta(hours=2),
        timedelta(hours=2, minutes=1),
    ):
        sweep(db, now=WED_10 + after)
        with db.reading() as session:
            query = select(Notification.user_id).where(Notification.message.contains("overdue"))
            told.append(session.execute(query).scalars().all())
    ana = team["ana"].id
    assert told == [[], [], [ana]]  # exactly 2 h: not yet


def test_editing_a_rule_changes_it_in_place(db, team):
    rule = db.write(
        lambda s: save_rule(
            s,
            Rule(name="Idle 2h", trigger="no_activity", trigger_hours=2, action="notify",
                 action_params={"to": "managers", "message": "idle"}),
            actor=SYSTEM,
            now=WED_10,
        )
    )  # fmt: skip
    with db.reading() as session:
        stored = session.get(Rule, rule.id)
        edited = Rule(**{**audit.snapshot(stored), "trigger_hours": 3})
    later = WED_10 + timedelta(hours=1)
    again = db.write(lambda s: save_rule(s, edited, actor=SYSTEM, now=later))
    with db.reading() as session:
        rows = session.execute(select(Rule).where(Rule.name == "Idle 2h")).scalars().all()
    assert [(r.id, r.version, r.trigger_hours) for r in rows] == [(rule.id, 2, 3)]
    assert again.id == rule.id
    saves = [e for e in _events(db, "rule.save") if e.entity_id == str(rule.id)]
    assert len(saves) == 2  # the creation and this edit
    assert saves[1].changes["trigger_hours"] == [2, 3]
    assert "version" in saves[1].changes


def test_what_the_sweep_marks_missed_is_versioned_and_audited_one_by_one(db, team):
    _rules_older_than_the_leads(db)
    lead_id = _lead(db, team)
    followup_id = _followup(db, lead_id, WED_10 + timedelta(hours=1))
    meeting, _ = db.write(
        lambda s: schedule_meeting(
            s, lead_id, starts_at=WED_10 + timedelta(hours=2), actor=team["ana"].actor, now=WED_10
        )
    )
    at = WED_10 + timedelta(days=1)
    report = sweep(db, now=at)
    assert (report.missed_followups, report.missed_meetings, report.missed) == (1, 1, 2)
    with db.reading() as session:
        followup = session.get(FollowUp, followup_id)
        stored = session.get(Meeting, meeting.id)
    assert (followup.state, followup.version, clock.as_utc(followup.missed_at)) == ("missed", 2, at)
    assert (stored.version, clock.as_utc(stored.missed_at)) == (meeting.version + 1, at)
    assert [(e.entity, e.entity_id, e.actor) for e in _events(db, "followup.missed")] == [
        ("followup", str(followup_id), "sweep")
    ]
    assert [(e.entity, e.entity_id, e.actor) for e in _events(db, "meeting.missed")] == [
        ("meeting", str(meeting.id), "sweep")
    ]


def test_an_empty_sweep_report_says_nothing_happened():
    assert SweepReport().describe() == (
        "0 rule firing(s); 0 follow-up(s), 0 meeting(s) and 0 onboarding task(s) marked missed; "
        "0 waiting lead(s) assigned; 0 speed-to-lead step(s) fired"
    )
