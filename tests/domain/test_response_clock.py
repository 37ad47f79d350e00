"""Speed to lead: the response clock in business minutes, and the ladder (owner, managers,
offer, reassign) fired exactly once per untouched lead, on both engines."""

import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select, update

from leadms_tui.domain import recent
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.errors import ValidationError
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import (
    Call,
    CallOutcome,
    Lead,
    Notification,
    ResponseClock,
    ResponseStep,
    Setting,
    User,
)
from leadms_tui.domain.team.settings import set_setting
from leadms_tui.domain.work.calls import log_call
from leadms_tui.domain.work.meetings import schedule_meeting
from leadms_tui.domain.work.response_clock import clock_view
from leadms_tui.domain.work.rules import sweep
from tests.workers_clock import log_calls
from tests.workers_rules import run_sweeps

WED_10 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # London is on GMT: 10:00 local


def _lead(db, team, at, n=1, owner="ana"):
    data = LeadCreate(
        name=f"Dora {n}",
        email=f"dora{n}@example.com",
        channel="website",
        owner_id=team[owner].id if owner else None,
    )
    return create_lead(db, data, actor=SYSTEM, now=at).lead_id


def _steps(db, lead_id):
    with db.reading() as session:
        return [
            (s.action, s.minute, s.fired_at, s.detail)
            for s in session.execute(
                select(ResponseStep)
                .where(ResponseStep.lead_id == lead_id)
                .order_by(ResponseStep.id)
            ).scalars()
        ]


def _notices(db, team, name):
    with db.reading() as session:
        return list(
            session.execute(
                select(Notification.message)
                .where(Notification.user_id == team[name].id)
                .order_by(Notification.id)
            ).scalars()
        )


def _owner(db, lead_id):
    with db.reading() as session:
        owner_id = session.get(Lead, lead_id).owner_id
        return session.get(User, owner_id).username


def test_untouched_lead_climbs_the_ladder_once_at_the_right_minutes(db, team):
    lead_id = _lead(db, team, WED_10)
    fired = {}
    for minute in range(0, 31):
        fired[minute] = sweep(db, now=WED_10 + timedelta(minutes=minute)).ladder
    assert {m: n for m, n in fired.items() if n} == {5: 1, 10: 1, 15: 1, 20: 1}
    assert [(a, m, f.astimezone(UTC)) for a, m, f, _ in _steps(db, lead_id)] == [
        ("owner", 5, WED_10 + timedelta(minutes=5)),
        ("managers", 10, WED_10 + timedelta(minutes=10)),
        ("offer", 15, WED_10 + timedelta(minutes=15)),
        ("reassign", 20, WED_10 + timedelta(minutes=20)),
    ]
    assert _owner(db, lead_id) == "bruno"
    ana, bruno, maria = (_notices(db, team, n) for n in ("ana", "bruno", "maria"))
    assert len(ana) == 2 and "call now" in ana[0]
    assert "reassigned to bruno: untouched for 20 business minutes" in ana[1]
    assert len(maria) == 1 and "untouched for 10 business minutes (owner: ana)" in maria[0]
    assert len(bruno) == 2 and "offered to you" in bruno[0]
    assert "assigned to you (untouched for 20 business minutes)" in bruno[1]
    assert sweep(db, now=WED_10 + timedelta(hours=3)).ladder == 0


def test_a_lead_called_at_minute_four_gets_no_step(db, team):
    lead_id = _lead(db, team, WED_10)
    db.write(
        lambda s: log_call(
            s, lead_id, CallOutcome.BUSY, actor=team["ana"].actor, now=WED_10 + timedelta(minutes=4)
        )
    )
    assert sweep(db, now=WED_10 + timedelta(hours=2)).ladder == 0
    assert _steps(db, lead_id) == [] and _owner(db, lead_id) == "ana"
    with db.reading() as session:
        view = clock_view(session, lead_id, now=WED_10 + timedelta(hours=2))
    assert (view.state, view.minutes_used, view.touched_by) == ("touched", 4, "call")


