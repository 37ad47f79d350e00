"""Click to call through the phone bridge: a rep's terminal writes a dial request (audited);
the bridge process, which alone holds the phone system's credentials, takes pending ones,
asks the phone system to ring the rep's extension and then dial the number, and records the
answer. A request older than `STALE_AFTER` is not dialled (the rep has moved on).

Through Twilio (the intake service, `intake.dialer`) a request is claimed (`dialing`) and
committed before the call is asked for, so it is never originated twice; the call's sid, the
rep's leg ringing or not answering, and any refusal come back here, a failure in words as a
notification to the rep. A claim nobody confirmed within `UNCONFIRMED_AFTER` (the service
died while asking) is shown as failed, never dialled again by itself."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlmodel import Session

from leadms_tui.domain import audit, clock, text
from leadms_tui.domain.errors import NotFoundError, ValidationError
from leadms_tui.domain.leads.checks import check_may_read
from leadms_tui.domain.models import DialRequest, Lead, Notification, User

STALE_AFTER = timedelta(seconds=30)
UNCONFIRMED_AFTER = timedelta(minutes=2)  # a Twilio claim with no answer nor callback by then
DIALER = audit.Actor(None, "dialer")  # the intake service's click-to-call loop

# Twilio's error codes a rep should read in words (else Twilio's own message is shown).
TWILIO_WORDS: dict[int, str] = {
    20003: "Twilio refused the service's credentials: an admin checks "
    "LEADMS_TWILIO_ACCOUNT_SID and LEADMS_TWILIO_AUTH_TOKEN",
    20429: "Twilio is taking too many calls at once: press d again in a minute",
    21210: "the team's caller id is not a Twilio number or verified caller id: tell an admin",
    21211: "Twilio cannot read the number to call",
    21212: "the team's caller id is not a valid number: tell an admin",
    21214: "that number cannot be reached",
    21215: "the Twilio account may not call that country (geo permissions): tell an admin",
    21216: "that number is blocked by Twilio",
    21217: "that number is not a valid phone number",
}


def twilio_words(code: int | None, message: str | None, http_status: int) -> str:
    """A refusal of a call, for the rep: our words for known codes, else Twilio's."""
    if code in TWILIO_WORDS:
        return f"{TWILIO_WORDS[code]} (Twilio {code})"
    said = text.clean_line(message or "").strip()[:200]
    return f"Twilio refused the call: {said or f'HTTP {http_status}'}" + (
        f" (Twilio {code})" if code else ""
    )


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


def take_pending(
    session: Session, *, now: datetime | None = None, limit: int = 20, claimed_as: str = "sent"
) -> list[Dial]:
    """The bridge's side: claim pending requests (stale ones expire); each claimed once.
    The AMI bridge marks them `sent` (its answer comes on the live connection); the Twilio
    dialer `dialing` until Twilio answered."""
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
            .values(state=claimed_as, handled_at=at)
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


def record_twilio_call(
    session: Session, request_id: int, sid: str, *, address: str, now: datetime | None = None
) -> bool:
    """Twilio created the call (`sid`): the rep's phone is being rung. False when the
    request had moved on already (a callback told first)."""
    at = clock.as_utc(now or clock.now())
    row = session.get(DialRequest, request_id, with_for_update=True, populate_existing=True)
    if row is None or row.state != "dialing":
        return False
    before = audit.snapshot(row)
    row.state = "sent"
    row.detail = text.clean_line(f"Twilio call {sid}: ringing {address}")[:300]
    audit.record_row(session, DIALER, "dial.sent", row, before=before, at=at)
    return True


def record_dial_failure(
    session: Session, request_id: int, words: str, *, now: datetime | None = None
) -> bool:
    """The call could not be made (or the rep's phone did not answer): the request fails
    and its rep is told in `words`, once; False when it had already ended so."""
    at = clock.as_utc(now or clock.now())
    row = session.get(DialRequest, request_id, with_for_update=True, populate_existing=True)
    if row is None or row.state in ("failed", "expired"):
        return False
    before = audit.snapshot(row)
    row.state, row.detail, row.handled_at = "failed", text.clean_line(words)[:300], at
    audit.record_row(session, DIALER, "dial.failed", row, before=before, at=at)
    lead = session.get(Lead, row.lead_id) if row.lead_id else None
    session.add(
        Notification(
            user_id=row.user_id,
            lead_id=row.lead_id,
            message=f"Click to call {lead.number if lead else row.number} failed: {row.detail}",
            created_at=at,
        )
    )
    return True


# The rep's leg of a Twilio click-to-call, as its status callbacks say it ended.
REP_LEG_WORDS: dict[str, str] = {
    "busy": "your phone was busy",
    "no-answer": "your phone did not answer",
    "failed": "Twilio could not reach your phone: check your extension's Twilio Client or SIP",
    "canceled": "the call was cancelled before your phone answered",
}


def record_rep_leg(
    session: Session, request_id: int, status: str, sid: str, *, now: datetime | None = None
) -> str:
    """A status callback of the rep's leg (the call Twilio rang first): a confirmation of a
    claim whose answer was lost, or the rep's phone not answering. The request's state."""
    row = session.get(DialRequest, request_id, with_for_update=True, populate_existing=True)
    if row is None:
        raise NotFoundError(f"no dial request {request_id}")
    if status in REP_LEG_WORDS:
        record_dial_failure(session, request_id, REP_LEG_WORDS[status], now=now)
    elif row.state == "dialing":  # the answer to the request was lost: Twilio made the call
        record_twilio_call(session, request_id, sid, address=f"your phone ({row.extension})")
    return row.state  # the same object the calls above changed


def expire_dialing(session: Session, *, now: datetime | None = None) -> int:
    """Claims with no answer from Twilio nor any callback within `UNCONFIRMED_AFTER` (the
    service died, or Twilio never said): failed, their reps told; never dialled again."""
    at = clock.as_utc(now or clock.now())
    stuck = session.execute(
        select(DialRequest.id).where(
            DialRequest.state == "dialing", DialRequest.handled_at < at - UNCONFIRMED_AFTER
        )
    ).scalars()
    words = "not confirmed: the service stopped while dialling; press d again if no phone rang"
    return sum(record_dial_failure(session, request_id, words, now=at) for request_id in stuck)
