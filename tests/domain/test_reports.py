"""The coaching report against independent counts over hand-made data: calls across local
midnight, a DST change, a rep with no calls, response times across a weekend."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from leadms_tui.domain import clock
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import (
    Call,
    CallOutcome,
    FollowUp,
    FollowUpState,
    Lead,
    LeadStatus,
    Meeting,
    MeetingOutcome,
    Role,
)
from leadms_tui.domain.reports.coaching import (
    TEAM,
    Period,
    coaching_report,
    daily_calls,
    percentile,
    weekly_missed,
)
from leadms_tui.domain.team.settings import set_setting
from leadms_tui.domain.team.users import add_user

NY = "America/New_York"  # UTC-5 in November; DST ends Sun 1 Nov 2026


@pytest.fixture
def team(db):
    def seed(s):
        set_setting(s, "timezone", NY, actor=SYSTEM)
        set_setting(s, "response_target_minutes", "15", actor=SYSTEM)
        return {
            n: add_user(s, n, role=Role.REP, actor=SYSTEM, password="secret")
            for n in ("ana", "bruno", "quiet")
        }

    return db.write(seed)


def _lead(db, n, owner, at):
    data = LeadCreate(name=f"L{n}", phone=f"+1202555{n:04d}", channel="website", owner_id=owner)
    return create_lead(db, data, actor=SYSTEM, now=at).lead_id


def _call(db, lead_id, user, at, outcome=CallOutcome.NO_ANSWER):
    db.write(lambda s: s.add(Call(lead_id=lead_id, user_id=user, outcome=outcome, called_at=at)))


def _by_rep(db, start, end):
    with db.reading() as s:
        return {r.rep: r for r in coaching_report(s, Period(start, end))}


def test_calls_count_on_their_local_day_across_midnight_and_dst(db, team):
    ana = team["ana"].id
    lead = _lead(db, 1, ana, datetime(2026, 10, 30, 15, tzinfo=UTC))
    # 23:30 New York on Tue 24 Nov is 04:30 UTC on the 25th: it belongs to the 24th
    _call(db, lead, ana, datetime(2026, 11, 25, 4, 30, tzinfo=UTC))
    _call(db, lead, ana, datetime(2026, 11, 25, 5, 30, tzinfo=UTC), CallOutcome.INTERESTED)
    # 00:30 EDT on Sun 1 Nov (UTC-4) is 04:30 UTC;
    # 23:30 EST that same day (UTC-5) is 04:30 UTC on the 2nd
    _call(db, lead, ana, datetime(2026, 11, 1, 4, 30, tzinfo=UTC))
    _call(db, lead, ana, datetime(2026, 11, 2, 4, 30, tzinfo=UTC))
    with db.reading() as s:
        days = daily_calls(s, Period(date(2026, 10, 31), date(2026, 11, 30)))
    assert days == [
        (date(2026, 11, 1), "no_answer", 2),
        (date(2026, 11, 24), "no_answer", 1),
        (date(2026, 11, 25), "interested", 1),
    ]
    reports = _by_rep(db, date(2026, 11, 24), date(2026, 11, 24))
    assert reports["ana"].calls == 1 and reports["ana"].outcomes == {"no_answer": 1}
    assert reports["quiet"].calls == 0 and reports["quiet"].connect_rate is None
    week = _by_rep(db, date(2026, 11, 23), date(2026, 11, 29))
    assert week["ana"].calls == 2 and week["ana"].connect_rate == 0.5
    assert week[TEAM].calls == 2


def test_first_response_in_business_minutes_across_a_weekend(db, team):
    ana, bruno = team["ana"].id, team["bruno"].id
    friday_late = datetime(2026, 11, 27, 22, 50, tzinfo=UTC)  # Fri 17:50 NY: 10 open minutes left
    monday_early = datetime(2026, 11, 30, 14, 5, tzinfo=UTC)  # Mon 09:05 NY
    slow = _lead(db, 1, ana, friday_late)
    _call(db, slow, ana, monday_early)  # 10 + 5 = 15 business minutes: in time
    quick = _lead(db, 2, ana, datetime(2026, 11, 30, 15, 0, tzinfo=UTC))
    _call(db, quick, ana, datetime(2026, 11, 30, 15, 3, tzinfo=UTC))  # 3 minutes
    late = _lead(db, 3, ana, datetime(2026, 11, 30, 15, 0, tzinfo=UTC))
    _call(db, late, ana, datetime(2026, 11, 30, 16, 0, tzinfo=UTC))  # 60 minutes
    _lead(db, 4, bruno, datetime(2026, 11, 30, 15, 0, tzinfo=UTC))  # never called
    reports = _by_rep(db, date(2026, 11, 27), date(2026, 11, 30))
    assert reports["ana"].leads_received == 3
    assert reports["ana"].first_response_median_minutes == 15
    assert reports["ana"].first_response_p90_minutes == pytest.approx(percentile([3, 15, 60], 0.9))
    assert reports["ana"].answered_within_target == pytest.approx(2 / 3)
    assert reports["bruno"].answered_within_target == 0
    assert reports[TEAM].leads_received == 4


def test_commitments_meetings_conversions_and_the_previous_period(db, team):
    ana = team["ana"].id
    lead = _lead(db, 1, ana, datetime(2026, 11, 2, 15, tzinfo=UTC))

    def history(s):
        for day, missed in [(3, True), (4, False), (10, True), (11, True), (12, False)]:
            due = datetime(2026, 11, day, 15, tzinfo=UTC)
            s.add(
                FollowUp(
                    lead_id=lead,
                    owner_id=ana,
                    due_at=due,
                    reason="x",
                    state=FollowUpState.MISSED if missed else FollowUpState.DONE,
                    missed_at=due + timedelta(hours=12) if missed else None,
                )
            )
        s.add(
            Meeting(
                lead_id=lead,
                owner_id=ana,
                starts_at=datetime(2026, 11, 11, 16, tzinfo=UTC),
                outcome=MeetingOutcome.HELD,
                created_at=datetime(2026, 11, 9, 15, tzinfo=UTC),
            )
        )
        other = s.get(Lead, lead)
        other.status = LeadStatus.LOST
        other.updated_at = datetime(2026, 11, 12, 20, tzinfo=UTC)

    db.write(history)
    report = _by_rep(db, date(2026, 11, 9), date(2026, 11, 15))["ana"]
    assert (report.followups_due, report.followups_done, report.followups_missed) == (3, 1, 2)
    assert (report.meetings_booked, report.meetings_held) == (1, 1)
    assert report.commitments_due == 4 and report.commitments_missed == 2
    assert report.missed_commitment_rate == 0.5
    assert report.missed_commitment_rate_before == 0.5  # 2-8 Nov: 1 of 2
    assert report.leads_lost == 1 and report.conversion_rate == 0
    assert report.deal_value == Decimal(0)
    with db.reading() as s:
        weeks = weekly_missed(s, weeks=3, today=date(2026, 11, 18))
    assert [(w.week, w.due, w.missed) for w in weeks] == [
        (date(2026, 11, 2), 2, 1),
        (date(2026, 11, 9), 4, 2),
        (date(2026, 11, 16), 0, 0),
    ]


def test_json_has_the_keys_the_cli_promises(db, team):
    with db.reading() as s:
        team_row = coaching_report(s, Period(date(2026, 11, 1), date(2026, 11, 30)))[-1]
    data = team_row.as_json()
    for key in (
        "rep",
        "calls",
        "outcomes",
        "connect_rate",
        "leads_received",
        "first_response_median_minutes",
        "followups_due",
        "followups_missed",
        "missed_commitment_rate",
        "meetings_held",
        "conversions",
    ):
        assert key in data
    assert data["rep"] == "TEAM"
    assert clock.as_utc(datetime(2026, 1, 1, tzinfo=UTC))


def test_the_team_row_pools_response_times(db, team):
    ana, bruno = team["ana"].id, team["bruno"].id
    at = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)  # Monday 10:00 New York
    for n, (owner, minutes) in enumerate([(ana, 5), (bruno, 20), (bruno, 40)]):
        lead = _lead(db, n, owner, at)
        _call(db, lead, owner, at + timedelta(minutes=minutes))
    team_row = _by_rep(db, date(2026, 11, 30), date(2026, 11, 30))[TEAM]
    assert team_row.first_response_median_minutes == 20
    assert team_row.answered_within_target == pytest.approx(1 / 3)


def test_chat_replies_count_per_rep_sent_inside_the_window_and_failed_by_code(db, team):
    from leadms_tui.domain.models import Channel, MessageState, OutboundMessage

    at = datetime(2026, 11, 10, 15, 0, tzinfo=UTC)
    lead_id = _lead(db, 1, team["ana"].id, at)
    rows = [
        ("ana", "text", MessageState.READ, None),
        ("ana", "text", MessageState.DELIVERED, None),
        ("ana", "template", MessageState.SENT, None),
        ("ana", "text", MessageState.FAILED, 131047),
        ("ana", "text", MessageState.FAILED, 131047),
        ("bruno", "template", MessageState.FAILED, 131026),
        ("bruno", "text", MessageState.QUEUED, None),  # not sent yet: not counted
    ]

    def write(s):
        for user, kind, state, code in rows:
            s.add(
                OutboundMessage(
                    lead_id=lead_id, channel=Channel.WHATSAPP, recipient="4477", kind=kind,
                    body="hi", state=state, error_code=code, created_by_id=team[user].id,
                    created_at=at,
                )
            )  # fmt: skip

    db.write(write)
    with db.reading() as s:
        report = {
            r.rep: r for r in coaching_report(s, Period(date(2026, 11, 1), date(2026, 11, 30)))
        }
    ana, bruno, whole = report["ana"], report["bruno"], report[TEAM]
    assert (ana.messages_sent, ana.replies_in_window, ana.message_failures) == (3, 2, {"131047": 2})
    assert (bruno.messages_sent, bruno.message_failures) == (0, {"131026": 1})
    assert (whole.messages_sent, whole.replies_in_window) == (3, 2)
    assert whole.message_failures == {"131047": 2, "131026": 1}
    assert whole.as_json()["message_failures"] == {"131047": 2, "131026": 1}
