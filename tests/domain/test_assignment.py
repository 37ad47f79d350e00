"""Smart assignment: signals on hand-made data, smoothing, exclusions, stickiness, language,
the auto mode with its waiting list, fairness, and capacity under concurrent intake."""

import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context

import pytest
from sqlalchemy import func, select, update

from leadms_tui.domain import clock
from leadms_tui.domain.audit import SYSTEM, Actor
from leadms_tui.domain.errors import PermissionDeniedError, ValidationError
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import (
    AssignmentWait,
    AuditEvent,
    Call,
    CallOutcome,
    FollowUp,
    FollowUpState,
    Lead,
    LeadStatus,
    Notification,
    Role,
    User,
)
from leadms_tui.domain.team.assignment import assign_lead, assign_waiting, suggest
from leadms_tui.domain.team.language import detect_language
from leadms_tui.domain.team.settings import set_setting
from leadms_tui.domain.team.signals import loads, performances
from leadms_tui.domain.team.users import add_user

WED = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)  # Wednesday, inside 09:00-18:00 London


@pytest.fixture(autouse=True)
def frozen():
    clock.set_clock(lambda: WED)
    yield
    clock.set_clock(None)


@pytest.fixture
def reps(db):
    def seed(session):
        set_setting(session, "timezone", "Europe/London", actor=SYSTEM)
        set_setting(session, "phone_region", "GB", actor=SYSTEM)
        made = {
            name: add_user(
                session,
                name,
                role=Role.REP,
                actor=SYSTEM,
                password="secret",
                capacity=capacity,
                languages=languages,
            )
            for name, capacity, languages in [
                ("ana", 10, ["en", "es"]),
                ("bruno", 10, ["en", "pt"]),
                ("chloe", 10, ["en", "fr"]),
            ]
        }
        made["maria"] = add_user(
            session, "maria", role=Role.MANAGER, actor=SYSTEM, password="secret"
        )
        return made

    return db.write(seed)


def _lead(db, n, *, message="Hi, I would like to know the price", owner=None, phone=None, at=WED):
    data = LeadCreate(
        name=f"Lead {n}",
        phone=phone or f"+4477009{n:05d}",
        channel="whatsapp" if n % 2 else "website",
        message=message,
        owner_id=owner,
    )
    return create_lead(db, data, actor=SYSTEM, now=at).lead_id


def _user(db, name, **values):
    db.write(lambda s: s.execute(update(User).where(User.username == name).values(**values)))


def _ranked(db, lead_id):
    with db.reading() as s:
        return suggest(s, lead_id, now=WED)


def test_load_signals_count_open_leads_followups_and_todays_leads(db, reps):
    ana = reps["ana"].id
    for n in range(3):
        _lead(db, n, owner=ana)
    old = _lead(db, 9, owner=ana, at=WED - timedelta(days=3))

    def commitments(s):
        s.add(FollowUp(lead_id=old, owner_id=ana, due_at=WED + timedelta(hours=2), reason="x"))
        s.add(
            FollowUp(
                lead_id=old,
                owner_id=ana,
                due_at=WED - timedelta(days=2),
                reason="y",
                state=FollowUpState.MISSED,
                missed_at=WED - timedelta(days=1),
            )
        )
        s.get(Lead, old).status = LeadStatus.LOST

    db.write(commitments)
    with db.reading() as s:
        load = loads(s, [ana], today=WED.date(), timezone="Europe/London")[ana]
    assert (load.open_leads, load.due_today, load.overdue, load.received_today) == (3, 1, 1, 3)


def test_performance_has_conversion_median_first_call_and_missed_rate(db, reps):
    ana = reps["ana"].id
    ids = [_lead(db, n, owner=ana, at=WED - timedelta(days=5)) for n in range(4)]

    def history(s):
        for lead_id, minutes in zip(ids, [10, 20, 30, 100], strict=True):
            called = WED - timedelta(days=5) + timedelta(minutes=minutes)
            s.add(Call(lead_id=lead_id, user_id=ana, outcome=CallOutcome.BUSY, called_at=called))
        s.get(Lead, ids[0]).status = LeadStatus.WON
        s.get(Lead, ids[1]).status = LeadStatus.LOST

    db.write(history)
    with db.reading() as s:
        perf = performances(s, WED)[ana]
    assert (perf.won, perf.closed) == (1, 2)
    assert perf.first_call_median_minutes == pytest.approx(25.0, abs=0.1)  # (20 + 30) / 2


