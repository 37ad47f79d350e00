"""Erase a person (`people erase`): their names, phones, emails, chat sender ids, messages,
notes, field values and files go from every table and from the audit trail's kept-apart
personal values; what the reports count stays (lead rows and numbers, statuses, dates,
owners, channels, call outcomes and durations, sale and commission amounts).

The trail itself is not touched: the erase seals it first, clears only `personal`, and
checks the seal after (see domain/trail.py). Which columns are personal: domain/personal.py.
"""

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, delete, func, or_, select, update
from sqlmodel import Session, col

from leadms_tui.domain import audit, clock, personal, trail
from leadms_tui.domain.db import Database, translate_errors
from leadms_tui.domain.errors import ConflictError, PermissionDeniedError, ValidationError
from leadms_tui.domain.leads.phones import national_digits
from leadms_tui.domain.models import (
    AuditEvent,
    Call,
    Client,
    Commission,
    CommissionState,
    DialRequest,
    DuplicateDismissal,
    FieldDefinition,
    FieldEntity,
    FieldValue,
    FollowUp,
    Inquiry,
    IntakeReject,
    Lead,
    LeadMerge,
    Meeting,
    Notification,
    OnboardingTask,
    OutboundMessage,
    PhoneCall,
    Role,
    Sale,
    StoredFile,
    table_of,
)
from leadms_tui.domain.people.person import Person

ERASED = personal.ERASED
UNPAID = (CommissionState.PENDING, CommissionState.APPROVED)
_MIN_NAME = 4  # shorter names are not searched for in free text (too many false hits)
_TRAIL_CHANGED = (
    "the audit trail does not match its seal: nothing erased (run `leadms audit verify`)"
)


class UnpaidCommissionError(ValidationError):
    """The person's sales still owe commission: a second confirmation is needed."""


class AlreadyErasedError(ValidationError):
    pass


@dataclass(frozen=True)
class Erased:
    lead_numbers: list[str]
    counts: dict[str, int] = field(default_factory=dict)  # table → rows cleared or deleted
    seal_id: int = 0


def confirmation_numbers(session: Session, person: Person) -> list[str]:
    """The lead numbers a person may type to confirm the erase (the first is offered)."""
    rows = session.execute(
        select(Lead.number).where(Lead.id.in_(person.lead_ids)).order_by(Lead.id)
    )
    return list(rows.scalars())


def unpaid_commissions(session: Session, person: Person) -> int:
    """How many of the person's commissions are not paid yet (pending or approved)."""
    return (
        session.execute(
            select(func.count())
            .select_from(Commission)
            .where(Commission.sale_id.in_(_sale_ids(person)), Commission.state.in_(UNPAID))
        ).scalar()
        or 0
    )


def erase_person(
    session: Session,
    person: Person,
    *,
    actor: audit.Actor,
    reason: str,
    confirm: str,
    unpaid_ok: bool = False,
    now: datetime | None = None,
) -> Erased:
    """Erase `person` in the caller's transaction, audited with one `person.erase` event
    (the reason, the lead numbers, the counts; never the identity). `confirm` is one of the
    person's lead numbers, typed; unpaid commissions need `unpaid_ok`."""
    at = clock.as_utc(now or clock.now())
    if actor.role not in (None, Role.ADMIN.value):
        raise PermissionDeniedError("only an admin can erase a person")
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError("give the reason for the erase (--reason)")
    numbers = confirmation_numbers(session, person)
    if confirm.strip().upper() not in numbers:
        raise ValidationError(
            f"{confirm.strip()!r} is not one of this person's lead numbers: nothing erased"
        )
    if already := _already_erased(session, numbers):
        raise AlreadyErasedError(f"{already} was already erased")
    if not unpaid_ok and (unpaid := unpaid_commissions(session, person)):
        raise UnpaidCommissionError(
            f"{unpaid} commission(s) on this person's sales are not paid yet: their amounts "
            "stay, their identity goes; confirm again to erase"
        )
    sqlite = session.get_bind().dialect.name == "sqlite"
    if sqlite:  # pages freed by this transaction are zeroed, not left holding the text
        session.connection().exec_driver_sql("PRAGMA secure_delete = ON")
    sealed = trail.seal(session, actor, now=at)
    counts, about = _clear_rows(session, person)
    counts["audit_events"] = _clear_audit(session, person, about)
    if not trail.check_unchanged(session, sealed):  # what came before, as sealed
        raise ConflictError(_TRAIL_CHANGED)
    if sqlite:  # the search index drops the erased entries now, not at some later merge
        session.connection().exec_driver_sql(
            "INSERT INTO lead_search(lead_search) VALUES ('optimize')"
        )
        session.connection().exec_driver_sql("PRAGMA secure_delete = OFF")
    audit.record(
        session, actor, "person.erase", "person", ",".join(map(str, person.lead_ids))[:64],
        after={"reason": reason[:500], "leads": numbers, "clients": len(person.client_ids),
               "erased": counts, "seal": sealed.id},
        at=at,
    )  # fmt: skip
    return Erased(numbers, counts, sealed.id)


