"""Clients and conversion: one transaction makes the sale, the client, the commission and
the onboarding tasks; refusals write nothing; a reversal voids without deleting."""

import time
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from leadms_tui.domain import clock
from leadms_tui.domain.audit import SYSTEM, Actor
from leadms_tui.domain.errors import (
    ConflictError,
    PermissionDeniedError,
    ValidationError,
)
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import (
    AuditEvent,
    Client,
    Commission,
    CommissionState,
    FollowUp,
    Lead,
    OnboardingTask,
    Sale,
    TaskState,
)
from leadms_tui.domain.queries.sales import list_commissions, load_client_detail
from leadms_tui.domain.sales import commission, onboarding
from leadms_tui.domain.sales.conversion import (
    ConversionRequest,
    convert_lead,
    reverse_conversion,
)
from leadms_tui.domain.sales.money import parse_amount, round_money
from leadms_tui.domain.team.settings import set_setting
from leadms_tui.domain.work.followups import add_followup
from leadms_tui.domain.work.rules import sweep

WED = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # a Wednesday, London = UTC in winter


@pytest.fixture(autouse=True)
def frozen():
    clock.set_clock(lambda: WED)
    yield
    clock.set_clock(None)


def _lead(db, name="Ana Client", phone="+447700900123", email=None, owner=None):
    data = LeadCreate(name=name, phone=phone, email=email, channel="website")
    result = create_lead(db, data, actor=SYSTEM)
    if owner is not None:
        db.write(lambda s: setattr(s.get(Lead, result.lead_id), "owner_id", owner.id))
    return result.lead_id


def _plan(db, team, **terms):
    return db.write(
        lambda s: commission.add_plan(
            s, terms.pop("name", "Standard"), currency="USD", actor=team["maria"].actor, **terms
        )
    )


def _convert(db, lead_id, actor, **request):
    return db.write(lambda s: convert_lead(s, lead_id, ConversionRequest(**request), actor=actor))


def _count(db, model) -> int:
    with db.reading() as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def test_conversion_makes_client_sale_commission_and_tasks(db, team):
    _plan(db, team, rate="7.5")
    lead_id = _lead(db, owner=team["ana"])
    result = _convert(db, lead_id, team["ana"].actor, value="1234.50", product="Gold")
    assert result.client_number == "CL-000001" and result.new_client
    assert result.value == Decimal("1234.50") and result.currency == "USD"
    assert result.commission_total == Decimal("92.59")  # 92.5875 half-up
    assert [(c.username, c.amount) for c in result.commissions] == [("ana", Decimal("92.59"))]
    # the default template: day 0 Wed, day 2 Fri, day 10 (two weekends later) Wed 9 Dec
    assert [(t.title, t.owner, t.due_on) for t in result.tasks] == [
        ("Welcome call", "ana", date(2026, 11, 25)),
        ("Setup check", "ana", date(2026, 11, 27)),
        ("First review", "ana", date(2026, 12, 9)),
    ]
    with db.reading() as s:
        assert s.get(Lead, lead_id).status == "won"
        actions = set(s.execute(select(AuditEvent.action)).scalars())
    assert {
        "client.create",
        "sale.create",
        "commission.create",
        "onboarding_task.create",
        "lead.update",
    } <= actions


def test_repeat_lead_of_a_client_adds_a_sale_to_the_same_client(db, team):
    first = _lead(db, phone="+447700900123", owner=team["ana"])
    _convert(db, first, team["ana"].actor, value="100")
    again = _lead(db, name="Ana C.", phone="07700 900123", email="ana@example.com")
    result = _convert(db, again, team["maria"].actor, value="50", template="none")
    assert result.client_number == "CL-000001" and not result.new_client
    assert result.tasks == []
    assert _count(db, Client) == 1 and _count(db, Sale) == 2
    with db.reading() as s:
        detail = load_client_detail(session=s, client_id=1)
    assert [sale.value for sale in detail.sales] == [Decimal("100.00"), Decimal("50.00")]