def test_a_meeting_booked_is_a_touch(db, team):
    lead_id = _lead(db, team, WED_10)
    db.write(
        lambda s: schedule_meeting(
            s,
            lead_id,
            starts_at=WED_10 + timedelta(days=1),
            actor=team["ana"].actor,
            now=WED_10 + timedelta(minutes=7),
        )
    )
    assert [a for a, *_ in _steps(db, lead_id)] == []  # nothing swept yet
    assert sweep(db, now=WED_10 + timedelta(hours=1)).ladder == 0


def test_lead_just_before_closing_escalates_next_business_morning(db, team):
    lead_id = _lead(db, team, datetime(2026, 11, 25, 17, 58, tzinfo=UTC))  # Wed 17:58 GMT
    assert sweep(db, now=datetime(2026, 11, 25, 23, 0, tzinfo=UTC)).ladder == 0  # overnight
    assert sweep(db, now=datetime(2026, 11, 26, 9, 2, 59, tzinfo=UTC)).ladder == 0
    assert sweep(db, now=datetime(2026, 11, 26, 9, 3, tzinfo=UTC)).ladder == 1  # 2 + 3 minutes
    with db.reading() as session:
        view = clock_view(session, lead_id, now=datetime(2026, 11, 26, 9, 4, tzinfo=UTC))
    whats = [(e.minute, e.what) for e in view.events]
    assert whats[:3] == [
        (0, "started: lead received"),
        (2, "paused: outside business hours"),
        (2, "resumed: business hours"),
    ]
    assert view.minutes_used == 6 and view.state == "running"


def test_daylight_saving_change_inside_a_clock(db, team):
    # Friday 23 Oct 2026 17:50 BST (16:50 UTC); clocks go back on Sunday 25 Oct
    lead_id = _lead(db, team, datetime(2026, 10, 23, 16, 50, tzinfo=UTC))
    sweep(db, now=datetime(2026, 10, 23, 17, 0, tzinfo=UTC))  # Friday 18:00 BST: 10 used
    assert [a for a, *_ in _steps(db, lead_id)] == ["owner", "managers"]
    # Monday opens at 09:00 GMT = 09:00 UTC (an hour later in UTC than on Friday)
    assert sweep(db, now=datetime(2026, 10, 26, 8, 30, tzinfo=UTC)).ladder == 0
    assert sweep(db, now=datetime(2026, 10, 26, 9, 4, tzinfo=UTC)).ladder == 0
    assert sweep(db, now=datetime(2026, 10, 26, 9, 5, tzinfo=UTC)).ladder == 1
    assert _steps(db, lead_id)[-1][:2] == ("offer", 15)


def test_a_holiday_inside_a_clock(db, team):
    db.write(lambda s: set_setting(s, "holidays", "2026-12-25", actor=SYSTEM))
    lead_id = _lead(db, team, datetime(2026, 12, 24, 17, 55, tzinfo=UTC))  # Thu 17:55 GMT
    assert sweep(db, now=datetime(2026, 12, 24, 18, 0, tzinfo=UTC)).ladder == 1  # owner at 5
    assert sweep(db, now=datetime(2026, 12, 25, 12, 0, tzinfo=UTC)).ladder == 0  # holiday
    assert sweep(db, now=datetime(2026, 12, 28, 9, 4, tzinfo=UTC)).ladder == 0  # Monday
    assert sweep(db, now=datetime(2026, 12, 28, 9, 5, tzinfo=UTC)).ladder == 1
    assert [a for a, *_ in _steps(db, lead_id)] == ["owner", "managers"]


def test_a_bank_holiday_of_the_team_region_pauses_the_clock(db, team):
    db.write(lambda s: set_setting(s, "holiday_region", "GB-ENG", actor=SYSTEM))
    lead_id = _lead(db, team, datetime(2026, 8, 28, 16, 55, tzinfo=UTC))  # Fri 17:55 BST
    assert sweep(db, now=datetime(2026, 8, 28, 17, 0, tzinfo=UTC)).ladder == 1  # owner at 5
    assert sweep(db, now=datetime(2026, 8, 31, 12, 0, tzinfo=UTC)).ladder == 0  # bank holiday
    assert sweep(db, now=datetime(2026, 9, 1, 8, 4, tzinfo=UTC)).ladder == 0  # Tue 09:04 BST
    assert sweep(db, now=datetime(2026, 9, 1, 8, 5, tzinfo=UTC)).ladder == 1
    assert [a for a, *_ in _steps(db, lead_id)] == ["owner", "managers"]
    with db.reading() as session:
        view = clock_view(session, lead_id, now=datetime(2026, 9, 1, 8, 6, tzinfo=UTC))
    assert view.minutes_used == 11  # 5 on Friday, none over the weekend and Monday, 6 now


