"""The edges of money and commissions that a change could move unnoticed (issue 26): the
largest amount, rate and share limits, who approved, the version each move bumps, and sales
on the first and last day of a payroll month."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from leadms_tui.domain import clock
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.errors import NotFoundError, ValidationError
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import AuditEvent, Commission, CommissionState, Lead
from leadms_tui.domain.repositories.sales import list_commissions
from leadms_tui.domain.sales import commission
from leadms_tui.domain.sales.conversion import ConversionRequest, convert_lead
from leadms_tui.domain.sales.money import (
    MAX_AMOUNT,
    format_money,
    parse_amount,
    parse_percent,
)


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
    for state, at in ((CommissionState.APPROVED, approved_at), (CommissionState.PAID, None)):
        db.write(
            lambda s, state=state, at=at: commission.move_commissions(
                s, [row.id], state, actor=maria.actor, now=at
            )
        )
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
        ("commission.paid", "maria"),
    ]
    with pytest.raises(NotFoundError, match="no commission #999"):
        db.write(
            lambda s: commission.move_commissions(
                s, [999], CommissionState.APPROVED, actor=maria.actor
            )
        )
