"""Conversion: one transaction turns a lead into a sale of a client (new, or the one this
person already is), with its frozen commission and its onboarding tasks. And its reversal."""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlmodel import Session

from leadms_tui.domain import audit, clock, events
from leadms_tui.domain.errors import ConflictError, NotFoundError, ValidationError
from leadms_tui.domain.events import LeadConverted
from leadms_tui.domain.leads.checks import check_may_edit
from leadms_tui.domain.leads.edits import change_lead
from leadms_tui.domain.models import (
    Client,
    ClientStatus,
    Commission,
    FollowUp,
    FollowUpState,
    Lead,
    LeadStatus,
    OnboardingTask,
    Sale,
    User,
    saved_id,
)
from leadms_tui.domain.sales import clients, commission, onboarding
from leadms_tui.domain.sales.money import format_money, parse_amount
from leadms_tui.domain.team.settings import load_settings
from leadms_tui.domain.text import clean_line
from leadms_tui.domain.work.followups import close_followup


@dataclass(frozen=True)
class ConversionRequest:
    value: str | Decimal
    product: str | None = None
    commission_plan: str | None = None  # a plan's name; default: by product, else the default
    template: str | None = None  # a template's name, "none"; default: the default template
    split: str | None = None  # "60/40": the lead owner's share / the closing rep's


@dataclass(frozen=True)
class CommissionLine:
    username: str
    share: Decimal
    amount: Decimal


@dataclass(frozen=True)
class TaskLine:
    title: str
    owner: str | None
    due_on: date


@dataclass(frozen=True)
class Conversion:
    lead_number: str
    client_number: str
    client_name: str
    new_client: bool
    sale_id: int
    value: Decimal
    currency: str
    product: str | None
    commission_plan: str | None
    commission_rate: Decimal | None
    commission_total: Decimal
    commissions: list[CommissionLine] = field(default_factory=list)
    tasks: list[TaskLine] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {
            "lead": self.lead_number,
            "client": self.client_number,
            "client_name": self.client_name,
            "new_client": self.new_client,
            "sale": {
                "id": self.sale_id,
                "value": str(self.value),
                "currency": self.currency,
                "product": self.product,
            },
            "commission": {
                "plan": self.commission_plan,
                "rate": None if self.commission_rate is None else str(self.commission_rate),
                "total": str(self.commission_total),
                "shares": [
                    {"user": c.username, "share": str(c.share), "amount": str(c.amount)}
                    for c in self.commissions
                ],
            },
            "onboarding": [
                {"title": t.title, "owner": t.owner, "due_on": t.due_on.isoformat()}
                for t in self.tasks
            ],
        }


@dataclass(frozen=True)
class CommissionPreview:
    plan: str | None
    total: Decimal
    text: str  # "7.5% of the value: 92.59 USD"


def preview_commission(
    session: Session, value: str, product: str | None, plan_name: str | None
) -> CommissionPreview:
    """What a conversion would earn, for the modal's live preview; nothing is written."""
    settings = load_settings(session)
    currency = settings.currency
    amount = parse_amount(value, currency, number_format=settings.numbers)
    plan = commission.choose_plan(session, product, plan_name)
    total = commission.commission_total(plan, amount, currency)
    if plan is None:
        return CommissionPreview(None, total, "no commission plan: no commission")
    terms = commission._info(plan).describe(currency)
    return CommissionPreview(
        plan.name, total, f"{plan.name} ({terms}): {format_money(total, currency)}"
    )


def convert_lead(
    session: Session,
    lead_id: int,
    request: ConversionRequest,
    *,
    actor: audit.Actor,
    now: datetime | None = None,
) -> Conversion:
    """Convert in the caller's write transaction; any refusal leaves nothing written."""
    at = clock.as_utc(now or clock.now())
    settings = load_settings(session)
    clients.lock_client_numbers(session)  # conversions queue here; see lock_client_numbers
    lead = session.get(Lead, lead_id, with_for_update=True, populate_existing=True)
    if lead is None:
        raise NotFoundError("that lead no longer exists")
    _check_convertible(session, lead, settings.timezone)
    check_may_edit(lead, actor)
    value = parse_amount(request.value, settings.currency, number_format=settings.numbers)
    product = clean_line(request.product or "").strip() or None
    plan = commission.choose_plan(session, product, request.commission_plan)
    template = onboarding.choose_template(session, request.template)
    closer_id = actor.user_id or lead.owner_id
    shares = _shares(lead, closer_id, request.split, settings.numbers)

    client = clients.client_of_person(session, lead)
    new_client = client is None
    if client is None:
        client = clients.open_client(
            session, lead, owner_id=closer_id or lead.owner_id, actor=actor, at=at
        )
    sale = Sale(
        client_id=saved_id(client),
        lead_id=saved_id(lead),
        value=value,
        currency=settings.currency,
        product=product,
        closed_by_id=closer_id,
        lead_owner_id=lead.owner_id,  # a commission the closer earns on another's lead is marked
        sold_on=clock.business_date(at, settings.timezone),
        commission_plan_id=plan.id if plan else None,
        commission_rate=plan.rate if plan and plan.flat is None else None,
        commission_total=commission.commission_total(plan, value, settings.currency),
        previous_status=lead.status,
        created_at=at,
    )
    session.add(sale)
    session.flush()
    audit.record_row(session, actor, "sale.create", sale, at=at)
    rows = commission.record_commissions(session, sale, shares, at)
    for row in rows:
        audit.record_row(session, actor, "commission.create", row, at=at)
    _close_own_followups(session, lead, client, actor, at)
    change_lead(session, lead, actor, at, status=LeadStatus.WON)
    converted = LeadConverted(
        lead.id,
        client.id,
        sale.id,
        actor,
        template.id if template else None,  # type: ignore[arg-type]
    )
    events.publish(session, converted, at=at)
    return _result(session, lead, client, sale, new_client, plan.name if plan else None)