def test_client_numbers_are_gapless_after_a_refused_conversion(db, team):
    a, b = _lead(db, phone="+447700900001"), _lead(db, phone="+447700900002")
    with pytest.raises(ValidationError):
        _convert(db, a, team["maria"].actor, value="-5")
    assert _convert(db, b, team["maria"].actor, value="5").client_number == "CL-000001"
    assert _convert(db, a, team["maria"].actor, value="5").client_number == "CL-000002"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-5", "more than 0"),
        ("0", "more than 0"),
        ("abc", "not a number"),
        ("12.345", "more than 2 decimals"),
        ("NaN", "not a number"),
    ],
)
def test_bad_values_are_refused_and_nothing_is_written(db, team, value, message):
    lead_id = _lead(db)
    audit_before = _count(db, AuditEvent)
    with pytest.raises(ValidationError, match=message):
        _convert(db, lead_id, team["maria"].actor, value=value)
    assert _count(db, Sale) == _count(db, Client) == 0
    assert _count(db, AuditEvent) == audit_before


def test_unknown_plan_template_and_bad_split_are_refused(db, team):
    _plan(db, team, rate="5")
    lead_id = _lead(db, owner=team["ana"])
    actor = team["bruno"].actor
    db.write(lambda s: setattr(s.get(Lead, lead_id), "owner_id", None))  # bruno may convert
    with pytest.raises(ValidationError, match="unknown commission plan"):
        _convert(db, lead_id, actor, value="10", commission_plan="Platinum")
    with pytest.raises(ValidationError, match="unknown onboarding template"):
        _convert(db, lead_id, actor, value="10", template="Nope")
    with pytest.raises(ValidationError, match="no other owner"):
        _convert(db, lead_id, actor, value="10", split="60/40")
    db.write(lambda s: setattr(s.get(Lead, lead_id), "owner_id", team["ana"].id))
    with pytest.raises(ValidationError, match="add up to 100"):
        _convert(db, lead_id, team["maria"].actor, value="10", split="60/30")
    assert _count(db, Sale) == 0


def test_a_rep_cannot_convert_another_reps_lead(db, team):
    lead_id = _lead(db, owner=team["ana"])
    with pytest.raises(PermissionDeniedError):
        _convert(db, lead_id, team["bruno"].actor, value="10")
    assert _count(db, Sale) == 0


def test_won_and_lost_leads_are_refused_with_the_reason(db, team):
    lead_id = _lead(db, owner=team["ana"])
    _convert(db, lead_id, team["ana"].actor, value="10")
    with pytest.raises(ConflictError, match=r"already converted by ana on .* \(client CL-000001\)"):
        _convert(db, lead_id, team["maria"].actor, value="10")
    lost = _lead(db, phone="+447700900999")
    db.write(
        lambda s: (
            setattr(s.get(Lead, lost), "status", "lost"),
            setattr(s.get(Lead, lost), "lost_reason", "too expensive"),
        )
    )
    with pytest.raises(ValidationError, match=r"is lost \(too expensive\)"):
        _convert(db, lost, team["maria"].actor, value="10")


def test_a_failure_at_the_last_step_leaves_nothing(db, team, monkeypatch):
    _plan(db, team, rate="10")
    lead_id = _lead(db, owner=team["ana"])
    add_followup_at = datetime(2026, 11, 26, 10, tzinfo=UTC)
    db.write(
        lambda s: add_followup(
            s, lead_id, due_at=add_followup_at, reason="call", actor=team["ana"].actor
        )
    )
    counts = {m: _count(db, m) for m in (Client, Sale, Commission, OnboardingTask, AuditEvent)}

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    from leadms_tui.domain import subscribers
    from leadms_tui.domain.events import LeadConverted

    monkeypatch.setitem(subscribers.HANDLERS, LeadConverted, [broken])
    with pytest.raises(RuntimeError):
        _convert(db, lead_id, team["ana"].actor, value="100")
    assert {m: _count(db, m) for m in counts} == counts
    with db.reading() as s:
        assert s.get(Lead, lead_id).status == "new"
        assert s.execute(select(FollowUp.state)).scalar_one() == "open"
    monkeypatch.undo()
    assert _convert(db, lead_id, team["ana"].actor, value="100").client_number == "CL-000001"