def test_a_reps_own_hours_keep_the_teams_bank_holidays(db, team):
    db.write(lambda s: set_setting(s, "holiday_region", "GB-ENG", actor=SYSTEM))
    db.write(
        lambda s: s.execute(
            update(User).where(User.id == team["ana"].id).values(working_hours="07:00-12:00")
        )
    )
    lead_id = _lead(db, team, datetime(2026, 8, 28, 10, 55, tzinfo=UTC))  # Fri 11:55 BST
    assert sweep(db, now=datetime(2026, 8, 31, 7, 0, tzinfo=UTC)).ladder == 1  # owner, Friday
    assert sweep(db, now=datetime(2026, 9, 1, 6, 4, tzinfo=UTC)).ladder == 0  # Tue 07:04 BST
    assert sweep(db, now=datetime(2026, 9, 1, 6, 5, tzinfo=UTC)).ladder == 1
    assert [a for a, *_ in _steps(db, lead_id)] == ["owner", "managers"]


def test_a_reps_own_hours_pause_the_clock(db, team):
    db.write(
        lambda s: s.execute(
            update(User).where(User.id == team["ana"].id).values(working_hours="09:00-10:02")
        )
    )
    lead_id = _lead(db, team, WED_10)
    assert sweep(db, now=WED_10 + timedelta(hours=5)).ladder == 0  # ana's day ended at 2 minutes
    assert sweep(db, now=datetime(2026, 11, 26, 9, 3, tzinfo=UTC)).ladder == 1
    assert [a for a, *_ in _steps(db, lead_id)] == ["owner"]


def test_no_eligible_rep_flags_the_lead_and_tells_managers_once(db, team):
    db.write(
        lambda s: s.execute(update(User).where(User.id == team["bruno"].id).values(capacity=1))
    )
    full = _lead(db, team, WED_10 - timedelta(minutes=1), n=9, owner="bruno")  # bruno is full
    db.write(lambda s: log_call(s, full, CallOutcome.BUSY, actor=team["bruno"].actor, now=WED_10))
    lead_id = _lead(db, team, WED_10)
    sweep(db, now=WED_10 + timedelta(minutes=5))
    sweep(db, now=WED_10 + timedelta(minutes=30))
    assert _owner(db, lead_id) == "ana"  # never past bruno's capacity
    details = [d for *_, d in _steps(db, lead_id)]
    assert details[2:] == ["no eligible rep: flagged", "no eligible rep: flagged"]
    maria = _notices(db, team, "maria")
    flagged = [m for m in maria if "no other rep can take it" in m]
    assert len(flagged) == 1
    with db.reading() as session:
        assert clock_view(session, lead_id, now=WED_10 + timedelta(minutes=30)).flagged


def test_ladder_setting_is_validated():
    from leadms_tui.domain.team.settings import SPECS

    parse = SPECS["response_ladder"].parse
    assert parse(" 5:Owner, 30:reassign ") == "5:owner,30:reassign"
    assert parse("off") == "off"
    for bad, reason in [
        ("10:owner,5:managers", "minutes must increase"),
        ("5:owner,1441:reassign", "no step past a day"),
        ("5:boss", "unknown action 'boss'"),
        ("five:owner", "write MINUTES:ACTION"),
        ("5:owner,10:owner", "owner appears twice"),
    ]:
        with pytest.raises(ValidationError, match=reason) as caught:
            parse(bad)
        assert "\n" not in str(caught.value)


