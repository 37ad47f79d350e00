"""Phone events into calls: one model for every adapter, stored once per provider call id.

An adapter (AMI, Twilio, a dialer's webhook) turns what its phone system says into
`PhoneEvent`s; `record_phone_event` keeps one `phone_calls` row per (provider, call id),
moved only forward (ringing → answered → ended), so a repeated or late event changes
nothing. The person's number is read with the team's phone region and matched to their
newest open lead (else newest lead) and to a client; the extension to a rep. When a call
ends, the rep's TUI offers the call modal prefilled; with the team setting
`log_unanswered_calls`, an unanswered outbound attempt is logged without them.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import case, select
from sqlmodel import Session

from leadms_tui.domain import audit, clock, text
from leadms_tui.domain.errors import ValidationError
from leadms_tui.domain.leads.intake import survivor_id
from leadms_tui.domain.leads.phones import normalize_phone
from leadms_tui.domain.models import (
    Call,
    CallDirection,
    CallOutcome,
    Client,
    Lead,
    LeadStatus,
    PhoneCall,
    PhoneCallState,
    User,
    saved_id,
    table_of,
)
from leadms_tui.domain.once import insert_once
from leadms_tui.domain.team.settings import TeamSettings, load_settings
from leadms_tui.domain.work.calls import log_call

BRIDGE = audit.Actor(None, "phone")  # who writes what the phone system reported
_ORDER = {PhoneCallState.RINGING: 0, PhoneCallState.ANSWERED: 1, PhoneCallState.ENDED: 2}
_CALLS = table_of(PhoneCall)


class EndStatus(StrEnum):
    """How a call ended, as the phone systems say it (AMI DialStatus/Disposition, Twilio
    CallStatus), in one vocabulary."""

    ANSWERED = "answered"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"
    CANCELED = "canceled"


# What the call modal proposes when a call ended so (None: the rep says how it went).
PROPOSED_OUTCOME: dict[EndStatus, CallOutcome | None] = {
    EndStatus.ANSWERED: None,
    EndStatus.NO_ANSWER: CallOutcome.NO_ANSWER,
    EndStatus.BUSY: CallOutcome.BUSY,
    EndStatus.FAILED: CallOutcome.NO_ANSWER,
    EndStatus.CANCELED: CallOutcome.NO_ANSWER,
}


@dataclass(frozen=True)
class PhoneEvent:
    """One thing the phone system said about one call."""

    provider: str  # asterisk, twilio, webhook
    call_id: str  # the provider's id of the whole call (AMI Linkedid, Twilio CallSid)
    state: PhoneCallState
    at: datetime
    direction: CallDirection
    extension: str | None = None  # the rep's phone
    remote_number: str | None = None  # the person's number
    duration_seconds: int | None = None  # talk time, when the system reports it
    end_status: EndStatus | None = None
    recording_url: str | None = None


@dataclass(frozen=True)
class Recorded:
    """What storing an event did: the call as it is now, and whether it changed."""

    phone_call_id: int
    lead_id: int | None
    client_id: int | None
    user_id: int | None
    state: PhoneCallState
    changed: bool
    new: bool
    logged_call_id: int | None = None  # logged without the rep (unanswered outbound)


def record_phone_event(
    session: Session,
    event: PhoneEvent,
    *,
    settings: TeamSettings | None = None,
    now: datetime | None = None,
) -> Recorded:
    """Store `event` on its call (made on first sight), in the caller's transaction. The
    first event of a call is refused (ValidationError) when it names neither a known
    extension nor a readable number; later ones may name neither (a hang-up)."""
    at = clock.as_utc(now or clock.now())
    settings = settings or load_settings(session)
    call_id = text.clean_line(event.call_id).strip()
    if not call_id or len(call_id) > 128:
        raise ValidationError("a phone event needs the provider's call id (at most 128 characters)")
    extension = _extension(event.extension)
    user_id = _user_of(session, extension)
    e164 = None
    if event.remote_number:
        phone = normalize_phone(text.clean_line(event.remote_number), settings.phone_region)
        e164 = phone.e164
    known = session.execute(
        select(PhoneCall.id).where(
            PhoneCall.provider == event.provider, PhoneCall.provider_call_id == call_id
        )
    ).first()
    if user_id is None and e164 is None and known is None:
        raise ValidationError(
            f"call {call_id}: unknown extension {extension or '(none)'} and no readable number "
            f"{event.remote_number or '(none)'}"
        )
    happened = clock.as_utc(event.at)
    new = insert_once(
        session,
        _CALLS,
        {
            "provider": event.provider,
            "provider_call_id": call_id,
            "direction": event.direction.value,
            "state": PhoneCallState.RINGING.value,
            "started_at": happened,
            "updated_at": at,
            "version": 1,
        },
        ["provider", "provider_call_id"],
    )
    row = session.execute(
        select(PhoneCall)
        .where(PhoneCall.provider == event.provider, PhoneCall.provider_call_id == call_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    before = audit.snapshot(row)
    if event.state == PhoneCallState.ANSWERED and user_id is not None:
        row.extension, row.user_id = extension, user_id  # a ring group: whoever picked up
    _fill(row, "extension", extension)
    _fill(row, "user_id", user_id)
    _fill(row, "remote_number", text.clean_line(event.remote_number or "")[:64] or None)
    if e164 and row.remote_e164 is None:
        row.remote_e164 = e164
        row.lead_id, row.client_id = _match(session, e164)
    if happened < row.started_at:
        row.started_at = happened  # events of one call may arrive out of order
    ended_now = _advance(row, event, happened)
    if event.recording_url:
        row.recording_url = text.clean_line(event.recording_url)[:1000]
    after = audit.snapshot(row)
    changed = bool(new) or after != before
    logged = None
    if changed:
        row.updated_at = at
        row.version += 1
        action = "phone_call.create" if new else "phone_call.update"
        audit.record_row(session, BRIDGE, action, row, before=None if new else before, at=at)
        if ended_now and settings.log_unanswered_calls:
            logged = _log_unanswered(session, row, at)
    return Recorded(
        phone_call_id=saved_id(row),
        lead_id=row.lead_id,
        client_id=row.client_id,
        user_id=row.user_id,
        state=PhoneCallState(row.state),
        changed=changed,
        new=bool(new),
        logged_call_id=logged,
    )


def _fill(row: PhoneCall, name: str, value: object) -> None:
    if value is not None and getattr(row, name) is None:
        setattr(row, name, value)


def _advance(row: PhoneCall, event: PhoneEvent, happened: datetime) -> bool:
    """Move the call forward by `event`; True when this event ended it."""
    if event.state == PhoneCallState.ANSWERED and row.answered_at is None:
        row.answered_at = happened
    if _ORDER[event.state] > _ORDER[PhoneCallState(row.state)]:
        row.state = event.state
    if event.state != PhoneCallState.ENDED:
        _derive_duration(row)  # an answer arriving after the end
        return False
    first_end = row.ended_at is None
    if first_end:
        row.ended_at = happened
    if event.end_status is not None and (first_end or row.end_status is None):
        row.end_status = event.end_status.value
    if event.duration_seconds is not None and event.duration_seconds >= 0:
        row.duration_seconds = event.duration_seconds  # the system's own count wins
    _derive_duration(row)
    if row.end_status is None:
        row.end_status = (EndStatus.ANSWERED if row.answered_at else EndStatus.NO_ANSWER).value
    ended, talked = row.ended_at, row.duration_seconds
    if row.answered_at is None and row.end_status == EndStatus.ANSWERED and ended and talked:
        row.answered_at = ended - timedelta(seconds=talked)
    return first_end


def _derive_duration(row: PhoneCall) -> None:
    if row.duration_seconds is None and row.answered_at and row.ended_at:
        row.duration_seconds = max(0, round((row.ended_at - row.answered_at).total_seconds()))


def _extension(reported: str | None) -> str | None:
    """'PJSIP/201' and '201' are the same phone (as `leadms users set --extension` stores it)."""
    return text.clean_line(reported or "").strip().rsplit("/", 1)[-1] or None


def _user_of(session: Session, extension: str | None) -> int | None:
    if extension is None:
        return None
    return session.execute(
        select(User.id).where(User.extension == extension, User.active.is_(True))
    ).scalar()


def _match(session: Session, e164: str) -> tuple[int | None, int | None]:
    """The person's newest open lead (else newest lead; a merged one stands for its
    survivor), and their client."""
    open_first = case((Lead.status.in_([LeadStatus.WON, LeadStatus.LOST]), 1), else_=0)
    lead_id = session.execute(
        select(Lead.id)
        .where(Lead.phone_e164 == e164)
        .order_by(open_first, Lead.created_at.desc(), Lead.id.desc())
        .limit(1)
    ).scalar()
    if lead_id is not None:  # a merged lead's number: the call belongs on its survivor
        lead_id = survivor_id(session, lead_id)
    client_id = session.execute(
        select(Client.id).where(Client.phone_e164 == e164).order_by(Client.id).limit(1)
    ).scalar()
    return lead_id, client_id


def _log_unanswered(session: Session, row: PhoneCall, at: datetime) -> int | None:
    outcome = PROPOSED_OUTCOME.get(EndStatus(row.end_status)) if row.end_status else None
    if (
        row.direction != CallDirection.OUTBOUND
        or outcome is None
        or row.end_status == EndStatus.ANSWERED
        or row.lead_id is None
        or row.user_id is None
    ):
        return None
    rep = session.get(User, row.user_id)
    assert rep is not None
    actor = audit.Actor(rep.id, rep.username, str(rep.role))
    logged = log_call(
        session,
        row.lead_id,
        outcome,
        actor=actor,
        note="logged by the phone bridge",
        called_at=row.started_at,
        phone_call_id=row.id,
        now=at,
    )
    return logged.call_id


# --- reading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PhoneCallView:
    """A phone call as the TUI pops it and the call modal prefills from it."""

    id: int
    direction: CallDirection
    state: PhoneCallState
    lead_id: int | None
    client_id: int | None
    remote_number: str | None
    remote_e164: str | None
    started_at: datetime
    ended_at: datetime | None
    duration_seconds: int | None
    end_status: EndStatus | None
    recording_url: str | None
    logged: bool  # a call row links it already
    lead_label: str | None = None  # "LEAD-20261125-004 Nora New", for titles
    rep: str | None = None  # the username of the rep on the call

    @property
    def proposed_outcome(self) -> CallOutcome | None:
        return PROPOSED_OUTCOME[self.end_status] if self.end_status else None


def recent_calls_of(
    session: Session, user_id: int, *, since: datetime, limit: int = 20
) -> list[PhoneCallView]:
    """The rep's phone calls changed since `since`, newest first (what a TUI pops)."""
    logged = select(Call.id).where(Call.phone_call_id == PhoneCall.id).exists()
    rows = session.execute(
        select(PhoneCall, logged.label("logged"), Lead.number, Lead.name)
        .outerjoin(Lead, Lead.id == PhoneCall.lead_id)
        .where(PhoneCall.user_id == user_id, PhoneCall.updated_at >= clock.as_utc(since))
        .order_by(PhoneCall.updated_at.desc(), PhoneCall.id.desc())
        .limit(limit)
    ).all()
    return [
        _view(row, bool(is_logged), f"{number} {name}" if number else None)
        for row, is_logged, number, name in rows
    ]