@pytest.mark.parametrize(
    ("terms", "value", "total"),
    [
        ({"rate": "7.5"}, "1234.50", "92.59"),  # 92.5875 → up
        ({"rate": "10"}, "0.05", "0.01"),  # 0.005 → half-up, not banker's 0.00
        ({"rate": "10"}, "0.25", "0.03"),  # 0.025 → 0.03
        ({"rate": "2.5"}, "0.99", "0.02"),  # 0.02475 → 0.02
        ({"rate": "10", "cap": "500"}, "9999.99", "500.00"),
        ({"rate": "10", "cap": "500"}, "4000", "400.00"),
        ({"flat": "50"}, "123456", "50.00"),
    ],
)
def test_commission_amounts_are_exact(db, team, terms, value, total):
    _plan(db, team, **terms)
    lead_id = _lead(db)
    result = _convert(db, lead_id, team["maria"].actor, value=value)
    assert result.commission_total == Decimal(total)


def test_split_shares_add_up_to_the_total_to_the_cent(db, team):
    _plan(db, team, rate="10")
    lead_id = _lead(db, owner=team["ana"])
    closer = Actor(team["bruno"].id, "bruno", "manager")
    result = _convert(db, lead_id, closer, value="100.01", split="33.33/66.67")
    amounts = {c.username: c.amount for c in result.commissions}
    assert amounts == {"ana": Decimal("3.33"), "bruno": Decimal("6.67")}
    assert sum(amounts.values()) == result.commission_total == Decimal("10.00")


def test_money_rounds_half_up_per_currency():
    assert round_money(Decimal("2.5"), "JPY") == Decimal("3")
    assert round_money(Decimal("1.0005"), "KWD") == Decimal("1.001")
    assert parse_amount("1,234.50", "USD") == Decimal("1234.50")
    with pytest.raises(ValidationError):
        parse_amount("12.5", "JPY")


def test_reversal_voids_commission_and_restores_the_lead(db, team):
    _plan(db, team, rate="10")
    lead_id = _lead(db, owner=team["ana"])
    db.write(lambda s: setattr(s.get(Lead, lead_id), "status", "qualified"))
    result = _convert(db, lead_id, team["ana"].actor, value="200")
    with pytest.raises(PermissionDeniedError):
        db.write(
            lambda s: reverse_conversion(s, result.sale_id, reason="oops", actor=team["ana"].actor)
        )
    audit_before = _count(db, AuditEvent)
    db.write(
        lambda s: reverse_conversion(
            s, result.sale_id, reason="cheque bounced", actor=team["maria"].actor
        )
    )
    with db.reading() as s:
        assert s.get(Lead, lead_id).status == "qualified"
        assert set(s.execute(select(Commission.state)).scalars()) == {"void"}
        assert set(s.execute(select(OnboardingTask.state)).scalars()) == {"cancelled"}
        assert s.get(Client, 1).status == "churned"
        assert s.get(Sale, result.sale_id).reversed_at is not None
    assert _count(db, AuditEvent) > audit_before  # added to, never deleted from
    # the lead can be converted again; the client is the same person
    again = _convert(db, lead_id, team["ana"].actor, value="150")
    assert again.client_number == "CL-000001"


def test_approve_then_pay_by_managers_only(db, team):
    _plan(db, team, rate="10")
    lead_id = _lead(db, owner=team["ana"])
    _convert(db, lead_id, team["ana"].actor, value="100")
    with db.reading() as s:
        (row,) = list_commissions(
            session=s, start=date(2026, 11, 1), end=date(2026, 12, 1), viewer=team["maria"].actor
        )
    assert (row.rep, row.amount, row.state) == ("ana", Decimal("10.00"), "pending")
    with pytest.raises(PermissionDeniedError):
        db.write(
            lambda s: commission.move_commissions(
                s, [row.id], CommissionState.APPROVED, actor=team["ana"].actor
            )
        )
    with pytest.raises(ValidationError, match="only approved ones"):
        db.write(
            lambda s: commission.move_commissions(
                s, [row.id], CommissionState.PAID, actor=team["maria"].actor
            )
        )
    for state in (CommissionState.APPROVED, CommissionState.PAID):
        db.write(
            lambda s, state=state: commission.move_commissions(
                s, [row.id], state, actor=team["maria"].actor
            )
        )
    with db.reading() as s:
        assert s.get(Commission, row.id).state == "paid"


