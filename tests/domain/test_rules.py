"""The rules engine: default rules, each trigger and action, sweeps, exactly-once firing."""

import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context

import pytest
from sqlalchemy import func, select, update

from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.errors import PermissionDeniedError, ValidationError
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import (
    CallOutcome,
    FollowUp,
    Lead,
    MeetingOutcome,
    Notification,
    Rule,
    RuleFiring,
)
from leadms_tui.domain.queries.commitments import missed_commitments
from leadms_tui.domain.team.settings import set_setting
from leadms_tui.domain.work.calls import log_call, preview_call
from leadms_tui.domain.work.followups import add_followup, change_followup
from leadms_tui.domain.work.meetings import record_outcome, schedule_meeting
from leadms_tui.domain.work.rules import describe_rule, preview_rule, save_rule, sweep
from tests.workers_rules import run_sweeps

WED_10 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # London is on GMT: 10:00 local


@pytest.fixture(autouse=True)
def _no_ladder(request):
    """These tests count the rules' own notices and idle spells; the speed-to-lead ladder
    (which notifies and reassigns untouched leads) is tested in test_response_clock.py."""
    if "db" in request.fixturenames:
        request.getfixturevalue("db").write(
            lambda s: set_setting(s, "response_ladder", "off", actor=SYSTEM)
        )


@pytest.fixture
def lead_id(db, team):
    db.write(lambda s: s.execute(update(Rule).values(updated_at=WED_10 - timedelta(days=30))))
    data = LeadCreate(
        name="Dora", phone="+447700900111", channel="website", owner_id=team["ana"].id
    )
    return create_lead(db, data, actor=team["ana"].actor, now=WED_10).lead_id


def _open_followups(db, lead_id):
    with db.reading() as session:
        return (
            session.execute(
                select(FollowUp).where(FollowUp.lead_id == lead_id, FollowUp.state == "open")
            )
            .scalars()
            .all()
        )


def _add_rule(db, *, actor=SYSTEM, now=WED_10, **fields):
    db.write(lambda s: save_rule(s, Rule(**fields), actor=actor, now=now))


def _count(db, model, *where):
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def test_default_rules_retry_schedule_then_lost_after_five(db, team, lead_id):
    ana = team["ana"].actor
    schedule = []
    moment = WED_10
    for _ in range(4):
        logged = db.write(
            lambda s, m=moment: log_call(s, lead_id, CallOutcome.NO_ANSWER, actor=ana, now=m)
        )
        (followup,) = _open_followups(db, lead_id)
        schedule.append(followup.due_at)
        moment = followup.due_at
    assert schedule == [
        datetime(2026, 11, 25, 14, 0, tzinfo=UTC),  # +4 business hours
        datetime(2026, 11, 25, 18, 0, tzinfo=UTC),  # +4, up to closing
        datetime(2026, 11, 26, 13, 0, tzinfo=UTC),  # +4 from Thursday's opening
        datetime(2026, 11, 27, 10, 0, tzinfo=UTC),  # after 3 tries: next business day 10:00
    ]
    logged = db.write(
        lambda s: log_call(s, lead_id, CallOutcome.NO_ANSWER, actor=ana, now=schedule[-1])
    )
    assert logged.status == "lost" and logged.followup_due is None
    with db.reading() as session:
        lead = session.get(Lead, lead_id)
    assert (lead.status, lead.lost_reason) == ("lost", "unreachable")
    assert _open_followups(db, lead_id) == []


def test_the_call_modal_preview_matches_what_the_rules_do(db, team, lead_id):
    with db.reading() as session:
        effects = preview_call(session, lead_id, CallOutcome.BUSY, now=WED_10)
    assert effects.followup_due == datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
    logged = db.write(
        lambda s: log_call(s, lead_id, CallOutcome.BUSY, actor=team["ana"].actor, now=WED_10)
    )
    assert logged.followup_due == effects.followup_due