def test_exclusions_say_why(db, reps):
    lead_id = _lead(db, 1)
    _user(db, "ana", availability="off")
    _user(db, "bruno", availability="away", away_until=WED + timedelta(days=2))
    _user(db, "chloe", working_hours="14:00-20:00")
    excluded = dict(_ranked(db, lead_id).excluded)
    assert excluded["ana"] == "off"
    assert excluded["bruno"].startswith("away until Fri 27 Nov")
    assert excluded["chloe"] == "outside working hours (14:00-20:00)"
    _user(db, "chloe", working_hours="", capacity=1)
    _lead(db, 2, owner=reps["chloe"].id)
    assert dict(_ranked(db, lead_id).excluded)["chloe"] == "at capacity (1/1 open leads)"
    _user(db, "bruno", away_until=WED - timedelta(minutes=1))  # back already
    assert [c.username for c in _ranked(db, lead_id).ranked] == ["bruno"]


def test_every_exclusion_is_listed_most_decisive_first(db, reps):
    """Capacity used to hide "outside working hours": a manager freeing room would still
    see no lead go to the rep."""
    lead_id = _lead(db, 1)
    _user(db, "chloe", working_hours="14:00-20:00", capacity=1)
    _lead(db, 2, owner=reps["chloe"].id)
    _user(db, "ana", availability="off", capacity=1)
    _lead(db, 3, owner=reps["ana"].id)
    excluded = dict(_ranked(db, lead_id).excluded)
    assert excluded["chloe"] == "at capacity (1/1 open leads); outside working hours (14:00-20:00)"
    assert excluded["ana"] == "off; at capacity (1/1 open leads)"


def test_the_sweep_assigns_nothing_once_assignment_mode_is_off(db, reps):
    db.write(lambda s: set_setting(s, "assignment_mode", "auto", actor=SYSTEM))
    for name in ("ana", "bruno", "chloe"):
        _user(db, name, availability="off")
    waiting = _lead(db, 1)
    db.write(lambda s: set_setting(s, "assignment_mode", "off", actor=SYSTEM))
    _user(db, "ana", availability="available")
    assert db.write(lambda s: assign_waiting(s, at=WED)) == 0
    with db.reading() as s:
        assert s.get(Lead, waiting).owner_id is None


def test_a_rep_may_not_run_the_assignment(db, reps):
    db.write(lambda s: set_setting(s, "assignment_mode", "auto", actor=SYSTEM))
    with pytest.raises(PermissionDeniedError, match="only a manager"):
        db.write(lambda s: assign_waiting(s, at=WED, actor=reps["ana"].actor))


def test_smoothing_keeps_two_lucky_sales_from_ranking_a_new_rep_first(db, reps):
    """ana: 2 won of 2; bruno: 30 won of 60 (team rate 32/62). Smoothed toward the team,
    ana's 2/2 counts for less than a perfect rate would."""
    ana, bruno = reps["ana"].id, reps["bruno"].id

    def history(s):
        for n, (owner, status) in enumerate(
            [(ana, "won")] * 2 + [(bruno, "won")] * 30 + [(bruno, "lost")] * 30
        ):
            s.add(
                Lead(
                    number=f"OLD-{n}",
                    business_date=WED.date(),
                    seq=1000 + n,
                    name="x",
                    channel="website",
                    status=status,
                    owner_id=owner,
                    created_at=WED - timedelta(days=10),
                    updated_at=WED - timedelta(days=9),
                )
            )

    db.write(history)
    lead_id = _lead(db, 1)
    signals = {c.username: {s.name: s for s in c.signals} for c in _ranked(db, lead_id).ranked}
    ana_perf = signals["ana"]["performance"].why
    assert "won 2/2" in ana_perf and "smoothed 60%" in ana_perf  # (2 + 10*.516) / 12


def test_language_detection_on_short_messages():
    assert detect_language("Hi, can I book a trial session?") == "en"
    assert detect_language("Hola, cuánto cuesta la mensualidad?") == "es"
    assert detect_language("oi tudo bem? queria saber o preço") == "pt"
    assert detect_language("Bonjour, c'est combien par mois ?") == "fr"
    assert detect_language("hola") is None  # too short to say
    assert detect_language("👍 https://example.com/a") is None


def test_language_and_repeat_stickiness_decide_the_rank(db, reps):
    spanish = _lead(db, 1, message="Hola, quiero información sobre las clases por favor")
    assert _ranked(db, spanish).language == "es"
    assert _ranked(db, spanish).ranked[0].username == "ana"
    first = _lead(db, 2, phone="+447700900222", owner=reps["chloe"].id)
    again = _lead(db, 3, phone="+447700900222", message="Olá, quero saber os preços das aulas")
    db.write(lambda s: setattr(s.get(Lead, again), "owner_id", None))
    ranked = _ranked(db, again).ranked
    assert first and ranked[0].username == "chloe" and ranked[0].sticky