def _check_convertible(session: Session, lead: Lead, timezone: str) -> None:
    if lead.status == LeadStatus.LOST:
        reason = f" ({lead.lost_reason})" if lead.lost_reason else ""
        raise ValidationError(f"{lead.number} is lost{reason}; reopen it before converting")
    if lead.status != LeadStatus.WON:
        return
    live = session.execute(
        select(Sale, User.username, Client.number)
        .join(Client, Client.id == Sale.client_id)
        .outerjoin(User, User.id == Sale.closed_by_id)
        .where(Sale.lead_id == lead.id, Sale.reversed_at.is_(None))
    ).first()
    if live is None:
        raise ValidationError(f"{lead.number} is already won")
    sale, who, number = live
    when = clock.local(sale.created_at, timezone)
    raise ConflictError(
        f"{lead.number} was already converted by {who or 'someone'} on {when:%a %d %b %H:%M}"
        f" (client {number})"
    )


def _shares(
    lead: Lead, closer_id: int | None, split: str | None, number_format: str
) -> list[tuple[int, Decimal]]:
    """(user, percent) pairs: the closing rep alone, or the owner and the closer by `split`."""
    owner_id = lead.owner_id
    if split is None or not split.strip():
        paid = closer_id or owner_id
        return [(paid, Decimal(100))] if paid else []
    owner_share, closer_share = commission.parse_split(split, number_format)
    if owner_id is None or closer_id is None or owner_id == closer_id:
        raise ValidationError(
            f"{lead.number} has no other owner to share with: the split needs the lead's "
            "owner and a different closing rep"
        )
    return [(owner_id, owner_share), (closer_id, closer_share)]


def _close_own_followups(
    session: Session, lead: Lead, client: Client, actor: audit.Actor, at: datetime
) -> None:
    followups = session.execute(
        select(FollowUp).where(
            FollowUp.lead_id == lead.id,
            FollowUp.state.in_([FollowUpState.OPEN, FollowUpState.MISSED]),
        )
    ).scalars()
    for followup in followups:
        note = f"converted to client {client.number}"
        close_followup(session, followup, FollowUpState.SKIPPED, actor=actor, at=at, note=note)


def _result(
    session: Session, lead: Lead, client: Client, sale: Sale, new_client: bool, plan: str | None
) -> Conversion:
    names = dict(session.execute(select(User.id, User.username)).all())
    shares = session.execute(
        select(Commission).where(Commission.sale_id == sale.id).order_by(Commission.id)
    ).scalars()
    tasks = session.execute(
        select(OnboardingTask)
        .where(OnboardingTask.sale_id == sale.id)
        .order_by(OnboardingTask.position)
    ).scalars()
    return Conversion(
        lead_number=lead.number,
        client_number=client.number,
        client_name=client.name,
        new_client=new_client,
        sale_id=saved_id(sale),
        value=sale.value,
        currency=sale.currency,
        product=sale.product,
        commission_plan=plan,
        commission_rate=sale.commission_rate,
        commission_total=sale.commission_total,
        commissions=[CommissionLine(names[c.user_id], c.share, c.amount) for c in shares],
        tasks=[TaskLine(t.title, names.get(t.owner_id), t.due_on) for t in tasks],
    )


def reverse_conversion(
    session: Session,
    sale_id: int,
    *,
    reason: str,
    actor: audit.Actor,
    now: datetime | None = None,
) -> Sale:
    """Undo a conversion (managers): commissions void, unfinished onboarding cancelled, the
    lead back to its status before; the client is churned if it has no other live sale.
    Nothing is deleted: the sale stays, marked reversed, and the trail keeps every step."""
    commission.require_manager(actor, "reverse a conversion")
    if not reason.strip():
        raise ValidationError("say why the conversion is reversed")
    at = clock.as_utc(now or clock.now())
    sale = session.get(Sale, sale_id, with_for_update=True, populate_existing=True)
    if sale is None:
        raise NotFoundError(f"no sale #{sale_id}")
    if sale.reversed_at is not None:
        raise ConflictError(f"sale #{sale_id} is already reversed")
    before = audit.snapshot(sale)
    sale.reversed_at = at
    sale.reversed_by_id = actor.user_id
    sale.reverse_reason = reason.strip()
    session.flush()
    audit.record_row(session, actor, "sale.reverse", sale, before=before, at=at)
    commission.void_commissions(session, saved_id(sale), actor, at)
    onboarding.cancel_sale_tasks(session, saved_id(sale), actor, at)
    lead = session.get(Lead, sale.lead_id, with_for_update=True)
    if lead is not None and lead.status == LeadStatus.WON:
        change_lead(session, lead, actor, at, status=LeadStatus(sale.previous_status))
    live = session.execute(
        select(Sale.id).where(Sale.client_id == sale.client_id, Sale.reversed_at.is_(None))
    ).first()
    if live is None:
        clients.set_client_status(session, sale.client_id, ClientStatus.CHURNED, actor=actor, at=at)
    return sale


def sale_of_lead(session: Session, lead_id: int) -> int:
    """The live sale of a converted lead (what a reversal names)."""
    sale_id = session.execute(
        select(Sale.id).where(Sale.lead_id == lead_id, Sale.reversed_at.is_(None))
    ).scalar()
    if sale_id is None:
        raise NotFoundError("that lead has no sale to reverse")
    return sale_id