def _already_erased(session: Session, numbers: list[str]) -> str | None:
    """A lead number of these that an earlier `person.erase` covered."""
    wanted = set(numbers)
    for changes in session.execute(
        select(AuditEvent.changes).where(AuditEvent.action == "person.erase")
    ).scalars():
        erased = set(changes.get("leads", [None, []])[1] or [])
        if hit := sorted(wanted & erased):
            return hit[0]
    return None


def _sale_ids(person: Person) -> Any:
    return select(Sale.id).where(
        or_(Sale.lead_id.in_(person.lead_ids), Sale.client_id.in_(person.client_ids))
    )


def _ids(session: Session, column: Any, *where: Any) -> list[int]:
    return list(session.execute(select(column).where(or_(*where))).scalars())


def _set(session: Session, model: Any, ids: list[int], **values: Any) -> int:
    if not ids:
        return 0
    table = table_of(model)
    session.execute(update(table).where(table.c.id.in_(ids)).values(**values))
    return len(ids)


def _clear_rows(session: Session, person: Person) -> tuple[dict[str, int], dict[str, list[int]]]:
    """Overwrite or delete every personal value of the person: each table's row count, and
    the ids per audit entity whose events are about the person."""
    leads, clients = person.lead_ids, person.client_ids
    phones = person.phones
    ids: dict[str, list[int]] = {"lead": leads, "client": clients}
    ids["inquiry"] = _ids(session, Inquiry.id, Inquiry.lead_id.in_(leads))
    ids["call"] = _ids(session, Call.id, Call.lead_id.in_(leads))
    ids["followup"] = _ids(session, FollowUp.id, FollowUp.lead_id.in_(leads))
    ids["meeting"] = _ids(session, Meeting.id, Meeting.lead_id.in_(leads))
    ids["message"] = _ids(session, OutboundMessage.id, OutboundMessage.lead_id.in_(leads))
    ids["sale"] = list(session.execute(_sale_ids(person)).scalars())
    ids["commission"] = _ids(session, Commission.id, Commission.sale_id.in_(ids["sale"]))
    ids["onboarding_task"] = _ids(session, OnboardingTask.id, OnboardingTask.client_id.in_(clients))
    ids["phone_call"] = _ids(
        session, PhoneCall.id, PhoneCall.lead_id.in_(leads), PhoneCall.client_id.in_(clients),
        PhoneCall.remote_e164.in_(phones),
    )  # fmt: skip
    ids["dial"] = _ids(
        session, DialRequest.id, DialRequest.lead_id.in_(leads), DialRequest.number.in_(phones)
    )
    ids["duplicate"] = _ids(
        session, DuplicateDismissal.id,
        DuplicateDismissal.first_lead_id.in_(leads), DuplicateDismissal.second_lead_id.in_(leads),
    )  # fmt: skip
    needles = _needles(session, person, _names(session, leads, clients))
    counts: dict[str, int] = {}
    counts["leads"] = _set(
        session, Lead, leads, name=ERASED, phone_raw=None, phone_e164=None, email=None,
        email_lower=None, external_id=None, first_message=None, search_name="",
        version=Lead.version + 1,
    )  # fmt: skip
    counts["clients"] = _set(
        session, Client, clients, name=ERASED, phone_raw=None, phone_e164=None, email=None,
        email_lower=None, search_name="", version=Client.version + 1,
    )  # fmt: skip
    counts["inquiries"] = _set(
        session, Inquiry, ids["inquiry"], message=None, dedupe_key=None, payload_ref=None,
        attributes={},
    )  # fmt: skip
    counts["calls"] = _set(session, Call, ids["call"], note=None)
    counts["follow_ups"] = _set(session, FollowUp, ids["followup"], reason=ERASED)
    counts["meetings"] = _set(
        session, Meeting, ids["meeting"], place=None, video_link=None, notes=None
    )
    counts["outbound_messages"] = _set(
        session, OutboundMessage, ids["message"], recipient=ERASED, body=ERASED,
        parameters=[], error_detail=None,
    )  # fmt: skip
    counts["sales"] = _set(session, Sale, ids["sale"], reverse_reason=None)
    counts["phone_calls"] = _set(
        session, PhoneCall, ids["phone_call"], remote_number=None, remote_e164=None,
        recording_url=None,
    )  # fmt: skip
    counts["dial_requests"] = _set(session, DialRequest, ids["dial"], number=ERASED, detail=ERASED)
    counts["duplicate_dismissals"] = _delete(session, DuplicateDismissal, ids["duplicate"])
    counts["notifications"] = _clear_notifications(session, leads, needles)
    counts["lead_merges"] = _set(
        session, LeadMerge,
        _ids(session, LeadMerge.id, LeadMerge.survivor_id.in_(leads),
             LeadMerge.merged_id.in_(leads)),
        before={"erased": True},
    )  # fmt: skip
    counts["field_values"], counts["stored_files"] = _delete_field_values(
        session, leads, clients, ids["meeting"]
    )
    counts["intake_rejects"] = _delete_rejects(session, needles)
    return counts, ids