def test_manual_assignment_is_for_managers_audited_and_notified(db, reps):
    lead_id = _lead(db, 1)
    with pytest.raises(PermissionDeniedError):
        db.write(
            lambda s: assign_lead(s, lead_id, "bruno", actor=Actor(reps["ana"].id, "ana", "rep"))
        )
    db.write(lambda s: assign_lead(s, lead_id, "bruno", actor=reps["maria"].actor))
    with db.reading() as s:
        assert s.get(Lead, lead_id).owner_id == reps["bruno"].id
        event = s.execute(select(AuditEvent).where(AuditEvent.action == "lead.assign")).scalar_one()
        note = s.execute(
            select(Notification.message).where(Notification.user_id == reps["bruno"].id)
        ).scalar_one()
    assert event.changes["owner"][1] == "bruno" and "workload" in event.changes["signals"][1]
    assert "assigned to you" in note


def test_auto_mode_assigns_at_intake_and_waits_when_nobody_can(db, reps):
    db.write(lambda s: set_setting(s, "assignment_mode", "auto", actor=SYSTEM))
    assigned = _lead(db, 1)
    with db.reading() as s:
        assert s.get(Lead, assigned).owner_id is not None
    for name in ("ana", "bruno", "chloe"):
        _user(db, name, availability="off")
    waiting = _lead(db, 2)
    later = _lead(db, 3)
    with db.reading() as s:
        assert s.get(Lead, waiting).owner_id is None
        assert s.scalar(select(func.count()).select_from(AssignmentWait)) == 2
        told = s.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == reps["maria"].id)
        )
    assert told == 2
    with db.reading() as s:
        holding = s.scalar(
            select(func.count()).select_from(Lead).where(Lead.owner_id == reps["bruno"].id)
        )
    _user(db, "bruno", availability="available", capacity=holding + 1)  # room for one
    assert db.write(lambda s: assign_waiting(s, at=WED)) == 1
    with db.reading() as s:
        assert s.get(Lead, waiting).owner_id == reps["bruno"].id  # the oldest first
        assert s.get(Lead, later).owner_id is None
        assert s.scalar(select(func.count()).select_from(AssignmentWait)) == 1


def test_fairness_over_equal_reps(db, reps):
    """1,000 leads over three reps of equal profile: every share within 10% of the mean."""
    db.write(lambda s: set_setting(s, "assignment_mode", "auto", actor=SYSTEM))
    for name in ("ana", "bruno", "chloe"):
        _user(db, name, capacity=10_000, languages="en")
    for n in range(1000):
        _lead(db, n, message="Hello there, what does a monthly membership cost?")
    with db.reading() as s:
        shares = Counter(s.execute(select(Lead.owner_id)).scalars())
    mean = 1000 / 3
    assert sum(shares.values()) == 1000 and None not in shares
    assert all(abs(count - mean) <= 0.1 * mean for count in shares.values()), shares


def _clear_of_midnight() -> None:
    """The concurrency tests read the real clock, with working hours 00:00-23:59: start
    them outside the day's last two minutes in London."""
    from zoneinfo import ZoneInfo

    local = datetime.now(ZoneInfo("Europe/London"))  # the real clock, on purpose
    if local.hour == 23 and local.minute >= 58:
        time.sleep((60 - local.minute) * 60 - local.second + 5)


@pytest.mark.slow
def test_eight_intake_processes_never_push_a_rep_past_capacity(db, db_url, reps):
    from tests.workers import take_leads

    db.write(lambda s: set_setting(s, "assignment_mode", "auto", actor=SYSTEM))
    for name in ("ana", "bruno", "chloe"):
        _user(db, name, capacity=7, working_hours="00:00-23:59")
    clock.set_clock(None)  # the children read the real clock; so does this test now
    _clear_of_midnight()
    db.write(lambda s: set_setting(s, "business_days", "mon-sun", actor=SYSTEM))
    start_at = time.monotonic() + 2.0
    with ProcessPoolExecutor(8, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(take_leads, db_url, w, 5, start_at) for w in range(8)]
        results = [f.result(timeout=300) for f in futures]
    assert not [e for _, errors in results for e in errors]
    with db.reading() as s:
        per_rep = Counter(
            s.execute(select(Lead.owner_id).where(Lead.owner_id.is_not(None))).scalars()
        )
        waiting = s.scalar(select(func.count()).select_from(AssignmentWait))
        total = s.scalar(select(func.count()).select_from(Lead))
    assert total == 40
    assert all(count <= 7 for count in per_rep.values()), per_rep
    assert sum(per_rep.values()) == 21 and waiting == 19  # every lead: assigned once or waiting


