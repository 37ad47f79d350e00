"""Commission: the plans (settings), the amount a sale earns and how it is shared, and the
payroll states of each share (pending → approved → paid, or void)."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlmodel import Session

from leadms_tui.domain import audit, clock
from leadms_tui.domain.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from leadms_tui.domain.models import (
    Commission,
    CommissionPlan,
    CommissionState,
    Role,
    Sale,
    saved_id,
)
from leadms_tui.domain.numbers import DEFAULT_FORMAT
from leadms_tui.domain.sales.money import format_money, parse_amount, parse_percent, round_money
from leadms_tui.domain.team.settings import load_settings


@dataclass(frozen=True)
class PlanInfo:
    id: int
    name: str
    rate: Decimal | None
    flat: Decimal | None
    cap: Decimal | None
    product_filter: str | None
    is_default: bool

    def describe(self, currency: str) -> str:
        if self.flat is not None:
            terms = f"flat {format_money(self.flat, currency)}"
        else:
            terms = f"{self.rate.normalize():f}% of the value"  # type: ignore[union-attr]
            if self.cap is not None:
                terms += f", capped at {format_money(self.cap, currency)}"
        if self.product_filter:
            terms += f", for {self.product_filter}"
        return terms


def _info(plan: CommissionPlan) -> PlanInfo:
    return PlanInfo(
        saved_id(plan),
        plan.name,
        plan.rate,
        plan.flat,
        plan.cap,
        plan.product_filter,
        plan.is_default,
    )


def add_plan(
    session: Session,
    name: str,
    *,
    currency: str,
    number_format: str | None = None,  # default: the team's
    rate: str | None = None,
    flat: str | None = None,
    cap: str | None = None,
    product_filter: str | None = None,
    make_default: bool = False,
    actor: audit.Actor,
) -> PlanInfo:
    """A new commission plan; the first one added is the default until another is marked."""
    require_manager(actor, "add commission plans")
    name = name.strip()
    if not name:
        raise ValidationError("a commission plan needs a name")
    number_format = number_format or load_settings(session).numbers
    if (rate is None) == (flat is None):
        raise ValidationError("give either a rate (percent of the value) or a flat amount")
    if cap is not None and rate is None:
        raise ValidationError("a cap applies to a percentage plan only")
    if session.execute(select(CommissionPlan.id).where(CommissionPlan.name == name)).first():
        raise ConflictError(f"a commission plan named {name!r} exists")
    plan = CommissionPlan(
        name=name,
        rate=parse_percent(rate, number_format=number_format) if rate is not None else None,
        flat=_amount(flat, currency, number_format, "flat amount"),
        cap=_amount(cap, currency, number_format, "cap"),
        product_filter=(product_filter or "").strip() or None,
        created_at=clock.now(),
    )
    first = not session.execute(select(func.count()).select_from(CommissionPlan)).scalar_one()
    if make_default or first:
        _clear_default(session)
        plan.is_default = True
    session.add(plan)
    session.flush()
    audit.record_row(session, actor, "commission_plan.add", plan)
    return _info(plan)


def _amount(text: str | None, currency: str, number_format: str, what: str) -> Decimal | None:
    if text is None:
        return None
    return parse_amount(text, currency, number_format=number_format, what=what)


def _clear_default(session: Session) -> None:
    for plan in session.execute(select(CommissionPlan).where(CommissionPlan.is_default)).scalars():
        plan.is_default = False


def list_plans(session: Session) -> list[PlanInfo]:
    plans = session.execute(
        select(CommissionPlan).where(CommissionPlan.active).order_by(CommissionPlan.name)
    ).scalars()
    return [_info(plan) for plan in plans]


def choose_plan(session: Session, product: str | None, name: str | None) -> CommissionPlan | None:
    """The named plan; else the plan for this product; else the default; None if no plans."""
    active = select(CommissionPlan).where(CommissionPlan.active)
    if name:
        plan = session.execute(active.where(CommissionPlan.name == name.strip())).scalar()
        if plan is None:
            known = ", ".join(p.name for p in list_plans(session)) or "none yet"
            raise ValidationError(f"unknown commission plan {name!r} (plans: {known})")
        return plan
    if product:
        by_product = session.execute(
            active.where(
                func.lower(CommissionPlan.product_filter) == product.strip().lower()
            ).order_by(CommissionPlan.id)
        ).scalar()
        if by_product is not None:
            return by_product
    return session.execute(active.where(CommissionPlan.is_default)).scalar()


def commission_total(plan: CommissionPlan | None, value: Decimal, currency: str) -> Decimal:
    """What the sale earns by `plan`, rounded half-up to the minor unit (exact decimals)."""
    if plan is None:
        return Decimal(0)
    if plan.flat is not None:
        return round_money(Decimal(plan.flat), currency)
    total = round_money(value * Decimal(plan.rate) / 100, currency)  # type: ignore[arg-type]
    if plan.cap is not None:
        total = min(total, round_money(Decimal(plan.cap), currency))
    return total


def split_amounts(total: Decimal, shares: list[Decimal], currency: str) -> list[Decimal]:
    """Each share's amount, half-up; the last share takes the rounding remainder so the
    amounts always add up to the total exactly."""
    if sum(shares) != 100:
        raise ValidationError(f"commission shares must add up to 100%, got {sum(shares)}%")
    amounts = [round_money(total * share / 100, currency) for share in shares[:-1]]
    return [*amounts, total - sum(amounts, Decimal(0))]


def parse_split(text: str, number_format: str = DEFAULT_FORMAT) -> tuple[Decimal, Decimal]:
    """'60/40': the lead owner's share and the closing rep's, adding up to 100."""
    parts = text.split("/")  # each share may end in "%" (parse_percent drops it), only end
    if len(parts) != 2:
        raise ValidationError(f"split {text!r} should read OWNER/CLOSER, e.g. 60/40")
    owner, closer = (
        parse_percent(part, number_format=number_format, what="share") for part in parts
    )
    if owner + closer != 100:
        raise ValidationError(f"shares {text!r} do not add up to 100%")
    return owner, closer


def record_commissions(
    session: Session, sale: Sale, shares: list[tuple[int, Decimal]], at: datetime
) -> list[Commission]:
    """One pending commission row per (user, share) of the sale's frozen total."""
    if not shares or sale.commission_total == 0:
        return []
    amounts = split_amounts(Decimal(sale.commission_total), [s for _, s in shares], sale.currency)
    rows = [
        Commission(
            sale_id=saved_id(sale),
            user_id=user_id,
            share=share,
            amount=amount,
            created_at=at,
        )
        for (user_id, share), amount in zip(shares, amounts, strict=True)
    ]
    session.add_all(rows)
    session.flush()
    return rows


