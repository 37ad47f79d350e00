"""Sales queries: the client list and detail, a month's commissions, onboarding tasks."""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from leadms_tui.domain.audit import Actor
from leadms_tui.domain.errors import NotFoundError
from leadms_tui.domain.leads.phones import normalize_phone
from leadms_tui.domain.models import (
    Client,
    Commission,
    CommissionPlan,
    CommissionState,
    Lead,
    OnboardingTask,
    Sale,
    TaskState,
    User,
    fold,
)
from leadms_tui.domain.sales.commission import Parties, visible_commissions
from leadms_tui.domain.sales.money import round_money

_OPEN_TASKS = (TaskState.OPEN, TaskState.MISSED)


def _money(amount: Decimal, currency: str) -> str:
    """An amount for JSON as the currency writes it ("22.50", not the column's "22.500")."""
    return str(round_money(amount, currency))


@dataclass(frozen=True)
class ClientRow:
    id: int
    number: str
    name: str
    phone: str | None
    email: str | None
    status: str
    owner: str | None
    sales: int
    value: Decimal
    open_tasks: int

    def as_json(self, currency: str | None = None) -> dict[str, object]:
        return {
            "number": self.number,
            "name": self.name,
            "phone": self.phone,
            "email": self.email,
            "status": self.status,
            "owner": self.owner,
            "sales": self.sales,
            "value": _money(self.value, currency) if currency else str(self.value),
            "open_tasks": self.open_tasks,
        }


def list_clients(
    *, session: Session, text: str = "", phone_region: str = "US", limit: int = 200
) -> list[ClientRow]:
    """Clients matching a number, name, phone or email (all of them when `text` is blank),
    newest first."""
    live = and_(Sale.client_id == Client.id, Sale.reversed_at.is_(None))
    query = (
        select(
            Client.id,
            Client.number,
            Client.name,
            func.coalesce(Client.phone_e164, Client.phone_raw),
            Client.email,
            Client.status,
            User.username,
            select(func.count()).where(live).correlate(Client).scalar_subquery(),
            select(func.coalesce(func.sum(Sale.value), 0))
            .where(live)
            .correlate(Client)
            .scalar_subquery(),
            select(func.count())
            .where(OnboardingTask.client_id == Client.id, OnboardingTask.state.in_(_OPEN_TASKS))
            .correlate(Client)
            .scalar_subquery(),
        )
        .outerjoin(User, User.id == Client.owner_id)
        .order_by(Client.id.desc())
        .limit(limit)
    )
    text = text.strip()
    if text:
        query = query.where(_client_matches(text, phone_region))
    return [ClientRow(*row) for row in session.execute(query).all()]


def _client_matches(text: str, phone_region: str):  # type: ignore[no-untyped-def]
    folded = fold(text)
    conditions = [Client.number == text.upper(), Client.search_name.contains(folded)]
    if "@" in text:
        conditions.append(Client.email_lower == text.lower())
    digits = sum(ch.isdigit() for ch in text)
    if digits >= 4:
        phone = normalize_phone(text, phone_region)
        if phone.e164:
            conditions.append(Client.phone_e164 == phone.e164)
        conditions.append(Client.phone_e164.contains("".join(ch for ch in text if ch.isdigit())))
        conditions.append(Client.number.contains(text.upper()))
    return or_(*conditions)


@dataclass(frozen=True)
class SaleLine:
    id: int
    lead_number: str
    sold_on: date
    value: Decimal
    currency: str
    product: str | None
    closed_by: str | None
    commission_plan: str | None
    commission_total: Decimal
    commissions: list[tuple[int, str, Decimal, Decimal, str]]  # id, user, share, amount, state
    reversed: bool

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "lead": self.lead_number,
            "sold_on": self.sold_on.isoformat(),
            "value": _money(self.value, self.currency),
            "currency": self.currency,
            "product": self.product,
            "closed_by": self.closed_by,
            "commission_plan": self.commission_plan,
            "commission_total": _money(self.commission_total, self.currency),
            "commissions": [
                {
                    "id": i,
                    "user": u,
                    "share": str(s),
                    "amount": _money(a, self.currency),
                    "state": st,
                }
                for i, u, s, a, st in self.commissions
            ],
            "reversed": self.reversed,
        }