@pytest.mark.slow
def test_a_rep_going_off_mid_intake_loses_or_doubles_no_lead(db, db_url, reps):
    from tests.workers import take_leads

    db.write(lambda s: set_setting(s, "assignment_mode", "auto", actor=SYSTEM))
    db.write(lambda s: set_setting(s, "business_days", "mon-sun", actor=SYSTEM))
    for name in ("ana", "bruno", "chloe"):
        _user(db, name, capacity=1000, working_hours="00:00-23:59")
    _user(db, "bruno", availability="off")
    _user(db, "chloe", availability="off")
    clock.set_clock(None)
    _clear_of_midnight()
    start_at = time.monotonic() + 2.0
    with ProcessPoolExecutor(4, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(take_leads, db_url, w, 15, start_at) for w in range(4)]
        while time.monotonic() < start_at + 0.3:
            time.sleep(0.01)
        _user(db, "ana", availability="off")  # the only available rep leaves mid-intake
        results = [f.result(timeout=300) for f in futures]
    assert not [e for _, errors in results for e in errors]
    with db.reading() as s:
        leads = dict(s.execute(select(Lead.id, Lead.owner_id)).all())
        waiting = set(s.execute(select(AssignmentWait.lead_id)).scalars())
        assigns = Counter(
            s.execute(
                select(AuditEvent.entity_id).where(AuditEvent.action == "lead.assign")
            ).scalars()
        )
    assert len(leads) == 60
    assert all((owner is None) == (lead_id in waiting) for lead_id, owner in leads.items())
    assert all(count == 1 for count in assigns.values())


def _signal_values(db, lead_id) -> dict[str, dict[str, float]]:
    ranked = _ranked(db, lead_id).ranked
    return {c.username: {s.name: s.value for s in c.signals} for c in ranked}


@pytest.mark.parametrize(
    ("message", "speaker"),
    [
        ("Olá, quero saber os preços das aulas de natação", "bruno"),
        ("Bonjour, je voudrais connaître le prix des cours", "chloe"),
    ],
)
def test_the_rep_who_speaks_the_leads_language_comes_first(db, reps, message, speaker):
    """Equal reps but for their languages: without the language signal ana (the lowest id)
    would win the tie."""
    lead_id = _lead(db, 2, message=message)
    ranked = _ranked(db, lead_id).ranked
    assert ranked[0].username == speaker
    fits = {name: values["fit"] for name, values in _signal_values(db, lead_id).items()}
    assert fits[speaker] == pytest.approx(2 / 3)  # language 1, channel 1, not sticky
    assert fits["ana"] == pytest.approx(1 / 3)  # language 0


def test_workload_fairness_and_performance_values(db, reps):
    """ana holds 3 open leads taken in today (mean of the team: 1); nobody has history."""
    for n in range(3):
        _lead(db, n, owner=reps["ana"].id)
    values = _signal_values(db, _lead(db, 7))
    assert values["ana"]["workload"] == pytest.approx(1 - 3 / 10)
    assert values["bruno"]["workload"] == pytest.approx(1.0)
    assert values["ana"]["fairness"] == pytest.approx(1 / (1 + 2))  # 3 received, mean 1
    assert values["bruno"]["fairness"] == pytest.approx(1.0)
    assert values["ana"]["performance"] == pytest.approx(0.5)  # no team rate: all neutral


def test_conversion_is_capped_at_twice_the_team_rate(db, reps):
    """bruno won 10 of 10, ana none of 60: bruno's smoothed rate is four times the team's;
    the conversion part is capped at 1, so performance is (1 + 0.5 + 0.5) / 3."""
    ana, bruno = reps["ana"].id, reps["bruno"].id

    def history(s):
        closed = [(ana, "lost")] * 60 + [(bruno, "won")] * 10
        for n, (owner, status) in enumerate(closed):
            s.add(
                Lead(
                    number=f"OLD-{n}", business_date=WED.date(), seq=1000 + n, name="x",
                    channel="website", status=status, owner_id=owner,
                    created_at=WED - timedelta(days=10), updated_at=WED - timedelta(days=9),
                )
            )  # fmt: skip

    db.write(history)
    values = _signal_values(db, _lead(db, 1))
    assert values["bruno"]["performance"] == pytest.approx(2 / 3)


def test_auto_mode_leaves_a_lead_that_has_an_owner(db, reps):
    db.write(lambda s: set_setting(s, "assignment_mode", "auto", actor=SYSTEM))
    lead_id = _lead(db, 1, owner=reps["chloe"].id)
    with db.reading() as s:
        assert s.get(Lead, lead_id).owner_id == reps["chloe"].id
        assigned = s.execute(select(AuditEvent).where(AuditEvent.action == "lead.assign"))
        assert assigned.scalars().all() == []


def test_a_lead_is_not_given_to_its_own_owner(db, reps):
    lead_id = _lead(db, 1, owner=reps["bruno"].id)
    with pytest.raises(ValidationError, match="already bruno's"):
        db.write(lambda s: assign_lead(s, lead_id, "bruno", actor=reps["maria"].actor))
    with db.reading() as s:
        assert (
            s.execute(select(AuditEvent).where(AuditEvent.action == "lead.assign")).first() is None
        )