def test_callback_at_the_picked_time_and_interested_next_business_day(db, team, lead_id):
    picked = datetime(2026, 11, 27, 16, 30, tzinfo=UTC)
    db.write(
        lambda s: log_call(
            s,
            lead_id,
            CallOutcome.CALLBACK_REQUESTED,
            actor=team["ana"].actor,
            next_followup_at=picked,
            now=WED_10,
        )
    )
    assert [f.due_at for f in _open_followups(db, lead_id)] == [picked]
    db.write(
        lambda s: log_call(
            s,
            lead_id,
            CallOutcome.INTERESTED,
            actor=team["ana"].actor,
            now=datetime(2026, 11, 27, 16, 30, tzinfo=UTC),
        )
    )  # a Friday
    (followup,) = _open_followups(db, lead_id)
    assert followup.due_at == datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # Monday 10:00
    assert followup.reason == "Book a meeting or demo"


def test_next_business_day_skips_the_regions_bank_holidays(db, team, lead_id):
    """Christmas Eve, interested: not Christmas Day, nor the weekend, nor Boxing Day observed
    on Monday 28th (England), but Tuesday; hand-added dates close on top."""
    christmas_eve = datetime(2026, 12, 24, 16, 30, tzinfo=UTC)

    def interested(at):
        db.write(
            lambda s: log_call(s, lead_id, CallOutcome.INTERESTED, actor=team["ana"].actor, now=at)
        )
        (followup,) = _open_followups(db, lead_id)
        return followup.due_at

    assert interested(christmas_eve) == datetime(2026, 12, 25, 10, 0, tzinfo=UTC)
    db.write(lambda s: set_setting(s, "holiday_region", "GB-ENG", actor=SYSTEM))
    assert interested(christmas_eve) == datetime(2026, 12, 29, 10, 0, tzinfo=UTC)
    db.write(lambda s: set_setting(s, "holidays", "2026-12-29", actor=SYSTEM))
    assert interested(christmas_eve) == datetime(2026, 12, 30, 10, 0, tzinfo=UTC)


def test_untouched_new_lead_notifies_managers_once_per_idle_spell(db, team, lead_id):
    assert sweep(db, now=WED_10 + timedelta(minutes=20)).fired == 0
    assert sweep(db, now=WED_10 + timedelta(minutes=31)).fired == 1
    assert sweep(db, now=WED_10 + timedelta(minutes=45)).fired == 0
    with db.reading() as session:
        (note,) = session.execute(select(Notification)).scalars().all()
    assert note.user_id == team["maria"].id and "untouched" in note.message


def test_business_time_counts_for_the_idle_rule(db, team):
    db.write(lambda s: s.execute(update(Rule).values(updated_at=WED_10 - timedelta(days=30))))
    friday_evening = datetime(2026, 11, 27, 17, 50, tzinfo=UTC)
    create_lead(
        db,
        LeadCreate(name="Late", email="late@example.com", channel="website"),
        actor=SYSTEM,
        now=friday_evening,
    )
    assert sweep(db, now=datetime(2026, 11, 30, 9, 15, tzinfo=UTC)).fired == 0  # 25 min
    assert sweep(db, now=datetime(2026, 11, 30, 9, 21, tzinfo=UTC)).fired == 1  # 31 min


def test_overdue_followup_rule_and_lead_created_rule(db, team, lead_id):
    _add_rule(
        db,
        name="Overdue 2h: tell the owner",
        trigger="followup_overdue",
        trigger_hours=2,
        action="notify",
        action_params={"to": "owner", "message": "follow-up overdue"},
        now=WED_10 - timedelta(days=1),
    )
    _add_rule(
        db,
        name="Meta leads go to bruno",
        trigger="lead_created",
        trigger_values=["meta_ads"],
        action="reassign",
        action_params={"to": "bruno"},
    )
    db.write(lambda s: add_followup(s, lead_id, due_at=WED_10, reason="Call", actor=SYSTEM))
    to_ana = Notification.user_id == team["ana"].id
    sweep(db, now=WED_10 + timedelta(hours=1))
    assert _count(db, Notification, to_ana) == 0
    sweep(db, now=WED_10 + timedelta(hours=2, minutes=1))
    sweep(db, now=WED_10 + timedelta(hours=3))
    assert _count(db, Notification, to_ana) == 1
    meta = create_lead(
        db,
        LeadCreate(name="Ad", email="ad@example.com", channel="meta_ads"),
        actor=SYSTEM,
        now=WED_10,
    )
    with db.reading() as session:
        assert session.get(Lead, meta.lead_id).owner_id == team["bruno"].id


