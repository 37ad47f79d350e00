"""The edges of money and commissions that a change could move unnoticed (issue 26): the
largest amount, rate and share limits, who approved, the version each move bumps, and sales
on the first and last day of a payroll month."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from leadms_tui.domain import clock
from leadms_tui.domain.audit import SYSTEM, Actor
from leadms_tui.domain.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import (
    AuditEvent,
    Commission,
    CommissionPlan,
    CommissionState,
    Lead,
)
from leadms_tui.domain.queries.sales import list_commissions
from leadms_tui.domain.sales import commission
from leadms_tui.domain.sales.conversion import ConversionRequest, convert_lead
from leadms_tui.domain.sales.money import (
    MAX_AMOUNT,
    format_money,
    parse_amount,
    parse_percent,
)
from leadms_tui.domain.team.settings import set_setting


def test_the_largest_amount_is_accepted_a_cent_more_is_not():
    assert parse_amount(str(MAX_AMOUNT), "USD") == MAX_AMOUNT
    with pytest.raises(ValidationError, match="too large"):
        parse_amount(str(MAX_AMOUNT + Decimal("0.01")), "USD")


@pytest.mark.parametrize("rate", ["100", "100%", "0.0001", "12.3456"])
def test_rates_up_to_100_with_four_decimals_are_accepted(rate):
    assert parse_percent(rate) == Decimal(rate.rstrip("%"))


@pytest.mark.parametrize(
    ("rate", "why"),
    [
        ("0", "more than 0 and at most 100"),
        ("100.0001", "more than 0 and at most 100"),
        ("-5", "cannot be negative"),
        ("12.34567", "more than 4 decimals"),
        ("ten", "is not a number"),
        ("NaN", "is not a number"),
    ],
)
def test_rates_outside_the_limits_are_refused(rate, why):
    with pytest.raises(ValidationError, match=why) as refused:
        parse_percent(rate)
    assert str(refused.value).startswith("rate ")  # says which value is wrong


def test_shares_have_the_rate_limits_and_add_up_to_100():
    assert commission.parse_split("33.3333/66.6667") == (Decimal("33.3333"), Decimal("66.6667"))
    with pytest.raises(ValidationError, match="more than 4 decimals"):
        commission.parse_split("33.33333/66.66667")
    with pytest.raises(ValidationError, match="do not add up to 100"):
        commission.parse_split("60/41")


def test_format_money_of_nothing_is_empty():
    assert format_money(None, "USD") == ""
    assert format_money(Decimal("1234.5"), "usd") == "1,234.50 USD"


@pytest.mark.parametrize(
    ("month", "bounds"),
    [
        ("2026-11", (date(2026, 11, 1), date(2026, 12, 1))),
        ("2026-12", (date(2026, 12, 1), date(2027, 1, 1))),
        ("2027-01", (date(2027, 1, 1), date(2027, 2, 1))),
    ],
)
def test_month_bounds(month, bounds):
    assert commission.month_bounds(month) == bounds


@pytest.mark.parametrize("month", ["2026-13", "2026", "nov", "2026-11-01"])
def test_a_month_not_read_as_yyyy_mm_is_refused(month):
    with pytest.raises(ValidationError, match="should read YYYY-MM"):
        commission.month_bounds(month)


def _sell_at(db, team, at: datetime, name: str) -> None:
    clock.set_clock(lambda: at)
    try:
        data = LeadCreate(name=name, channel="website", email=f"{name}@example.org")
        lead = create_lead(db, data, actor=SYSTEM)
        db.write(lambda s: setattr(s.get(Lead, lead.lead_id), "owner_id", team["ana"].id))
        request = ConversionRequest(value="100")
        db.write(lambda s: convert_lead(s, lead.lead_id, request, actor=team["ana"].actor))
    finally:
        clock.set_clock(None)


def _month(db, month: str) -> list[str]:
    start, end = commission.month_bounds(month)
    with db.reading() as session:
        return [
            row.lead_number
            for row in list_commissions(session=session, start=start, end=end, viewer=SYSTEM)
        ]


def test_sales_on_the_first_and_last_day_belong_to_their_month(db, team):
    db.write(
        lambda s: commission.add_plan(
            s, "Standard", currency="USD", actor=team["maria"].actor, rate="10"
        )
    )
    _sell_at(db, team, datetime(2026, 11, 1, 0, 5, tzinfo=UTC), "first")  # London = UTC
    _sell_at(db, team, datetime(2026, 11, 30, 23, 55, tzinfo=UTC), "last")
    _sell_at(db, team, datetime(2026, 12, 1, 0, 5, tzinfo=UTC), "next")
    numbers = _lead_numbers(db)
    assert _month(db, "2026-11") == [numbers["first"], numbers["last"]]
    assert _month(db, "2026-12") == [numbers["next"]]
    assert _month(db, "2026-10") == []


def _lead_numbers(db) -> dict[str, str]:
    with db.reading() as session:
        return {lead.name: lead.number for lead in session.execute(select(Lead)).scalars()}


def test_approval_records_who_and_each_move_bumps_the_version(db, team):
    maria = team["maria"]
    db.write(
        lambda s: commission.add_plan(s, "Standard", currency="USD", actor=maria.actor, rate="10")
    )
    _sell_at(db, team, datetime(2026, 11, 25, 10, tzinfo=UTC), "ana-client")
    with db.reading() as session:
        (row,) = session.execute(select(Commission)).scalars().all()
    assert (row.version, row.approved_by_id, row.approved_at) == (1, None, None)
    approved_at = datetime(2026, 11, 26, 9, tzinfo=UTC)
    moves = (
        (CommissionState.APPROVED, approved_at, maria.actor),
        (CommissionState.PAID, None, SYSTEM),
    )
    for state, at, actor in moves:
        db.write(
            lambda s, state=state, at=at, actor=actor: commission.move_commissions(
                s, [row.id], state, actor=actor, now=at
            )
        )
        with db.reading() as session:  # approving says who; paying (by another) keeps it
            assert session.get(Commission, row.id).approved_by_id == maria.id
    with db.reading() as session:
        stored = session.get(Commission, row.id)
        events = session.execute(
            select(AuditEvent.action, AuditEvent.actor)
            .where(AuditEvent.entity == "commission")
            .order_by(AuditEvent.id)
        ).all()
    assert (stored.state, stored.version, stored.approved_by_id) == ("paid", 3, maria.id)
    assert clock.as_utc(stored.approved_at) == approved_at
    assert stored.paid_at is not None
    assert [tuple(e) for e in events][-2:] == [
        ("commission.approved", "maria"),
        ("commission.paid", "system"),
    ]
    with pytest.raises(NotFoundError, match="no commission #999"):
        db.write(
            lambda s: commission.move_commissions(
                s, [999], CommissionState.APPROVED, actor=maria.actor
            )
        )


def test_an_amount_refused_names_what_it_is():
    with pytest.raises(ValidationError) as refused:
        parse_amount("0", "USD")
    assert str(refused.value) == "value must be more than 0, got '0'"
    with pytest.raises(ValidationError) as refused:
        parse_amount(" 1.5 ", "JPY", what="cap")
    assert str(refused.value) == "cap '1.5' has more than 0 decimals for JPY"


# -- commission: plans, totals and shares (pure) -------------------------------------------


@pytest.mark.parametrize(
    ("terms", "text"),
    [
        ({"flat": "50"}, "flat 50.00 USD"),
        ({"flat": "5", "product_filter": "Gold"}, "flat 5.00 USD, for Gold"),
        ({"rate": "7.50"}, "7.5% of the value"),
        ({"rate": "10", "cap": "500"}, "10% of the value, capped at 500.00 USD"),
        ({"rate": "10", "cap": "500", "product_filter": "Gold"},
         "10% of the value, capped at 500.00 USD, for Gold"),
    ],
)  # fmt: skip
def test_a_plan_reads_as_its_terms(terms, text):
    values = {k: Decimal(v) if k != "product_filter" else v for k, v in terms.items()}
    info = commission.PlanInfo(
        1, "p", values.get("rate"), values.get("flat"), values.get("cap"),
        values.get("product_filter"), False,
    )  # fmt: skip
    assert info.describe("usd") == text


def _plan_row(**terms: str) -> CommissionPlan:
    return CommissionPlan(name="p", **{k: Decimal(v) for k, v in terms.items()})


def test_what_a_sale_earns_by_each_kind_of_plan():
    total = commission.commission_total
    assert total(None, Decimal("100"), "USD") == Decimal("0")  # no plan, no commission
    assert total(_plan_row(flat="12.345"), Decimal("999"), "USD") == Decimal("12.35")
    assert total(_plan_row(rate="7.5"), Decimal("200"), "USD") == Decimal("15.00")
    assert total(_plan_row(rate="10", cap="12.345"), Decimal("500"), "USD") == Decimal("12.35")
    assert total(_plan_row(rate="10", cap="500"), Decimal("200"), "USD") == Decimal("20.00")


def test_split_amounts_give_the_rounding_remainder_to_the_last_share():
    split = commission.split_amounts
    thirds = [Decimal("33.33"), Decimal("33.33"), Decimal("33.34")]
    assert split(Decimal("10.00"), thirds, "USD") == [Decimal(a) for a in ("3.33", "3.33", "3.34")]
    assert split(Decimal("0.05"), [Decimal(50), Decimal(50)], "USD") == [
        Decimal("0.03"),  # 0.025 half-up
        Decimal("0.02"),
    ]
    assert split(Decimal("7.00"), [Decimal(100)], "USD") == [Decimal("7.00")]
    with pytest.raises(ValidationError) as refused:
        split(Decimal("10"), [Decimal(60), Decimal(30)], "USD")
    assert str(refused.value) == "commission shares must add up to 100%, got 90%"


def test_a_split_reads_owner_slash_closer():
    assert commission.parse_split("60%/40%") == (Decimal(60), Decimal(40))
    assert commission.parse_split(" 60 % / 40 % ") == (Decimal(60), Decimal(40))
    with pytest.raises(ValidationError, match="'6%0' is not a number"):  # was read as 60
        commission.parse_split("6%0/4%0")
    assert commission.parse_split("60,5/39,5", "1.234,50") == (Decimal("60.5"), Decimal("39.5"))
    for text in ("60/40/0", "100"):
        with pytest.raises(ValidationError) as refused:
            commission.parse_split(text)
        assert str(refused.value) == f"split {text!r} should read OWNER/CLOSER, e.g. 60/40"
    with pytest.raises(ValidationError) as refused:
        commission.parse_split("60/41")
    assert str(refused.value) == "shares '60/41' do not add up to 100%"
    with pytest.raises(ValidationError, match=r"^share "):  # says which value is wrong
        commission.parse_split("60/0")


@pytest.mark.parametrize(
    ("closer", "owner", "marked"),
    [(None, 2, False), (1, None, False), (None, None, False), (1, 1, False), (1, 2, True)],
)
def test_a_sale_is_marked_when_its_closer_did_not_own_the_lead(closer, owner, marked):
    assert commission.Parties(9, 1, closer, owner).marked is marked


def test_who_may_approve_or_pay_is_said_exactly():
    refusal = commission.two_people_refusal
    approved, paid = CommissionState.APPROVED, CommissionState.PAID
    maria, olga = Actor(1, "maria", "manager"), Actor(3, "olga", "manager")
    own = commission.Parties(7, 1, 1, 1)
    assert refusal(own, approved, maria) == (
        "commission #7 is your own: another manager or admin approves it"
    )
    assert (
        refusal(own, paid, maria) == "commission #7 is your own: another manager or admin pays it"
    )
    assert refusal(own, approved, olga) is None
    assert refusal(own, approved, SYSTEM) is None
    marked = commission.Parties(8, 2, 1, 2)  # maria closed ana's (2) lead; this is ana's share
    assert refusal(marked, approved, maria) == (
        "commission #8 is of your conversion of another's lead (⚑ split): "
        "another manager or admin approves it"
    )
    assert refusal(marked, paid, maria) is None  # once approved by another, she may pay it
    assert refusal(marked, approved, olga) is None


def test_a_rep_lists_only_their_own_commissions_others_anyones():
    rep, manager = Actor(5, "ana", "rep"), Actor(1, "maria", "manager")
    assert commission.visible_commissions(manager, None) is None
    assert commission.visible_commissions(manager, 5) == 5
    assert commission.visible_commissions(SYSTEM, 6) == 6
    assert commission.visible_commissions(rep, None) == 5
    assert commission.visible_commissions(rep, 5) == 5
    with pytest.raises(PermissionDeniedError) as refused:
        commission.visible_commissions(rep, 6)
    assert str(refused.value) == "a rep sees only their own commissions"


# -- commission: plans and payroll moves (database) ----------------------------------------


def _add(db, actor, name, **terms):
    return db.write(lambda s: commission.add_plan(s, name, currency="USD", actor=actor, **terms))


@pytest.mark.parametrize(
    ("name", "terms", "message"),
    [
        ("  ", {"rate": "5"}, "a commission plan needs a name"),
        ("P", {}, "give either a rate (percent of the value) or a flat amount"),
        (
            "P",
            {"rate": "5", "flat": "5"},
            "give either a rate (percent of the value) or a flat amount",
        ),
        ("P", {"flat": "5", "cap": "10"}, "a cap applies to a percentage plan only"),
        ("P", {"rate": "5", "cap": "0"}, "cap must be more than 0, got '0'"),
        ("P", {"flat": "1.234"}, "flat amount '1.234' has more than 2 decimals for USD"),
    ],
)
def test_a_plan_that_does_not_make_sense_is_refused(db, team, name, terms, message):
    with pytest.raises(ValidationError) as refused:
        _add(db, team["maria"].actor, name, **terms)
    assert str(refused.value) == message
    with db.reading() as session:
        assert commission.list_plans(session) == []


def test_plans_are_added_by_managers_named_once_and_audited(db, team):
    maria = team["maria"].actor
    with pytest.raises(PermissionDeniedError) as refused:
        _add(db, team["ana"].actor, "Mine", rate="50")
    assert str(refused.value) == "only a manager or an admin can add commission plans"
    base = _add(db, maria, " Base ", rate="5")
    assert (base.name, base.rate, base.flat, base.cap) == ("Base", Decimal("5"), None, None)
    with pytest.raises(ConflictError, match="a commission plan named 'Base' exists"):
        _add(db, maria, "Base", flat="1")
    _add(db, maria, "Other", flat="1")  # another name is fine
    with db.reading() as session:
        events = session.execute(
            select(AuditEvent.action, AuditEvent.entity, AuditEvent.entity_id)
            .where(AuditEvent.action.like("commission_plan%"))
            .order_by(AuditEvent.id)
        ).all()
        stored = session.execute(select(CommissionPlan).order_by(CommissionPlan.id)).scalars()
        ids = [p.id for p in stored]
    assert [tuple(e) for e in events] == [
        ("commission_plan.add", "commission_plan", str(i)) for i in ids
    ]


def test_the_first_plan_is_the_default_until_another_is_marked(db, team):
    maria = team["maria"].actor
    _add(db, maria, "Base", rate="5")
    _add(db, maria, "Gold", rate="10", product_filter=" Gold ")
    with db.reading() as session:
        assert [(p.name, p.is_default, p.product_filter) for p in commission.list_plans(session)] == [  # noqa: E501
            ("Base", True, None), ("Gold", False, "Gold")
        ]  # fmt: skip
    _add(db, maria, "New", flat="20", make_default=True)
    with db.reading() as session:
        assert [(p.name, p.is_default) for p in commission.list_plans(session)] == [
            ("Base", False), ("Gold", False), ("New", True)
        ]  # fmt: skip


def test_a_plan_is_typed_in_the_teams_number_format(db, team):
    db.write(lambda s: set_setting(s, "number_format", "1.234,50", actor=SYSTEM))
    plan = _add(db, team["maria"].actor, "Euro", rate="7,5", cap="1.000,50")
    assert (plan.rate, plan.cap) == (Decimal("7.5"), Decimal("1000.50"))


def test_the_plan_a_sale_uses(db, team):
    maria = team["maria"].actor
    with db.reading() as session:
        assert commission.choose_plan(session, "Gold", None) is None  # no plans: none
        with pytest.raises(ValidationError) as refused:
            commission.choose_plan(session, None, "Gold")
        assert str(refused.value) == "unknown commission plan 'Gold' (plans: none yet)"
    _add(db, maria, "Base", rate="5")
    _add(db, maria, "Gold deals", rate="10", product_filter="Gold")
    _add(db, maria, "Flat", flat="3")
    with db.reading() as session:
        choose = commission.choose_plan
        assert choose(session, " gOLD ", None).name == "Gold deals"
        assert choose(session, "Silver", None).name == "Base"
        assert choose(session, None, None).name == "Base"
        assert choose(session, "Gold", " Flat ").name == "Flat"  # the named plan wins
        with pytest.raises(ValidationError) as refused:
            choose(session, None, "Platinum")
        assert str(refused.value) == (
            "unknown commission plan 'Platinum' (plans: Base, Flat, Gold deals)"
        )


def _sell(db, team, name: str, split: str | None = None, closer: str = "ana") -> int:
    data = LeadCreate(name=name, channel="website", email=f"{name}@example.org")
    lead = create_lead(db, data, actor=SYSTEM)
    db.write(lambda s: setattr(s.get(Lead, lead.lead_id), "owner_id", team["ana"].id))
    request = ConversionRequest(value="100", split=split)
    actor = team[closer].actor
    return db.write(lambda s: convert_lead(s, lead.lead_id, request, actor=actor)).sale_id


def _commissions(db) -> list[tuple[str, int, Decimal]]:
    with db.reading() as session:
        rows = session.execute(select(Commission).order_by(Commission.id)).scalars()
        return [(row.state, row.version, Decimal(row.amount)) for row in rows]


def test_no_plan_or_a_zero_total_makes_no_commission_rows(db, team):
    _sell(db, team, "noplan")
    assert _commissions(db) == []
    _add(db, team["maria"].actor, "One", flat="1")
    _sell(db, team, "one")
    assert _commissions(db) == [("pending", 1, Decimal("1.00"))]


def test_each_commission_made_by_a_sale_is_audited_with_its_id(db, team):
    maria = team["maria"].actor
    _add(db, maria, "Base", rate="10")
    _sell(db, team, "split", split="60/40", closer="maria")
    with db.reading() as session:
        ids = session.execute(select(Commission.id).order_by(Commission.id)).scalars().all()
        events = session.execute(
            select(AuditEvent.entity_id, AuditEvent.changes)
            .where(AuditEvent.action == "commission.create")
            .order_by(AuditEvent.id)
        ).all()
    assert len(ids) == 2
    assert [entity_id for entity_id, _ in events] == [str(i) for i in ids]
    assert [changes["id"] for _, changes in events] == [[None, i] for i in ids]
    assert [changes["amount"][1] for _, changes in events] == ["6.00", "4.00"]


def test_voiding_a_sale_voids_each_live_commission_once(db, team):
    maria = team["maria"].actor
    _add(db, maria, "Base", rate="10")
    sale_id = _sell(db, team, "split", split="60/40", closer="maria")
    at = datetime(2026, 11, 27, 9, tzinfo=UTC)
    assert db.write(lambda s: commission.void_commissions(s, sale_id, maria, at)) == 2
    assert db.write(lambda s: commission.void_commissions(s, sale_id, maria, at)) == 0
    assert db.write(lambda s: commission.void_commissions(s, 999, maria, at)) == 0
    assert _commissions(db) == [("void", 2, Decimal("6.00")), ("void", 2, Decimal("4.00"))]
    with db.reading() as session:
        events = session.execute(
            select(AuditEvent.action, AuditEvent.at).where(AuditEvent.entity == "commission")
            .where(AuditEvent.action == "commission.void")
        ).all()  # fmt: skip
        voided = session.execute(select(Commission.voided_at)).scalars().all()
    assert [(action, clock.as_utc(when)) for action, when in events] == [
        ("commission.void", at)
    ] * 2
    assert [clock.as_utc(v) for v in voided] == [at, at]


def test_moving_commissions_is_all_or_none_and_says_which_one_stops_it(db, team):
    maria = team["maria"].actor
    _add(db, maria, "Base", rate="10")
    _sell(db, team, "first")
    _sell(db, team, "second")
    with db.reading() as session:
        first, second = session.execute(select(Commission.id).order_by(Commission.id)).scalars()
    approve = CommissionState.APPROVED
    db.write(lambda s: commission.move_commissions(s, [second], approve, actor=maria))
    with pytest.raises(ValidationError) as refused:
        db.write(lambda s: commission.move_commissions(s, [first, second], approve, actor=maria))
    assert str(refused.value) == (
        f"commission #{second} is approved; only pending ones can be marked approved"
    )
    with pytest.raises(NotFoundError):
        db.write(lambda s: commission.move_commissions(s, [first, 999], approve, actor=maria))
    assert [state for state, _, _ in _commissions(db)] == ["pending", "approved"]
    with pytest.raises(PermissionDeniedError) as denied:
        db.write(
            lambda s: commission.move_commissions(s, [first], approve, actor=team["ana"].actor)
        )
    assert str(denied.value) == "only a manager or an admin can mark commissions approved"
    moved = db.write(lambda s: commission.move_commissions(s, [first], approve, actor=maria))
    assert moved == 1
    with db.reading() as session:
        stamped = session.get(Commission, first).approved_at
    assert clock.as_utc(stamped) <= clock.now()  # no `now` given: the clock's
    assert clock.now() - clock.as_utc(stamped) < timedelta(minutes=5)
