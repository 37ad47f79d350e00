"""Many leads at once (file imports): the rules of `intake_lead`, a few statements per batch.

A batch takes the day's counter lock, finds which rows were delivered before and
which match earlier leads in one query each, numbers the new leads gaplessly, and
inserts leads, inquiries and audit events with one multi-row statement each. Rows
that name a channel sender (webhook payloads, chats) go one by one through
`receive_message`, since they may become inquiries on that sender's open lead.
"""

import json
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, any_, bindparam, column, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Session

from leadms_tui.domain import audit, bulk_insert, clock, events
from leadms_tui.domain.db import Database
from leadms_tui.domain.errors import LeadMSError, ValidationError
from leadms_tui.domain.events import LeadCreated
from leadms_tui.domain.fields import values as field_values
from leadms_tui.domain.fields.definitions import list_fields
from leadms_tui.domain.leads import numbering
from leadms_tui.domain.leads.intake import (
    Contact,
    IntakeResult,
    LeadCreate,
    check_contact,
    created_result,
    inquiry_values,
    lead_values,
    receive_message,
)
from leadms_tui.domain.models import AuditEvent, FieldEntity, Inquiry, Lead, table_of
from leadms_tui.domain.team.settings import TeamSettings, load_settings

log = logging.getLogger("leadms.intake")
_LEADS, _INQUIRIES = table_of(Lead), table_of(Inquiry)
_EVENTS = table_of(AuditEvent)
# PostgreSQL's COPY returns nothing: the new leads' ids are found by day and sequence.
_IDS_OF_DAY = select(_LEADS.c.seq, _LEADS.c.id).where(
    _LEADS.c.business_date == bindparam("day"),
    _LEADS.c.seq.between(bindparam("low"), bindparam("high")),
)
# Earlier leads with any of a batch's phones or emails. The lists go as one parameter each (a
# JSON array on SQLite, an array on PostgreSQL), not as a thousand expanded IN parameters.
_EARLIER_COLUMNS = (
    _LEADS.c.id,
    _LEADS.c.number,
    _LEADS.c.owner_id,
    _LEADS.c.phone_e164,
    _LEADS.c.email_lower,
)


def _json_values(name: str):
    return select(column("value", String)).select_from(func.json_each(bindparam(name)))


_EARLIER_SQLITE = select(*_EARLIER_COLUMNS).where(
    _LEADS.c.phone_e164.in_(_json_values("phones"))
    | _LEADS.c.email_lower.in_(_json_values("emails"))
)
_EARLIER_POSTGRES = select(*_EARLIER_COLUMNS).where(
    (_LEADS.c.phone_e164 == any_(bindparam("phones", type_=ARRAY(String))))
    | (_LEADS.c.email_lower == any_(bindparam("emails", type_=ARRAY(String))))
)
_LINK_REPEAT = (
    _LEADS.update()
    .where(_LEADS.c.id == bindparam("lead_id"))
    .values(repeat_of_id=bindparam("first_id"))
)


@dataclass(frozen=True)
class RowOutcome:
    """What became of one row of a bulk intake: a result, or the reason it was refused."""

    row: int
    result: IntakeResult | None = None
    error: str | None = None
    column: str | None = None


@dataclass(eq=False)  # identity: a row is itself, not its values
class _NewLead:
    index: int  # position in the batch
    row: int
    data: LeadCreate
    contact: Contact
    repeat_of_id: int | None = None  # the first earlier stored lead with this phone or email
    repeat_count: int = 0
    inherited_owner: int | None = None
    first_number: str | None = None
    in_batch_first: "_NewLead | None" = None  # the first lead is earlier in this same batch
    duplicate_of: "_NewLead | None" = None  # the same delivery appeared earlier in the batch
    values: dict | None = None
    lead_id: int | None = None
    fields: dict | None = None  # dynamic field values, validated

    @property
    def contacts(self) -> list[str]:
        phone = self.contact.phone.e164 if self.contact.phone else None
        email = self.contact.email.lower() if self.contact.email else None
        return [c for c in (phone, email) if c]