def test_meeting_clash_warning_and_outcome_rule(db, team, lead_id):
    ana = team["ana"].actor
    start = WED_10 + timedelta(days=1)
    _, clashes = db.write(lambda s: schedule_meeting(s, lead_id, starts_at=start, actor=ana))
    assert clashes == []
    other = create_lead(
        db,
        LeadCreate(name="Eve", email="eve@example.com", channel="phone", owner_id=team["ana"].id),
        actor=ana,
        now=WED_10,
    ).lead_id
    meeting, clashes = db.write(
        lambda s: schedule_meeting(
            s, other, starts_at=start + timedelta(minutes=15), duration_minutes=60, actor=ana
        )
    )
    assert len(clashes) == 1
    with db.reading() as session:
        assert session.get(Lead, other).status == "meeting_scheduled"
    _add_rule(
        db,
        name="No-show: try again tomorrow",
        trigger="meeting_outcome",
        trigger_values=["no_show"],
        action="create_followup",
        action_params={
            "after_business_days": 1,
            "at": "11:00",
            "reason": "Rebook after no-show",
        },
    )
    db.write(
        lambda s: record_outcome(
            s, meeting.id, MeetingOutcome.NO_SHOW, actor=ana, now=start + timedelta(hours=2)
        )
    )
    (followup,) = _open_followups(db, other)
    assert followup.reason == "Rebook after no-show"


def test_missed_followups_and_meetings_are_counted_per_rep_and_day(db, team, lead_id):
    ana = team["ana"].actor
    db.write(lambda s: add_followup(s, lead_id, due_at=WED_10, reason="Call", actor=ana))
    db.write(
        lambda s: schedule_meeting(s, lead_id, starts_at=WED_10 + timedelta(hours=3), actor=ana)
    )
    assert sweep(db, now=WED_10 + timedelta(hours=8)).missed_followups == 0  # same day
    report = sweep(db, now=WED_10 + timedelta(days=1))
    assert (report.missed_followups, report.missed_meetings) == (1, 1)
    with db.reading() as session:
        counts = missed_commitments(
            session=session,
            timezone="Europe/London",
            date_from=WED_10.date(),
            date_to=WED_10.date(),
        )
    assert counts == {("ana", WED_10.date()): 2}
    assert sweep(db, now=WED_10 + timedelta(days=1)).missed_followups == 0  # once only
    db.write(
        lambda s: log_call(
            s, lead_id, CallOutcome.INTERESTED, actor=ana, now=WED_10 + timedelta(days=1)
        )
    )
    with db.reading() as session:
        states = (
            session.execute(select(FollowUp.state).where(FollowUp.lead_id == lead_id))
            .scalars()
            .all()
        )
    assert "missed" not in states  # the call answered it


def test_a_reassigned_missed_followup_reopens_for_the_new_rep_and_stays_missed_for_the_old(
    db, team, lead_id
):
    ana, maria = team["ana"].actor, team["maria"].actor
    followup = db.write(lambda s: add_followup(s, lead_id, due_at=WED_10, reason="Call", actor=ana))
    sweep(db, now=WED_10 + timedelta(days=1))
    thursday = WED_10 + timedelta(days=1, hours=2)
    successor = db.write(
        lambda s: change_followup(
            s, followup.id, actor=maria, owner_username="bruno", due_at=thursday, now=thursday
        )
    )
    with db.reading() as session:
        rows = {f.id: f for f in session.execute(select(FollowUp)).scalars()}
        counts = missed_commitments(
            session=session, timezone="Europe/London", date_from=WED_10.date(),
            date_to=thursday.date(),
        )  # fmt: skip
    assert counts == {("ana", WED_10.date()): 1}  # the miss stays ana's, on Wednesday
    assert rows[followup.id].state == "skipped" and rows[followup.id].missed_at is not None
    new = rows[successor.id]
    assert (new.state, new.owner_id, new.due_at) == ("open", team["bruno"].id, thursday)