@given(
    st.lists(st.integers(1, 1440), min_size=1, max_size=4, unique=True),
    st.permutations(["owner", "managers", "offer", "reassign"]),
)
def test_any_increasing_ladder_of_known_actions_round_trips_and_others_are_refused(
    minutes, actions
):
    from leadms_tui.domain.team.settings import SPECS, parse_ladder

    parse = SPECS["response_ladder"].parse
    ordered = sorted(minutes)
    text = ",".join(f"{m}:{a}" for m, a in zip(ordered, actions, strict=False))
    assert parse(text) == text
    assert [s.minute for s in parse_ladder(text)] == ordered
    if len(minutes) > 1 and minutes != ordered:
        shuffled = ",".join(f"{m}:{a}" for m, a in zip(minutes, actions, strict=False))
        with pytest.raises(ValidationError, match="minutes must increase"):
            parse(shuffled)


def test_two_sweepers_change_nothing(db_url, db, team):
    lead_ids = [_lead(db, team, WED_10, n=i) for i in range(8)]
    processes = 4 if db_url.startswith("postgresql") else 2
    start_at = time.monotonic() + 2.0
    now = (WED_10 + timedelta(minutes=20)).isoformat()
    with ProcessPoolExecutor(processes, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(run_sweeps, db_url, now, start_at, 2) for _ in range(processes)]
        for future in futures:
            future.result(timeout=300)
    with db.reading() as session:
        steps = session.scalar(select(func.count()).select_from(ResponseStep))
        counted = session.scalar(select(func.sum(ResponseClock.steps_fired)))
    assert steps == counted == 4 * len(lead_ids)
    assert {_owner(db, lead_id) for lead_id in lead_ids} == {"bruno"}
    assert len(_notices(db, team, "maria")) == len(lead_ids)
    assert len(_notices(db, team, "bruno")) == 2 * len(lead_ids)


def test_a_touch_racing_a_step_is_touched_or_escalated_never_both(db_url, db, team):
    lead_ids = [_lead(db, team, WED_10, n=i) for i in range(30)]
    at = (WED_10 + timedelta(minutes=5)).isoformat()
    start_at = time.monotonic() + 2.0
    with ProcessPoolExecutor(2, mp_context=get_context("spawn")) as pool:
        calls = pool.submit(log_calls, db_url, lead_ids, team["ana"].id, at, start_at)
        sweeps = pool.submit(run_sweeps, db_url, at, start_at, 1)
        calls.result(timeout=300), sweeps.result(timeout=300)
    with db.reading() as session:
        clocks = session.execute(select(ResponseClock)).scalars().all()
        per_clock = dict(
            session.execute(
                select(ResponseStep.clock_id, func.count()).group_by(ResponseStep.clock_id)
            ).all()
        )
    assert all(c.touched_at is not None for c in clocks)
    # every step fired before the touch stopped the clock; none after it
    assert all(per_clock.get(c.id, 0) == c.steps_at_touch for c in clocks)
    assert sweep(db, now=WED_10 + timedelta(hours=1)).ladder == 0


def test_leads_taken_in_before_clocks_existed_never_climb(db, team):
    old = _lead(db, team, WED_10, n=1)
    new = _lead(db, team, WED_10 + timedelta(seconds=1), n=2)

    # what migration 0012 stores on a database that already had leads: the newest one's time
    def mark(session):
        session.add(Setting(key="response_clock_since", value=WED_10.isoformat()))
        recent.forget(session)  # settings are remembered for a moment

    db.write(mark)
    sweep(db, now=WED_10 + timedelta(hours=1))
    assert _steps(db, old) == [] and len(_steps(db, new)) == 4
    with db.reading() as session:
        assert clock_view(session, old) is None
        assert clock_view(session, new, now=WED_10 + timedelta(hours=1)).state == "over"


def test_a_call_written_without_the_event_or_a_lead_moved_on_is_touched(db, team):
    called, moved = _lead(db, team, WED_10, n=1), _lead(db, team, WED_10, n=2)

    def older_data(session):  # as the demo writes its calls, and a status set by hand
        session.add(Call(lead_id=called, user_id=team["ana"].id, outcome="busy", called_at=WED_10))
        session.execute(update(Lead).where(Lead.id == moved).values(status="contacted"))

    db.write(older_data)
    assert sweep(db, now=WED_10 + timedelta(hours=1)).ladder == 0
    with db.reading() as session:
        view = clock_view(session, called, now=WED_10 + timedelta(hours=1))
    assert (view.state, view.minutes_used) == ("touched", 0)
