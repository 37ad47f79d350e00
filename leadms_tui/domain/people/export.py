"""Everything Lead MS holds about one person, in one zip: `person.json` (their leads,
inquiries, replies, calls and phone calls, follow-ups, meetings, field values, clients,
sales, commissions, onboarding tasks, notifications about them, and the audit events about
any of those rows) and `files/` with the documents and images of their fields. What a data
subject access request asks for; the export itself is audited (who took what, when)."""

import io
import json
import zipfile
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlmodel import Session, SQLModel

from leadms_tui.domain import audit, clock
from leadms_tui.domain.audit import plain
from leadms_tui.domain.models import (
    AuditEvent,
    Call,
    Client,
    Commission,
    FieldDefinition,
    FieldEntity,
    FieldValue,
    FollowUp,
    Inquiry,
    Lead,
    Meeting,
    Notification,
    OnboardingTask,
    OutboundMessage,
    PhoneCall,
    ResponseClock,
    ResponseStep,
    Sale,
    StoredFile,
    table_of,
)
from leadms_tui.domain.people.person import Person

# section name → (model, the column naming the person's lead or client, lead or client)
BY_LEAD = {
    "leads": (Lead, "id"),
    "inquiries": (Inquiry, "lead_id"),
    "replies": (OutboundMessage, "lead_id"),
    "calls": (Call, "lead_id"),
    "phone_calls": (PhoneCall, "lead_id"),
    "follow_ups": (FollowUp, "lead_id"),
    "meetings": (Meeting, "lead_id"),
    "response_clocks": (ResponseClock, "lead_id"),
    "response_steps": (ResponseStep, "lead_id"),
    "notifications": (Notification, "lead_id"),
    "sales": (Sale, "lead_id"),
}
BY_CLIENT = {
    "clients": (Client, "id"),
    "onboarding_tasks": (OnboardingTask, "client_id"),
}
_AUDITED_AS = {  # audit entity names of the exported rows
    "leads": "lead", "calls": "call", "follow_ups": "followup", "meetings": "meeting",
    "clients": "client", "sales": "sale", "replies": "message", "phone_calls": "phone_call",
    "commissions": "commission", "onboarding_tasks": "onboarding_task",
}  # fmt: skip


def export_person(
    session: Session, person: Person, *, actor: audit.Actor, now: datetime | None = None
) -> bytes:
    """The zip's bytes; one audit event records the export (not its content)."""
    at = clock.as_utc(now or clock.now())
    sections: dict[str, list[dict[str, Any]]] = {}
    for name, (model, column) in BY_LEAD.items():
        sections[name] = _rows(session, model, column, person.lead_ids)
    for name, (model, column) in BY_CLIENT.items():
        sections[name] = _rows(session, model, column, person.client_ids)
    sale_ids = [row["id"] for row in sections["sales"]]
    sections["commissions"] = _rows(session, Commission, "sale_id", sale_ids)
    meeting_ids = [row["id"] for row in sections["meetings"]]
    sections["field_values"], files = _field_values(session, person, meeting_ids)
    sections["audit_events"] = _audit_events(session, sections)
    document = {
        "exported_at": at.isoformat(),
        "exported_by": actor.name,
        "person": {"phones": person.phones, "emails": person.emails},
        **sections,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "person.json", json.dumps(document, indent=2, default=str, ensure_ascii=False)
        )
        for stored in files:
            archive.writestr(f"files/{stored.sha256}", stored.content)
    audit.record(
        session, actor, "person.export", "person", ",".join(map(str, person.lead_ids))[:64],
        after={"leads": person.lead_ids, "clients": person.client_ids}, at=at,
    )  # fmt: skip
    return buffer.getvalue()


def _rows(
    session: Session, model: type[SQLModel], column: str, ids: list[int]
) -> list[dict[str, Any]]:
    if not ids:
        return []
    table = table_of(model)
    result = session.execute(select(table).where(table.c[column].in_(ids)).order_by(table.c.id))
    return [{key: plain(value) for key, value in row.items()} for row in result.mappings()]


def _field_values(
    session: Session, person: Person, meeting_ids: list[int]
) -> tuple[list[dict[str, Any]], list[StoredFile]]:
    owners = []
    if meeting_ids:
        owners.append(
            and_(
                FieldDefinition.entity == FieldEntity.MEETING,
                FieldValue.entity_id.in_(meeting_ids),
            )
        )
    if person.lead_ids:
        owners.append(
            and_(
                FieldDefinition.entity == FieldEntity.LEAD,
                FieldValue.entity_id.in_(person.lead_ids),
            )
        )
    if person.client_ids:
        owners.append(
            and_(
                FieldDefinition.entity == FieldEntity.CLIENT,
                FieldValue.entity_id.in_(person.client_ids),
            )
        )
    if not owners:
        return [], []
    rows = session.execute(
        select(FieldDefinition.entity, FieldDefinition.key, FieldValue)
        .join(FieldDefinition, FieldDefinition.id == FieldValue.definition_id)
        .where(or_(*owners))
        .order_by(FieldValue.id)
    ).all()
    values, file_ids = [], set()
    for entity, key, value in rows:
        shown = {k: plain(v) for k, v in audit.snapshot(value).items()}
        values.append({"entity": str(entity), "field": key, **shown})
        if value.file_id:
            file_ids.add(value.file_id)
    files = list(session.execute(select(StoredFile).where(StoredFile.id.in_(file_ids))).scalars())
    return values, files


def _audit_events(
    session: Session, sections: dict[str, list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    about = [
        and_(
            AuditEvent.entity == entity,
            AuditEvent.entity_id.in_([str(r["id"]) for r in sections[name]]),
        )
        for name, entity in _AUDITED_AS.items()
        if sections.get(name)
    ]
    if not about:
        return []
    table = table_of(AuditEvent)
    result = session.execute(select(table).where(or_(*about)).order_by(table.c.id))
    events = []
    for row in result.mappings():
        shown = {key: plain(value) for key, value in row.items() if key != "personal"}
        shown["changes"] = audit.changes_of(row["changes"], row["personal"])
        events.append(shown)
    return events