def _names(session: Session, leads: list[int], clients: list[int]) -> set[str]:
    found = _ids(session, Lead.name, Lead.id.in_(leads))
    found += _ids(session, Client.name, Client.id.in_(clients))
    return {name for name in map(str.strip, found) if len(name) >= _MIN_NAME and name != ERASED}


def _delete(session: Session, model: Any, ids: list[int]) -> int:
    if not ids:
        return 0
    table = table_of(model)
    session.execute(delete(table).where(table.c.id.in_(ids)))
    return len(ids)


def _clear_notifications(session: Session, leads: list[int], needles: Iterable[str]) -> int:
    """Notifications about the person's leads, and any naming them or their contacts."""
    about = [Notification.lead_id.in_(leads)]
    about += [_holds(col(Notification.message), n) for n in needles]
    return _set(session, Notification, _ids(session, Notification.id, *about), message=ERASED)


def _delete_field_values(
    session: Session, leads: list[int], clients: list[int], meetings: list[int]
) -> tuple[int, int]:
    """Every field value of the person's records, and the files no other value keeps."""
    owners = [
        and_(FieldDefinition.entity == entity, FieldValue.entity_id.in_(ids))
        for entity, ids in (
            (FieldEntity.LEAD, leads), (FieldEntity.CLIENT, clients),
            (FieldEntity.MEETING, meetings),
        )
        if ids
    ]  # fmt: skip
    if not owners:
        return 0, 0
    rows = session.execute(
        select(FieldValue.id, FieldValue.file_id)
        .join(FieldDefinition, FieldDefinition.id == FieldValue.definition_id)
        .where(or_(*owners))
    ).all()
    value_ids = [row[0] for row in rows]
    file_ids = {row[1] for row in rows if row[1] is not None}
    _delete(session, FieldValue, value_ids)
    still_used = set(
        session.execute(
            select(FieldValue.file_id).where(FieldValue.file_id.in_(file_ids))
        ).scalars()
    )
    return len(value_ids), _delete(session, StoredFile, sorted(file_ids - still_used))