@dataclass(frozen=True)
class TaskRow:
    id: int
    client_id: int
    client_number: str
    client_name: str
    title: str
    owner: str | None
    due_on: date
    state: str
    done_at: datetime | None

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "client": self.client_number,
            "client_name": self.client_name,
            "title": self.title,
            "owner": self.owner,
            "due_on": self.due_on.isoformat(),
            "state": self.state,
            "done_at": self.done_at.isoformat() if self.done_at else None,
        }


@dataclass(frozen=True)
class ClientDetail:
    row: ClientRow
    created_at: datetime
    sales: list[SaleLine] = field(default_factory=list)
    tasks: list[TaskRow] = field(default_factory=list)
    leads: list[tuple[str, str, datetime]] = field(default_factory=list)  # number, status, at
    lead_ids: list[int] = field(default_factory=list)  # the ids of `leads`, in the same order

    def as_json(self, currency: str | None = None) -> dict[str, object]:
        """`currency` (the team's) writes the client's total value as money."""
        return {
            **self.row.as_json(currency),
            "created_at": self.created_at.isoformat(),
            "sales": [s.as_json() for s in self.sales],
            "onboarding": [t.as_json() for t in self.tasks],
            "leads": [
                {"number": n, "status": s, "created_at": at.isoformat()} for n, s, at in self.leads
            ],
        }


def client_id_by_number(*, session: Session, number: str) -> int:
    client_id = session.execute(
        select(Client.id).where(Client.number == number.strip().upper())
    ).scalar()
    if client_id is None:
        raise NotFoundError(f"no client {number.strip()!r}")
    return client_id


def load_client_detail(*, session: Session, client_id: int) -> ClientDetail:
    client = session.get(Client, client_id)
    if client is None:
        raise NotFoundError("that client no longer exists")
    rows = [r for r in list_clients(session=session, text=client.number) if r.id == client_id]
    names = dict(session.execute(select(User.id, User.username)).all())
    sales = []
    for sale, lead_number, plan in session.execute(
        select(Sale, Lead.number, CommissionPlan.name)
        .join(Lead, Lead.id == Sale.lead_id)
        .outerjoin(CommissionPlan, CommissionPlan.id == Sale.commission_plan_id)
        .where(Sale.client_id == client_id)
        .order_by(Sale.id)
    ).all():
        shares = [
            (c.id, names.get(c.user_id, "?"), c.share, c.amount, c.state)
            for c in session.execute(
                select(Commission).where(Commission.sale_id == sale.id).order_by(Commission.id)
            ).scalars()
        ]
        sales.append(
            SaleLine(
                sale.id,
                lead_number,
                sale.sold_on,
                sale.value,
                sale.currency,
                sale.product,
                names.get(sale.closed_by_id),
                plan,
                sale.commission_total,
                shares,
                sale.reversed_at is not None,
            )
        )
    tasks = list_tasks(session=session, client_id=client_id, states=None)
    person = []
    if client.phone_e164:
        person.append(Lead.phone_e164 == client.phone_e164)
    if client.email_lower:
        person.append(Lead.email_lower == client.email_lower)
    sold = select(Sale.lead_id).where(Sale.client_id == client_id)
    leads = session.execute(
        select(Lead.number, Lead.status, Lead.created_at, Lead.id)
        .where(or_(Lead.id.in_(sold), *person))
        .order_by(Lead.created_at)
        .limit(100)
    ).all()
    return ClientDetail(
        rows[0],
        client.created_at,
        sales,
        tasks,
        [(number, status, at) for number, status, at, _ in leads],
        [lead_id for *_, lead_id in leads],
    )


