"""Clients: one per person (matched by E.164 phone or email, as repeat detection matches
leads), numbered CL-000001 onwards, gapless and race-safe like lead numbers."""

from datetime import datetime

from sqlalchemy import bindparam, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from leadms_tui.domain import audit
from leadms_tui.domain.errors import NotFoundError, ValidationError
from leadms_tui.domain.models import (
    Client,
    ClientStatus,
    Lead,
    SequenceCounter,
    fold,
    table_of,
)
from leadms_tui.domain.sales.commission import require_manager

_COUNTERS = table_of(SequenceCounter)
CLIENT_COUNTER = "client"


def format_client_number(seq: int) -> str:
    """CL-000042; widens past a million (CL-1000000)."""
    return f"CL-{seq:06d}"


def _upsert(dialect, step: int):  # type: ignore[no-untyped-def]
    statement = dialect.insert(_COUNTERS).values(name=bindparam("name"), last_value=step)
    return statement.on_conflict_do_update(
        index_elements=[_COUNTERS.c.name], set_={"last_value": _COUNTERS.c.last_value + step}
    ).returning(_COUNTERS.c.last_value)


_TAKE = {"sqlite": _upsert(sqlite, 1), "postgresql": _upsert(postgresql, 1)}
_LOCK = {"sqlite": _upsert(sqlite, 0), "postgresql": _upsert(postgresql, 0)}


def lock_client_numbers(session: Session) -> None:
    """Hold the client counter until commit: conversions run one at a time, so two reps
    converting two leads of one person cannot make two clients."""
    conn = session.connection()
    conn.execute(_LOCK[conn.dialect.name], {"name": CLIENT_COUNTER})


def _take_client_seq(session: Session) -> int:
    conn = session.connection()
    return conn.execute(_TAKE[conn.dialect.name], {"name": CLIENT_COUNTER}).scalar_one()


def client_of_person(session: Session, lead: Lead) -> Client | None:
    """The client this lead's person already is (same E.164 phone or email), if any."""
    matches = []
    if lead.phone_e164:
        matches.append(Client.phone_e164 == lead.phone_e164)
    if lead.email_lower:
        matches.append(Client.email_lower == lead.email_lower)
    if not matches:
        return None
    return session.execute(
        select(Client).where(or_(*matches)).order_by(Client.id).limit(1)
    ).scalar()


def open_client(
    session: Session, lead: Lead, *, owner_id: int | None, actor: audit.Actor, at: datetime
) -> Client:
    """A new client from the lead's contact data, with the next client number."""
    seq = _take_client_seq(session)
    client = Client(
        number=format_client_number(seq),
        seq=seq,
        name=lead.name,
        phone_raw=lead.phone_raw,
        phone_e164=lead.phone_e164,
        email=lead.email,
        email_lower=lead.email_lower,
        owner_id=owner_id,
        first_lead_id=lead.id,
        search_name=fold(f"{lead.name} {lead.email or ''}"),
        created_at=at,
        updated_at=at,
    )
    session.add(client)
    session.flush()
    audit.record_row(session, actor, "client.create", client, at=at)
    return client


def client_by_number(session: Session, number: str) -> Client:
    client = session.execute(select(Client).where(Client.number == number.strip().upper())).scalar()
    if client is None:
        raise NotFoundError(f"no client {number!r}")
    return client


def set_client_status(
    session: Session, client_id: int, status: str, *, actor: audit.Actor, at: datetime
) -> Client:
    """Move a client between onboarding, active, paused and churned (managers, or its owner)."""
    try:
        new = ClientStatus(status.strip().lower())
    except ValueError:
        known = ", ".join(s.value for s in ClientStatus)
        raise ValidationError(f"unknown client status {status!r} (use {known})") from None
    client = session.get(Client, client_id, with_for_update=True)
    if client is None:
        raise NotFoundError("that client no longer exists")
    if client.owner_id != actor.user_id:
        require_manager(actor, "change another account manager's client")
    before = audit.snapshot(client)
    client.status = new
    client.updated_at = at
    client.version += 1
    audit.record_row(session, actor, "client.update", client, before=before, at=at)
    return client