def require_manager(actor: audit.Actor, what: str) -> None:
    if actor.role not in (None, Role.MANAGER, Role.ADMIN):
        raise PermissionDeniedError(f"only a manager or an admin can {what}")


@dataclass(frozen=True)
class Parties:
    """Who a commission concerns: who earns it, who converted the sale, and who owned the
    lead when it was sold."""

    commission_id: int
    earner_id: int
    closer_id: int | None
    lead_owner_id: int | None

    @property
    def marked(self) -> bool:
        """⚑: the converting user took a share of a lead someone else owned."""
        return None not in (self.closer_id, self.lead_owner_id) and (
            self.closer_id != self.lead_owner_id
        )


def two_people_refusal(parties: Parties, to: CommissionState, actor: audit.Actor) -> str | None:
    """Why `actor` may not move this commission to `to`, or None. Nobody approves or pays a
    commission they earn, and a marked sale (the closer's share of another's lead) is
    approved by a manager or admin other than its closer."""
    if actor.user_id is None:  # an automatic process earns nothing
        return None
    verb = "approves" if to == CommissionState.APPROVED else "pays"
    if parties.earner_id == actor.user_id:
        return (
            f"commission #{parties.commission_id} is your own: another manager or admin {verb} it"
        )
    if to == CommissionState.APPROVED and parties.marked and parties.closer_id == actor.user_id:
        return (
            f"commission #{parties.commission_id} is of your conversion of another's lead "
            "(⚑ split): another manager or admin approves it"
        )
    return None