def phone_calls_of_lead(session: Session, lead_id: int, *, limit: int = 200) -> list[PhoneCallView]:
    """The lead's phone calls, newest first (the timeline: duration, recording)."""
    logged = select(Call.id).where(Call.phone_call_id == PhoneCall.id).exists()
    rows = session.execute(
        select(PhoneCall, logged.label("logged"), User.username)
        .outerjoin(User, User.id == PhoneCall.user_id)
        .where(PhoneCall.lead_id == lead_id)
        .order_by(PhoneCall.started_at.desc(), PhoneCall.id.desc())
        .limit(limit)
    ).all()
    return [_view(row, bool(is_logged), rep=rep) for row, is_logged, rep in rows]


def _view(
    row: PhoneCall, logged: bool, lead_label: str | None = None, rep: str | None = None
) -> PhoneCallView:
    return PhoneCallView(
        id=saved_id(row),
        direction=CallDirection(row.direction),
        state=PhoneCallState(row.state),
        lead_id=row.lead_id,
        client_id=row.client_id,
        remote_number=row.remote_number,
        remote_e164=row.remote_e164,
        started_at=clock.as_utc(row.started_at),
        ended_at=clock.as_utc(row.ended_at) if row.ended_at else None,
        duration_seconds=row.duration_seconds,
        end_status=EndStatus(row.end_status) if row.end_status else None,
        recording_url=row.recording_url,
        logged=logged,
        lead_label=lead_label,
        rep=rep,
    )