def list_tasks(
    *,
    session: Session,
    owner_id: int | None = None,
    client_id: int | None = None,
    states: tuple[TaskState, ...] | None = _OPEN_TASKS,
    due_by: date | None = None,
    limit: int = 500,
) -> list[TaskRow]:
    """Onboarding tasks, by due date: a person's, a client's, open ones or all."""
    owner = aliased(User)
    query = (
        select(
            OnboardingTask.id,
            OnboardingTask.client_id,
            Client.number,
            Client.name,
            OnboardingTask.title,
            owner.username,
            OnboardingTask.due_on,
            OnboardingTask.state,
            OnboardingTask.done_at,
        )
        .join(Client, Client.id == OnboardingTask.client_id)
        .outerjoin(owner, owner.id == OnboardingTask.owner_id)
        .order_by(OnboardingTask.due_on, OnboardingTask.client_id, OnboardingTask.position)
        .limit(limit)
    )
    if owner_id is not None:
        query = query.where(OnboardingTask.owner_id == owner_id)
    if client_id is not None:
        query = query.where(OnboardingTask.client_id == client_id)
    if states:
        query = query.where(OnboardingTask.state.in_(states))
    if due_by is not None:
        query = query.where(OnboardingTask.due_on <= due_by)
    return [TaskRow(*row) for row in session.execute(query).all()]


@dataclass(frozen=True)
class CommissionRow:
    id: int
    sold_on: date
    rep: str
    client_number: str
    lead_number: str
    product: str | None
    value: Decimal
    currency: str
    share: Decimal
    amount: Decimal
    state: str
    user_id: int
    closer_id: int | None
    lead_owner_id: int | None

    @property
    def parties(self) -> Parties:
        return Parties(self.id, self.user_id, self.closer_id, self.lead_owner_id)

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "sold_on": self.sold_on.isoformat(),
            "rep": self.rep,
            "client": self.client_number,
            "lead": self.lead_number,
            "product": self.product,
            "value": _money(self.value, self.currency),
            "currency": self.currency,
            "share": str(self.share),
            "amount": _money(self.amount, self.currency),
            "state": self.state,
            "split_of_others_lead": self.parties.marked,
        }


def list_commissions(
    *,
    session: Session,
    start: date,
    end: date,
    viewer: Actor,
    rep_id: int | None = None,
    state: CommissionState | None = None,
) -> list[CommissionRow]:
    """Commissions of sales made in [start, end), by rep then date: a payroll month; a rep
    `viewer` gets only their own (see visible_commissions)."""
    rep_id = visible_commissions(viewer, rep_id)
    query = (
        select(
            Commission.id,
            Sale.sold_on,
            User.username,
            Client.number,
            Lead.number,
            Sale.product,
            Sale.value,
            Sale.currency,
            Commission.share,
            Commission.amount,
            Commission.state,
            Commission.user_id,
            Sale.closed_by_id,
            Sale.lead_owner_id,
        )
        .join(Sale, Sale.id == Commission.sale_id)
        .join(User, User.id == Commission.user_id)
        .join(Client, Client.id == Sale.client_id)
        .join(Lead, Lead.id == Sale.lead_id)
        .where(Sale.sold_on >= start, Sale.sold_on < end)
        .order_by(User.username, Sale.sold_on, Commission.id)
    )
    if rep_id is not None:
        query = query.where(Commission.user_id == rep_id)
    if state is not None:
        query = query.where(Commission.state == state)
    return [CommissionRow(*row) for row in session.execute(query).all()]


def lead_client(*, session: Session, lead_id: int) -> tuple[int, str, int] | None:
    """(client id, client number, sale id) of a converted lead's live sale, if any."""
    row = session.execute(
        select(Client.id, Client.number, Sale.id)
        .join(Sale, Sale.client_id == Client.id)
        .where(Sale.lead_id == lead_id, Sale.reversed_at.is_(None))
    ).first()
    return None if row is None else (row[0], row[1], row[2])