def test_plan_by_product_and_the_first_plan_is_the_default(db, team):
    first = _plan(db, team, name="Base", rate="5")
    _plan(db, team, name="Gold deals", rate="10", product_filter="Gold")
    assert first.is_default
    gold = _convert(
        db, _lead(db, phone="+447700900001"), team["maria"].actor, value="100", product="gold"
    )
    other = _convert(
        db, _lead(db, phone="+447700900002"), team["maria"].actor, value="100", product="Silver"
    )
    assert (gold.commission_plan, gold.commission_total) == ("Gold deals", Decimal("10.00"))
    assert (other.commission_plan, other.commission_total) == ("Base", Decimal("5.00"))


def test_onboarding_skips_weekends_and_holidays(db, team):
    db.write(lambda s: set_setting(s, "holidays", "2026-11-30", actor=SYSTEM))
    friday = datetime(2026, 11, 27, 16, tzinfo=UTC)
    clock.set_clock(lambda: friday)
    result = _convert(db, _lead(db), team["maria"].actor, value="10")
    # day 0 Fri 27; day 2: Mon 30 is a holiday → Tue 1, Wed 2; day 10: Mon 14 Dec
    assert [t.due_on for t in result.tasks] == [
        date(2026, 11, 27),
        date(2026, 12, 2),
        date(2026, 12, 14),
    ]
    saturday = datetime(2026, 11, 28, 12, tzinfo=UTC)
    clock.set_clock(lambda: saturday)
    later = _convert(db, _lead(db, phone="+447700900555"), team["maria"].actor, value="10")
    assert later.tasks[0].due_on == date(2026, 12, 1)  # day 0 of a Saturday sale: Tue (Mon off)


def test_sweep_marks_onboarding_tasks_missed(db, team):
    _convert(db, _lead(db, owner=team["ana"]), team["ana"].actor, value="10")
    report = sweep(db, now=datetime(2026, 11, 26, 0, 30, tzinfo=UTC))  # Thu: Wed's call missed
    assert report.missed_tasks == 1
    with db.reading() as s:
        states = list(s.execute(select(OnboardingTask.state).order_by(OnboardingTask.id)).scalars())
    assert states == [TaskState.MISSED, TaskState.OPEN, TaskState.OPEN]
    assert sweep(db, now=datetime(2026, 11, 26, 0, 45, tzinfo=UTC)).missed_tasks == 0


def test_finishing_a_task_is_for_its_owner_or_a_manager(db, team):
    _convert(db, _lead(db, owner=team["ana"]), team["ana"].actor, value="10")
    with pytest.raises(PermissionDeniedError):
        db.write(lambda s: onboarding.finish_task(s, 1, TaskState.DONE, actor=team["bruno"].actor))
    db.write(lambda s: onboarding.finish_task(s, 1, TaskState.DONE, actor=team["ana"].actor))
    with pytest.raises(ConflictError, match="already done"):
        db.write(
            lambda s: onboarding.finish_task(s, 1, TaskState.SKIPPED, actor=team["maria"].actor)
        )