def test_rule_validation_permissions_description_and_preview(db, team, lead_id):
    bad = Rule(name="x", trigger="no_activity", action="notify")
    with pytest.raises(ValidationError, match="hours above 0"):
        db.write(lambda s: save_rule(s, bad, actor=SYSTEM))
    lost = Rule(
        name="x", trigger="call_outcome", action="set_status", action_params={"status": "lost"}
    )
    with pytest.raises(ValidationError, match="lost reason"):
        db.write(lambda s: save_rule(s, lost, actor=SYSTEM))
    with pytest.raises(PermissionDeniedError):
        db.write(
            lambda s: save_rule(
                s,
                Rule(name="y", trigger="call_outcome", action="notify"),
                actor=team["maria"].actor,
            )
        )
    with db.reading() as session:
        rules = session.execute(select(Rule).order_by(Rule.position)).scalars().all()
        lines = preview_rule(session, rules[4], now=WED_10 + timedelta(hours=1))
    assert describe_rule(rules[0]) == (
        "when a call is no answer/busy/voicemail (unanswered tries 1-3): "
        "follow-up in 4 business hours"
    )
    assert "due now for 1 subject(s)" in lines[1]


@pytest.mark.slow
def test_concurrent_sweepers_fire_each_occurrence_exactly_once(db_url, db, team):
    db.write(lambda s: s.execute(update(Rule).values(updated_at=WED_10 - timedelta(days=30))))
    for i in range(40):
        create_lead(
            db,
            LeadCreate(name=f"Idle {i}", email=f"idle{i}@example.com", channel="website"),
            actor=SYSTEM,
            now=WED_10,
        )
    processes = 4 if db_url.startswith("postgresql") else 2
    start_at = time.monotonic() + 2.0
    with ProcessPoolExecutor(processes, mp_context=get_context("spawn")) as pool:
        futures = [
            pool.submit(run_sweeps, db_url, (WED_10 + timedelta(hours=2)).isoformat(), start_at, 3)
            for _ in range(processes)
        ]
        fired = sum(future.result(timeout=300) for future in futures)
    assert fired == 40
    assert _count(db, Notification) == 40
    assert _count(db, RuleFiring) == 40


def test_escalate_to_a_manager_and_notify_a_user(db, team, lead_id):
    _add_rule(
        db,
        name="Wrong number: escalate",
        trigger="call_outcome",
        trigger_values=["wrong_number"],
        action="escalate",
    )
    _add_rule(
        db,
        name="Tell bruno about wrong numbers",
        trigger="call_outcome",
        trigger_values=["wrong_number"],
        action="notify",
        action_params={"to": "bruno", "message": "check the number"},
    )
    db.write(
        lambda s: log_call(
            s, lead_id, CallOutcome.WRONG_NUMBER, actor=team["ana"].actor, now=WED_10
        )
    )
    with db.reading() as session:
        lead = session.get(Lead, lead_id)
        notes = {n.user_id: n.message for n in session.execute(select(Notification)).scalars()}
    assert lead.owner_id == team["maria"].id
    assert "Escalated" in notes[team["maria"].id] and "check the number" in notes[team["bruno"].id]


def test_booking_the_meeting_closes_the_book_a_meeting_followup(db, team, lead_id):
    ana = team["ana"].actor
    db.write(lambda s: log_call(s, lead_id, CallOutcome.INTERESTED, actor=ana, now=WED_10))
    (followup,) = _open_followups(db, lead_id)
    assert "meeting" in followup.reason.lower()
    db.write(
        lambda s: schedule_meeting(s, lead_id, starts_at=WED_10 + timedelta(days=2), actor=ana)
    )
    assert _open_followups(db, lead_id) == []


def test_a_rule_with_only_a_name_needs_an_explicit_always(db, team):
    bare = Rule(name="Every call", trigger="call_outcome", action="notify")
    with pytest.raises(ValidationError, match="act on every event"):
        db.write(lambda s: save_rule(s, bare, actor=SYSTEM))
    always = Rule(name="Every call", trigger="call_outcome", action="notify",
                  conditions={"always": True})  # fmt: skip
    assert db.write(lambda s: save_rule(s, always, actor=SYSTEM)).id is not None
