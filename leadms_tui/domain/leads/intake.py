"""The intake service: every new lead, from any channel, enters through here.

One transaction: validate the contact, check for a repeat of an earlier lead,
take the day's next number (locking the day's counter until commit), insert the
lead, its first inquiry and the audit event. Manual entry, the CLI, file imports
and the webhook service all call `intake_lead`.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator
from sqlalchemy import Connection, Select, bindparam, func, or_, select, text
from sqlmodel import Session

from leadms_tui.domain import audit, clock, events
from leadms_tui.domain.db import Database
from leadms_tui.domain.errors import ValidationError
from leadms_tui.domain.events import LeadCreated
from leadms_tui.domain.fields import values as field_values
from leadms_tui.domain.leads import numbering
from leadms_tui.domain.leads.checks import MAX_NAME_LENGTH, validated_email
from leadms_tui.domain.leads.numbered_insert import NUMBERED, insert_numbered
from leadms_tui.domain.leads.phones import Phone, normalize_phone
from leadms_tui.domain.models import (
    Channel,
    FieldEntity,
    Inquiry,
    Lead,
    LeadStatus,
    PhoneFlag,
    lead_search_name,
    saved_id,
    table_of,
)
from leadms_tui.domain.team.settings import TeamSettings, load_settings

_NO_LIMIT = 2**31 - 1  # "before" bound that excludes nothing (ids are 32-bit integers)

# Statements of the intake hot path, built once (compiled SQL is cached by SQLAlchemy).
_LEADS, _INQUIRIES = table_of(Lead), table_of(Inquiry)
_INSERT_LEAD = _LEADS.insert().returning(_LEADS.c.id)
_INSERT_INQUIRY = _INQUIRIES.insert()
_FIND_DELIVERY = (
    select(_LEADS.c.id, _LEADS.c.number)
    .join(_INQUIRIES, _INQUIRIES.c.lead_id == _LEADS.c.id)
    .where(
        _INQUIRIES.c.channel == bindparam("channel"), _INQUIRIES.c.dedupe_key == bindparam("key")
    )
    .limit(1)
)


def _earlier_statement(by_phone: bool, by_email: bool) -> Select:
    matches = []
    if by_phone:
        matches.append(_LEADS.c.phone_e164 == bindparam("phone"))
    if by_email:
        matches.append(_LEADS.c.email_lower == bindparam("email"))
    return (
        select(
            _LEADS.c.id,
            _LEADS.c.number,
            _LEADS.c.owner_id,
            func.count().over(),
            _LEADS.c.merged_into_id,
        )
        .where(or_(*matches), _LEADS.c.id < bindparam("before"))
        .order_by(_LEADS.c.id)
        .limit(1)
    )


_SURVIVOR = select(_LEADS.c.id, _LEADS.c.number, _LEADS.c.owner_id, _LEADS.c.merged_into_id).where(
    _LEADS.c.id == bindparam("id")
)
_EARLIER = {
    (p, e): _earlier_statement(p, e) for p in (True, False) for e in (True, False) if p or e
}
_SENDER_LOCK_SPACE = 7272  # pg advisory lock namespace for per-sender serialization
_PERSON_LOCK_SPACE = 7273  # and for one phone, email or delivery
_LOCK_PERSON = {  # up to three keys, locked left to right
    count: text(
        "SELECT "
        + ", ".join(f"pg_advisory_xact_lock(:space, hashtext(:k{i}))" for i in range(count))
    )
    for count in (1, 2, 3)
}


class LeadCreate(BaseModel):
    """What an intake channel knows about a new lead."""

    model_config = ConfigDict(frozen=True)

    name: str
    channel: Channel
    phone: str | None = None
    email: str | None = None
    message: str | None = None
    external_id: str | None = None  # the sender on its channel (wa_id, PSID)
    dedupe_key: str | None = None  # makes a re-delivery or re-import a no-op
    received_at: datetime | None = None
    payload_ref: str | None = None
    attributes: dict[str, Any] = {}
    owner_id: int | None = None
    fields: dict[str, str] = {}  # dynamic lead fields by key, as text (validated at intake)

    @field_validator("received_at")
    @classmethod
    def _plausible(cls, value: datetime | None) -> datetime | None:
        """A year-1 timestamp in a file or a webhook is refused with the reason."""
        return None if value is None else clock.plausible(value, "received at")


@dataclass(frozen=True)
class IntakeResult:
    lead_id: int
    number: str
    created: bool  # False when the same delivery was taken in before, or it was appended
    appended: bool = False  # True when it became a new inquiry of the sender's open lead
    repeat_of: str | None = None  # number of the earliest earlier lead with this phone/email
    repeat_count: int = 0
    phone_flag: PhoneFlag | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Contact:
    name: str
    phone: Phone | None
    email: str | None


def check_contact(data: LeadCreate, region: str) -> Contact:
    """Normalize name, phone and email; refuse a lead nobody could get back to."""
    name = " ".join((data.name or "").split())[:MAX_NAME_LENGTH]
    email = validated_email(data.email)
    phone = None
    if data.phone and data.phone.strip():
        international = data.channel == Channel.WHATSAPP
        phone = normalize_phone(data.phone, region, international=international)
    has_channel_id = bool(data.external_id and data.external_id.strip())
    if phone is not None and not phone.usable and email is None and not has_channel_id:
        raise ValidationError(f"invalid phone number {data.phone!r} and no other contact")
    if phone is None and email is None and not has_channel_id:
        raise ValidationError("a lead needs a phone number, an email or a channel sender id")
    if not name:
        name = email or (phone.raw if phone else None) or f"{data.channel.value} contact"
    return Contact(name=name, phone=phone, email=email)


def intake_lead(
    session: Session,
    data: LeadCreate,
    *,
    actor: audit.Actor,
    settings: TeamSettings | None = None,
    now: datetime | None = None,
    delivery_checked: bool = False,
) -> IntakeResult:
    """Create a lead inside the caller's write transaction (see `Database.write`).

    The hot path of every import: Core statements built once, no ORM objects.
    """
    settings = settings or load_settings(session)
    contact = check_contact(data, settings.phone_region)
    conn = session.connection()
    at = clock.as_utc(now or clock.now())
    fields = (
        field_values.parse_values(
            session, FieldEntity.LEAD, data.fields, field_values.context(session, at)
        )
        if data.fields
        else {}
    )
    day = clock.business_date(at, settings.timezone)
    e164 = contact.phone.e164 if contact.phone else None
    email_lower = contact.email.lower() if contact.email else None
    concurrent = conn.dialect.name == "postgresql"  # SQLite's write lock is held all along
    if concurrent:
        _lock_person(conn, data, e164, email_lower)
    checking = data.dedupe_key and (concurrent or not delivery_checked)  # again under the lock
    if checking and (known := _find_delivery(conn, data)):
        return known
    first_id, first_number, first_owner, repeat_count = earlier_leads(session, e164, email_lower)
    values = lead_values(
        data,
        contact,
        day=day,
        seq=0,  # numbered below
        at=at,
        repeat_of_id=first_id,
        repeat_count=repeat_count,
        inherited_owner=first_owner,
    )
    inquiry = inquiry_values(data, lead_id=0, at=at)
    if concurrent:  # number, lead, inquiry and audit event in one statement (see its module)
        row = {key: value for key, value in values.items() if key not in NUMBERED}
        event = audit.event(actor, "lead.create", "lead", after=row, at=at)
        lead_id, seq = insert_numbered(
            conn, prefix=numbering.lead_number_prefix(day), lead=row, inquiry=inquiry, event=event
        )
        values.update(seq=seq, number=numbering.format_lead_number(day, seq))
    else:
        seq = numbering.take_next_seq(session, day)
        values.update(seq=seq, number=numbering.format_lead_number(day, seq))
        lead_id = conn.execute(_INSERT_LEAD, values).scalar_one()
        conn.execute(_INSERT_INQUIRY, {**inquiry, "lead_id": lead_id})
        after = {"id": lead_id, **values}
        audit.record(session, actor, "lead.create", "lead", lead_id, after=after, at=at)
    if fields:
        field_values.set_parsed(session, FieldEntity.LEAD, lead_id, fields, actor=actor, at=at)
    events.publish(session, LeadCreated(lead_id, data.channel.value), at=at)
    return created_result(values, lead_id=lead_id, repeat_of=first_number)


def lead_values(
    data: LeadCreate,
    contact: Contact,
    *,
    day: date,
    seq: int,
    at: datetime,
    repeat_of_id: int | None,
    repeat_count: int,
    inherited_owner: int | None,
) -> dict[str, Any]:
    """The row of a new lead (every column but the id)."""
    phone = contact.phone
    return {
        "number": numbering.format_lead_number(day, seq),
        "business_date": day,
        "seq": seq,
        "name": contact.name,
        "phone_raw": phone.raw[:64] if phone else None,
        "phone_e164": phone.e164 if phone else None,
        "phone_flag": phone.flag if phone else None,
        "email": contact.email,
        "email_lower": contact.email.lower() if contact.email else None,
        "channel": data.channel,
        "external_id": (data.external_id or "").strip()[:128] or None,
        "first_message": data.message,
        "status": LeadStatus.NEW,
        "lost_reason": None,
        "owner_id": data.owner_id if data.owner_id is not None else inherited_owner,
        "repeat_of_id": repeat_of_id,
        "repeat_count": repeat_count,
        "merged_into_id": None,
        "created_at": at,
        "updated_at": at,
        "version": 1,
        "search_name": lead_search_name(contact.name, contact.email),
    }


def inquiry_values(data: LeadCreate, *, lead_id: int, at: datetime) -> dict[str, Any]:
    """The row of the inquiry this delivery becomes."""
    return {
        "lead_id": lead_id,
        "channel": data.channel,
        "received_at": clock.as_utc(data.received_at) if data.received_at else at,
        "message": data.message,
        "dedupe_key": data.dedupe_key,
        "payload_ref": (data.payload_ref or "")[:500] or None,
        "attributes": data.attributes,
    }


def created_result(values: dict[str, Any], *, lead_id: int, repeat_of: str | None) -> IntakeResult:
    warnings = []
    if values["phone_flag"] == PhoneFlag.UNUSABLE:
        warnings.append(f"phone {values['phone_raw']!r} could not be read; kept as written")
    elif values["phone_flag"] == PhoneFlag.NOT_VALID:
        warnings.append(f"phone {values['phone_e164']} is not a valid number in its country")
    return IntakeResult(
        lead_id=lead_id,
        number=str(values["number"]),
        created=True,
        repeat_of=repeat_of,
        repeat_count=values["repeat_count"],
        phone_flag=values["phone_flag"],
        warnings=warnings,
    )


def create_lead(
    db: Database, data: LeadCreate, *, actor: audit.Actor, now: datetime | None = None
) -> IntakeResult:
    """Take in one lead in its own transaction (retried on lock contention)."""
    return db.write(lambda session: intake_lead(session, data, actor=actor, now=now))


def earlier_leads(
    session: Session, e164: str | None, email_lower: str | None, *, before: int | None = None
) -> tuple[int | None, str | None, int | None, int]:
    """(id, number, owner id) of the first lead sharing the phone or email, and how many do.

    `before` limits the search to leads taken in before that lead id. Ids are handed out
    under the day's lock, so the first lead has the lowest id.
    """
    if not (e164 or email_lower):
        return None, None, None, 0
    statement = _EARLIER[(bool(e164), bool(email_lower))]
    params = {"phone": e164, "email": email_lower, "before": before or _NO_LIMIT}
    conn = session.connection()
    row = conn.execute(statement, params).first()
    if row is None:
        return None, None, None, 0
    lead_id, number, owner_id, count, merged_into = row
    for _ in range(5):  # merged away: the person's lead is now the one it was merged into
        if merged_into is None:
            break
        lead_id, number, owner_id, merged_into = conn.execute(_SURVIVOR, {"id": merged_into}).one()
    return lead_id, number, owner_id, count


def _find_delivery(conn: Connection, data: LeadCreate) -> IntakeResult | None:
    row = conn.execute(_FIND_DELIVERY, {"channel": data.channel, "key": data.dedupe_key}).first()
    if row is None:
        return None
    return IntakeResult(lead_id=row[0], number=row[1], created=False)


def receive_message(
    session: Session,
    data: LeadCreate,
    *,
    actor: audit.Actor,
    settings: TeamSettings | None = None,
    now: datetime | None = None,
) -> IntakeResult:
    """A message from a channel sender: a new inquiry on their open lead, else a new lead.

    Deliveries are serialized per sender, so two messages from one new sender arriving
    at once make one lead with two inquiries, never two leads.
    """
    conn = session.connection()
    if data.dedupe_key and (known := _find_delivery(conn, data)) is not None:
        return known
    sender = (data.external_id or "").strip()
    if not sender:
        return intake_lead(
            session, data, actor=actor, settings=settings, now=now, delivery_checked=True
        )
    _lock_sender(session, data.channel, sender)
    concurrent = conn.dialect.name != "sqlite"
    if data.dedupe_key and concurrent and (known := _find_delivery(conn, data)) is not None:
        return known  # a concurrent delivery of the same message got here first
    lead = open_lead_of_sender(session, data.channel, sender)
    if lead is None:
        return intake_lead(
            session, data, actor=actor, settings=settings, now=now, delivery_checked=True
        )
    at = clock.as_utc(now or clock.now())
    inquiry = Inquiry(
        lead_id=saved_id(lead),
        channel=data.channel,
        received_at=clock.as_utc(data.received_at) if data.received_at else at,
        message=data.message,
        dedupe_key=data.dedupe_key,
        payload_ref=data.payload_ref,
        attributes=data.attributes,
    )
    session.add(inquiry)
    session.flush()
    audit.record(
        session,
        actor,
        "inquiry.create",
        "inquiry",
        inquiry.id,
        after={"lead_id": lead.id, "message": data.message},
        at=at,
    )
    return IntakeResult(lead_id=saved_id(lead), number=lead.number, created=False, appended=True)


def open_lead_of_sender(session: Session, channel: Channel, sender: str) -> Lead | None:
    """The lead a message from `sender` belongs on: their newest lead on the channel whose
    person is still open, a merged lead standing for the lead it was merged into."""
    candidates = session.execute(
        select(Lead.id)
        .where(Lead.channel == channel, Lead.external_id == sender)
        .order_by(Lead.id.desc())
        .limit(20)
    ).scalars()
    for lead_id in list(candidates):
        lead = session.get(Lead, survivor_id(session, lead_id))
        if lead is not None and lead.status not in (LeadStatus.WON, LeadStatus.LOST):
            return lead
    return None


def survivor_id(session: Session, lead_id: int) -> int:
    """The lead that stands for `lead_id`: itself, or the one it was merged into (a chain of
    merges followed to its end)."""
    conn = session.connection()
    for _ in range(20):  # a merge into a merged lead is refused: chains are short
        merged_into = conn.execute(_SURVIVOR, {"id": lead_id}).one()[3]
        if merged_into is None:
            break
        lead_id = merged_into
    return lead_id


def _lock_person(conn: Connection, data: LeadCreate, e164: str | None, email: str | None) -> None:
    """PostgreSQL: one person's (and one delivery's) intakes wait for each other.

    So the repeat check and the delivery check see a concurrent intake of the same phone,
    email or delivery once it commits, without holding the day's counter meanwhile. Keys
    are locked in sorted order, so two intakes never wait for each other in a cycle.
    """
    keys = sorted(
        key
        for key in (
            e164 and f"phone:{e164}",
            email and f"email:{email}",
            data.dedupe_key and f"delivery:{data.channel.value}:{data.dedupe_key}",
        )
        if key
    )
    if keys:
        params = {"space": _PERSON_LOCK_SPACE, **{f"k{i}": key for i, key in enumerate(keys)}}
        conn.execute(_LOCK_PERSON[len(keys)], params)


def _lock_sender(session: Session, channel: Channel, sender: str) -> None:
    """Serialize one sender's deliveries (SQLite's write lock already does this)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:space, hashtext(:sender))"),
            {"space": _SENDER_LOCK_SPACE, "sender": f"{channel.value}:{sender}"},
        )