@pytest.mark.slow
def test_two_processes_converting_one_lead_give_one_sale(db, db_url, team):
    """Two managers press convert at the same moment, each in their own process."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    from leadms_tui.domain.team.users import add_user
    from tests.workers import convert_at

    clock.set_clock(None)  # the children read the real clock; so does this test from here on
    lead_id = _lead(db)
    other = _lead(db, phone="+447700900777", email="x@example.com")
    chief = db.write(
        lambda s: add_user(s, "chief", role="manager", actor=SYSTEM, password="secret")
    )
    start_at = time.monotonic() + 2.0
    with ProcessPoolExecutor(2, mp_context=get_context("spawn")) as pool:
        futures = [
            pool.submit(convert_at, db_url, lead_id, user.username, user.id, start_at)
            for user in (team["maria"], chief)
        ]
        outcomes = sorted(f.result(timeout=120) for f in futures)
    (converted, client), (refused, message) = outcomes
    assert (converted, refused) == ("converted", "refused")
    assert client == "CL-000001"
    assert "already converted by" in message and "(client CL-000001)" in message
    assert _count(db, Sale) == 1 and _count(db, Client) == 1 and _count(db, Commission) == 0
    with db.reading() as s:
        assert s.execute(select(func.count()).select_from(OnboardingTask)).scalar_one() == 3
    # and the next client takes the next number: nothing was used up by the refusal
    second = _convert(db, other, team["maria"].actor, value="5")
    assert second.client_number == "CL-000002"


def test_missed_onboarding_tasks_count_as_missed_commitments(db, team):
    from leadms_tui.domain.queries.commitments import missed_commitments

    _convert(db, _lead(db, owner=team["ana"]), team["ana"].actor, value="10")
    sweep(db, now=datetime(2026, 11, 26, 0, 30, tzinfo=UTC))
    with db.reading() as s:
        counts = missed_commitments(
            session=s,
            timezone="Europe/London",
            date_from=date(2026, 11, 23),
            date_to=date(2026, 11, 29),
        )
    assert counts == {("ana", date(2026, 11, 25)): 1}


def test_an_edit_cannot_mark_a_lead_won_without_a_sale(db, team):
    from leadms_tui.domain.leads.edits import LeadUpdate, update_lead
    from leadms_tui.domain.models import LeadStatus

    lead_id = _lead(db)
    with pytest.raises(ValidationError, match="won by converting it"):
        db.write(
            lambda s: update_lead(
                s,
                lead_id,
                LeadUpdate(status=LeadStatus.WON),
                expected_version=1,
                actor=team["maria"].actor,
            )
        )


# --- money needs two people (issue 23) ------------------------------------------------


def _rows(db, viewer, **filters):
    with db.reading() as s:
        return list_commissions(
            session=s, start=date(2026, 11, 1), end=date(2026, 12, 1), viewer=viewer, **filters
        )


def _move(db, ids, to, actor):
    return db.write(lambda s: commission.move_commissions(s, ids, to, actor=actor))


def test_nobody_approves_or_pays_a_commission_they_earn(db, team):
    from leadms_tui.domain.models import Role
    from leadms_tui.domain.team.users import add_user

    olga = db.write(
        lambda s: add_user(s, "olga", role=Role.MANAGER, actor=SYSTEM, password="secret")
    )
    _plan(db, team, rate="10")
    maria = team["maria"].actor
    _convert(db, _lead(db, owner=team["maria"]), maria, value="100")
    (row,) = _rows(db, maria)
    assert not row.parties.marked  # her own lead: no ⚑, but still not hers to approve
    with pytest.raises(PermissionDeniedError, match="is your own: another manager or admin"):
        _move(db, [row.id], CommissionState.APPROVED, maria)
    assert _move(db, [row.id], CommissionState.APPROVED, olga.actor) == 1
    with pytest.raises(PermissionDeniedError, match="pays it"):
        _move(db, [row.id], CommissionState.PAID, maria)
    assert _move(db, [row.id], CommissionState.PAID, olga.actor) == 1


def test_a_closers_share_of_anothers_lead_is_marked_for_a_second_manager(db, team):
    _plan(db, team, rate="10")
    maria = team["maria"].actor
    _convert(db, _lead(db, owner=team["ana"]), maria, value="100", split="60/40")
    rows = _rows(db, maria)
    assert [(r.rep, r.share, r.parties.marked) for r in rows] == [
        ("ana", Decimal("60.00"), True),
        ("maria", Decimal("40.00"), True),
    ]
    with pytest.raises(PermissionDeniedError, match="your conversion of another's lead"):
        _move(db, [rows[0].id], CommissionState.APPROVED, maria)  # the 60% she left ana
    with pytest.raises(PermissionDeniedError, match="is your own"):
        _move(db, [rows[1].id], CommissionState.APPROVED, maria)  # her 40%
    assert commission.two_people_refusal(rows[0].parties, CommissionState.APPROVED, SYSTEM) is None


def test_a_rep_sees_only_their_own_commissions(db, team):
    _plan(db, team, rate="10")
    _convert(db, _lead(db, owner=team["ana"]), team["ana"].actor, value="100")
    bruno_lead = _lead(db, name="Bo", phone="+447700900200", owner=team["bruno"])
    _convert(db, bruno_lead, team["bruno"].actor, value="200")
    assert [r.rep for r in _rows(db, team["ana"].actor)] == ["ana"]
    assert [r.rep for r in _rows(db, team["maria"].actor)] == ["ana", "bruno"]
    with pytest.raises(PermissionDeniedError, match="only their own"):
        _rows(db, team["ana"].actor, rep_id=team["bruno"].id)