def intake_batch(
    session: Session,
    rows: list[tuple[int, LeadCreate]],
    *,
    actor: audit.Actor,
    settings: TeamSettings,
    now: datetime | None = None,
) -> list[RowOutcome]:
    """Take in `rows` inside the caller's write transaction; outcomes in row order."""
    outcomes: list[RowOutcome | None] = [None] * len(rows)
    fresh: list[_NewLead] = []
    at = clock.as_utc(now or clock.now())
    with_fields = any(data.fields for _, data in rows)
    definitions = list_fields(session, FieldEntity.LEAD) if with_fields else []
    field_context = field_values.context(session, at) if with_fields else None
    for index, (row, data) in enumerate(rows):
        if data.external_id:
            continue  # one by one below, through receive_message
        try:
            lead = _NewLead(index, row, data, check_contact(data, settings.phone_region))
            if data.fields:  # a bad value refuses the row before anything is written
                lead.fields = field_values.parse_values(
                    session,
                    FieldEntity.LEAD,
                    data.fields,
                    field_context,
                    fields=definitions,  # type: ignore[arg-type]
                )
            fresh.append(lead)
        except ValidationError as exc:
            outcomes[index] = RowOutcome(row, error=str(exc), column=_column_of(str(exc)))

    day = clock.business_date(at, settings.timezone)
    conn = session.connection()
    if fresh:
        last_seq = numbering.lock_day(session, day)  # intake of this day waits from here
        known = _known_deliveries(conn, [lead.data for lead in fresh])
        taken: dict[tuple[str, str], _NewLead] = {}
        new: list[_NewLead] = []
        for lead in fresh:
            key = (lead.data.channel.value, lead.data.dedupe_key or "")
            if lead.data.dedupe_key and key in known:
                outcomes[lead.index] = RowOutcome(lead.row, result=known[key])
            elif lead.data.dedupe_key and key in taken:
                lead.duplicate_of = taken[key]  # the same row twice: skipped
            else:
                taken[key] = lead
                new.append(lead)
        _find_earlier(conn, new)
        for seq, lead in enumerate(new, start=last_seq + 1):
            first = lead.in_batch_first
            owner = first.values["owner_id"] if first and first.values else lead.inherited_owner
            lead.values = lead_values(
                lead.data,
                lead.contact,
                day=day,
                seq=seq,
                at=at,
                repeat_of_id=lead.repeat_of_id,
                repeat_count=lead.repeat_count,
                inherited_owner=owner,
            )
            if first and first.values:
                lead.first_number = first.values["number"]
        if new:
            _insert(conn, session, new, day=day, last_seq=last_seq, at=at, actor=actor)
            for lead in new:
                if lead.fields:
                    field_values.set_parsed(
                        session,
                        FieldEntity.LEAD,
                        lead.lead_id,
                        lead.fields,
                        actor=actor,
                        at=at,  # type: ignore[arg-type]
                    )
        for lead in fresh:
            if outcomes[lead.index] is not None:
                continue
            if lead.lead_id is not None:
                result = created_result(
                    lead.values or {}, lead_id=lead.lead_id, repeat_of=lead.first_number
                )
            else:  # a duplicate of a row earlier in this batch
                first = lead.duplicate_of
                result = IntakeResult(
                    lead_id=first.lead_id,
                    number=first.values["number"],  # type: ignore[union-attr,index,arg-type]
                    created=False,
                )
            outcomes[lead.index] = RowOutcome(lead.row, result=result)

    for index, (row, data) in enumerate(rows):
        if outcomes[index] is None:  # rows from a channel sender
            try:
                result = receive_message(session, data, actor=actor, settings=settings, now=now)
                outcomes[index] = RowOutcome(row, result=result)
            except ValidationError as exc:
                outcomes[index] = RowOutcome(row, error=str(exc), column=_column_of(str(exc)))
    return outcomes  # type: ignore[return-value]


def _insert(
    conn,
    session: Session,
    new: list[_NewLead],
    *,
    day,
    last_seq: int,
    at: datetime,
    actor: audit.Actor,
) -> None:
    numbering.set_last_seq(session, day, last_seq + len(new))
    rows = [lead.values for lead in new]
    if conn.dialect.name == "sqlite":
        ids = dict(bulk_insert.insert_rows(conn, _LEADS, rows, returning=("seq", "id")))  # type: ignore[arg-type]
    else:
        bulk_insert.insert_rows(conn, _LEADS, rows)  # type: ignore[arg-type]
        numbered = {"day": day, "low": last_seq + 1, "high": last_seq + len(new)}
        ids = dict(conn.execute(_IDS_OF_DAY, numbered).all())
    for lead in new:
        lead.lead_id = ids[lead.values["seq"]]  # type: ignore[index]
    links = [
        {"lead_id": lead.lead_id, "first_id": lead.in_batch_first.lead_id}
        for lead in new
        if lead.in_batch_first is not None
    ]
    if links:
        conn.execute(_LINK_REPEAT, links)
        for lead in new:
            if lead.in_batch_first is not None and lead.values is not None:
                lead.values["repeat_of_id"] = lead.in_batch_first.lead_id
    inquiries = [inquiry_values(lead.data, lead_id=lead.lead_id, at=at) for lead in new]  # type: ignore[arg-type]
    bulk_insert.insert_rows(conn, _INQUIRIES, inquiries)
    bulk_insert.insert_rows(conn, _EVENTS, [_create_event(actor, lead, at) for lead in new])
    for lead in new:
        created = LeadCreated(lead.lead_id, lead.data.channel.value)  # type: ignore[arg-type]
        events.publish(session, created, at=at)