def _holds(column: Any, needle: str) -> Any:
    """`column` holds `needle`, ignoring case (LIKE ignores it on SQLite only)."""
    return func.lower(column).contains(needle.lower(), autoescape=True)


def _needles(session: Session, person: Person, names: set[str]) -> set[str]:
    """What free text naming the person holds: their names, phones (E.164 with and without
    the plus, national digits), emails and chat sender ids."""
    needles = set(person.phones) | {p.lstrip("+") for p in person.phones}
    needles |= {national_digits(p) for p in person.phones} - {""}
    needles |= set(person.emails) | names
    senders = session.execute(
        select(Lead.external_id).where(Lead.id.in_(person.lead_ids), Lead.external_id.is_not(None))
    ).scalars()
    return needles | {s for s in senders if s and len(s) >= _MIN_NAME}


def _delete_rejects(session: Session, needles: Iterable[str]) -> int:
    """Intake rejects (raw refused messages, not business records) holding any of them."""
    table: Table = table_of(IntakeReject)
    where = [_holds(c, n) for n in sorted(needles) for c in (table.c.payload, table.c.reason)]
    if not where:
        return 0
    return _delete(session, IntakeReject, _ids(session, table.c.id, *where))


def _clear_audit(session: Session, person: Person, ids: dict[str, list[int]]) -> int:
    """Clear the kept-apart personal values of every event about the person's rows (the
    database lets an update of audit_events do nothing else), and check that the trail
    columns of those events are as they were."""
    undone = session.execute(
        select(AuditEvent.entity_id, AuditEvent.changes).where(
            AuditEvent.action == "call.undo", col(AuditEvent.personal).is_not(None)
        )
    ).all()
    leads = set(person.lead_ids)
    calls = [int(i) for i, ch in undone if (ch.get("lead_id") or [None])[0] in leads]
    ids = {**ids, "call": [*ids["call"], *calls]}
    events: list[int] = []
    for entity, entity_ids in ids.items():
        for start in range(0, len(entity_ids), 1_000):
            part = [str(i) for i in entity_ids[start : start + 1_000]]
            events += session.execute(
                select(AuditEvent.id).where(
                    col(AuditEvent.entity) == entity,
                    col(AuditEvent.entity_id).in_(part),
                    col(AuditEvent.personal).is_not(None),
                )
            ).scalars()
    before = trail.digest_of(session, events)
    for start in range(0, len(events), 1_000):
        session.connection().execute(  # the one update of the trail's table
            update(AuditEvent)
            .where(col(AuditEvent.id).in_(events[start : start + 1_000]))
            .values(personal=None)
            .execution_options(synchronize_session=False)
        )
    if trail.digest_of(session, events) != before:
        raise ConflictError(_TRAIL_CHANGED)
    return len(events)


TOUCHED_TABLES = (
    "leads", "clients", "inquiries", "calls", "follow_ups", "meetings", "outbound_messages",
    "sales", "phone_calls", "dial_requests", "duplicate_dismissals", "notifications",
    "lead_merges", "field_values", "stored_files", "intake_rejects", "audit_events",
)  # fmt: skip


def compact(database: Database) -> None:
    """After an erase has committed: leave no freed page holding the erased text. SQLite:
    VACUUM rewrites the file from its live rows, then the WAL is emptied. PostgreSQL: a
    plain VACUUM of the touched tables (outside a transaction) frees the old row versions
    for reuse; VACUUM FULL, which would rewrite the files, locks every table for the time."""
    if database.is_sqlite:  # on the driver's connection: the engine's begins every use
        raw = database.engine.raw_connection()
        try:
            driver = cast(sqlite3.Connection, raw.driver_connection)
            with translate_errors():
                driver.execute("VACUUM")
                driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
        return
    with translate_errors(), database.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql(f"VACUUM {', '.join(TOUCHED_TABLES)}")
