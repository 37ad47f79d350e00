"""Click to call through the phone bridge: a rep's terminal writes a dial request (audited);
the bridge process, which alone holds the phone system's credentials, takes pending ones,
asks the phone system to ring the rep's extension and then dial the number, and records the
answer. A request older than `STALE_AFTER` is not dialled (the rep has moved on)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlmodel import Session

from leadms_tui.domain import audit, clock, text
from leadms_tui.domain.errors import NotFoundError, ValidationError
from leadms_tui.domain.leads.checks import check_may_read
from leadms_tui.domain.models import DialRequest, Lead, User

STALE_AFTER = timedelta(seconds=30)


@dataclass(frozen=True)
class Dial:
    request_id: int
    extension: str
    number: str


def request_dial(
    session: Session, lead_id: int, *, actor: audit.Actor, now: datetime | None = None
) -> DialRequest:
    """Ask the bridge to ring the rep's phone, then dial the lead's number."""
    at = clock.as_utc(now or clock.now())
    check_may_read(session, actor, lead_id)
    lead = session.get(Lead, lead_id)
    if lead is None:
        raise NotFoundError(f"no lead with id {lead_id}")
    if not lead.phone_e164:
        raise ValidationError(f"{lead.number} has no phone number to dial")
    user = session.get(User, actor.user_id) if actor.user_id else None
    if user is None or not user.extension:
        raise ValidationError("you have no extension: an admin sets it in Settings → Users")
    row = DialRequest(user_id=user.id, lead_id=lead_id, extension=user.extension,
                      number=lead.phone_e164, requested_at=at)  # fmt: skip
    session.add(row)
    session.flush()
    audit.record_row(session, actor, "dial.request", row, at=at)
    return row


def take_pending(session: Session, *, now: datetime | None = None, limit: int = 20) -> list[Dial]:
    """The bridge's side: claim pending requests (stale ones expire); each claimed once."""
    at = clock.as_utc(now or clock.now())
    session.execute(
        update(DialRequest)
        .where(DialRequest.state == "pending", DialRequest.requested_at < at - STALE_AFTER)
        .values(state="expired", handled_at=at, detail="not dialled: asked too long ago")
        .execution_options(synchronize_session=False)
    )
    pending = session.execute(
        select(DialRequest.id, DialRequest.extension, DialRequest.number)
        .where(DialRequest.state == "pending")
        .order_by(DialRequest.id)
        .limit(limit)
    ).all()
    taken = []
    for request_id, extension, number in pending:
        claimed = session.execute(
            update(DialRequest)
            .where(DialRequest.id == request_id, DialRequest.state == "pending")
            .values(state="sent", handled_at=at)
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed:
            taken.append(Dial(request_id, extension, number))
    return taken


def record_answer(session: Session, request_id: int, *, ok: bool, detail: str) -> None:
    """What the phone system said to the Originate of a taken request."""
    session.execute(
        update(DialRequest)
        .where(DialRequest.id == request_id)
        .values(state="sent" if ok else "failed", detail=text.clean_line(detail)[:300])
        .execution_options(synchronize_session=False)
    )