def _known_deliveries(conn, batch: list[LeadCreate]) -> dict[tuple[str, str], IntakeResult]:
    """Deliveries of this batch taken in before, by (channel, dedupe key)."""
    by_channel: dict[str, list[str]] = {}
    for data in batch:
        if data.dedupe_key:
            by_channel.setdefault(data.channel.value, []).append(data.dedupe_key)
    found: dict[tuple[str, str], IntakeResult] = {}
    for channel, keys in by_channel.items():
        rows = conn.execute(
            select(_INQUIRIES.c.dedupe_key, _LEADS.c.id, _LEADS.c.number)
            .join(_LEADS, _LEADS.c.id == _INQUIRIES.c.lead_id)
            .where(_INQUIRIES.c.channel == channel, _INQUIRIES.c.dedupe_key.in_(keys))
        )
        for key, lead_id, number in rows:
            found[(channel, key)] = IntakeResult(lead_id=lead_id, number=number, created=False)
    return found


def _find_earlier(conn, new: list[_NewLead]) -> None:
    """Each new lead's first earlier lead with its phone or email (stored or in this batch)."""
    phones = {c for lead in new for c in lead.contacts if c.startswith("+")}
    emails = {c for lead in new for c in lead.contacts if not c.startswith("+")}
    stored: dict[str, list[tuple[int, str, int | None]]] = {}
    if phones or emails:
        if conn.dialect.name == "sqlite":
            lists = {"phones": json.dumps(list(phones)), "emails": json.dumps(list(emails))}
            found = conn.execute(_EARLIER_SQLITE, lists)
        else:
            found = conn.execute(
                _EARLIER_POSTGRES, {"phones": list(phones), "emails": list(emails)}
            )
        for lead_id, number, owner, phone, email in found:
            for contact in (phone, email):
                if contact in phones or contact in emails:
                    stored.setdefault(contact, []).append((lead_id, number, owner))
    seen: dict[str, list[_NewLead]] = {}
    for lead in new:
        earlier_stored = {match for c in lead.contacts for match in stored.get(c, [])}
        earlier_new = list(dict.fromkeys(e for c in lead.contacts for e in seen.get(c, [])))
        lead.repeat_count = len(earlier_stored) + len(earlier_new)
        if earlier_stored:
            lead.repeat_of_id, lead.first_number, lead.inherited_owner = min(earlier_stored)
        elif earlier_new:
            lead.in_batch_first = earlier_new[0]
        for contact in lead.contacts:
            seen.setdefault(contact, []).append(lead)


def _create_event(actor: audit.Actor, lead: _NewLead, at: datetime) -> dict:
    after = {"id": lead.lead_id, **(lead.values or {})}
    return {
        **audit.event(actor, "lead.create", "lead", after=after, at=at),
        "entity_id": str(lead.lead_id),
    }


def take_in_many(
    db: Database,
    rows: Iterable[tuple[int, LeadCreate]],
    *,
    actor: audit.Actor,
    batch_size: int = 500,
    dry_run: bool = False,
) -> Iterator[RowOutcome]:
    """Take in many leads, committing in batches; a bad row never costs the good ones.

    A batch that fails as a whole (an unexpected database error) is redone row by row,
    so only the offending rows are refused. `dry_run` runs everything in one transaction
    and rolls it back: the counts are exact and nothing is written.
    """

    def batch_work(chunk: list[tuple[int, LeadCreate]]) -> Callable[[Session], list[RowOutcome]]:
        def work(session: Session) -> list[RowOutcome]:
            return intake_batch(session, chunk, actor=actor, settings=load_settings(session))

        return work

    if dry_run:
        yield from db.write(batch_work(list(rows)), dry_run=True)
        return
    for chunk in _chunks(rows, batch_size):
        try:
            outcomes = db.write(batch_work(chunk))
        except LeadMSError:
            raise  # the database is gone: stop; the committed batches stay
        except Exception as exc:
            log.warning(
                "batch of %d rows failed as a whole (%s); retrying row by row",
                len(chunk),
                _first_line(exc),
            )
            outcomes = []
            for item in chunk:
                try:
                    outcomes.extend(db.write(batch_work([item])))
                except LeadMSError:
                    raise
                except Exception as exc:
                    outcomes.append(RowOutcome(item[0], error=f"not stored: {_first_line(exc)}"))
        yield from outcomes


def _chunks(
    rows: Iterable[tuple[int, LeadCreate]], size: int
) -> Iterator[list[tuple[int, LeadCreate]]]:
    chunk: list[tuple[int, LeadCreate]] = []
    for item in rows:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _first_line(error: Exception) -> str:
    """A one-line reason (the log reaches a terminal: no tracebacks there)."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _column_of(message: str) -> str | None:
    for name in ("phone", "email", "name"):
        if name in message:
            return name
    return None