def visible_commissions(viewer: audit.Actor, rep_id: int | None) -> int | None:
    """Whose commissions `viewer` may list (None: everyone's): a rep only their own, and
    asking for someone else's is refused."""
    if not viewer.is_rep:
        return rep_id
    if rep_id is not None and rep_id != viewer.user_id:
        raise PermissionDeniedError("a rep sees only their own commissions")
    return viewer.user_id


_MOVES = {  # state → (states it may come from, timestamp column)
    CommissionState.APPROVED: ((CommissionState.PENDING,), "approved_at"),
    CommissionState.PAID: ((CommissionState.APPROVED,), "paid_at"),
}


def move_commissions(
    session: Session,
    ids: list[int],
    to: CommissionState,
    *,
    actor: audit.Actor,
    now: datetime | None = None,
) -> int:
    """Approve (pending → approved) or pay (approved → paid) commissions, all or none."""
    require_manager(actor, f"mark commissions {to.value}")
    at = clock.as_utc(now or clock.now())
    sources, stamp = _MOVES[to]
    rows = {
        row.id: row
        for row in session.execute(
            select(Commission).where(Commission.id.in_(ids)).with_for_update()
        ).scalars()
    }
    sales = dict(
        session.execute(
            select(Commission.id, Sale)
            .join(Sale, Sale.id == Commission.sale_id)
            .where(Commission.id.in_(ids))
        ).all()
    )
    for commission_id in ids:
        row = rows.get(commission_id)
        if row is None:
            raise NotFoundError(f"no commission #{commission_id}")
        if row.state not in sources:
            raise ValidationError(
                f"commission #{commission_id} is {row.state}; only {sources[0].value} ones "
                f"can be marked {to.value}"
            )
        sale = sales[commission_id]
        parties = Parties(commission_id, row.user_id, sale.closed_by_id, sale.lead_owner_id)
        refusal = two_people_refusal(parties, to, actor)
        if refusal:
            raise PermissionDeniedError(refusal)
    for row in rows.values():
        before = audit.snapshot(row)
        row.state = to
        setattr(row, stamp, at)
        if to == CommissionState.APPROVED:
            row.approved_by_id = actor.user_id
        row.version += 1
        audit.record_row(session, actor, f"commission.{to.value}", row, before=before, at=at)
    return len(rows)


def void_commissions(session: Session, sale_id: int, actor: audit.Actor, at: datetime) -> int:
    """A reversed sale's commissions become void (paid ones too: payroll claws them back)."""
    rows = session.execute(
        select(Commission).where(
            Commission.sale_id == sale_id, Commission.state != CommissionState.VOID
        )
    ).scalars()
    count = 0
    for row in rows:
        before = audit.snapshot(row)
        row.state = CommissionState.VOID
        row.voided_at = at
        row.version += 1
        audit.record_row(session, actor, "commission.void", row, before=before, at=at)
        count += 1
    return count


def month_bounds(month: str) -> tuple[date, date]:
    """'2026-11' → (2026-11-01, 2026-12-01): the sales dates a payroll month covers."""
    try:
        year, number = (int(part) for part in month.split("-"))
        start = date(year, number, 1)
    except ValueError:
        raise ValidationError(f"month {month!r} should read YYYY-MM") from None
    end = date(year + number // 12, number % 12 + 1, 1)
    return start, end
