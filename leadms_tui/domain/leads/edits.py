"""The lead service: edits of contact data and status, with optimistic concurrency.

Every edit names the version the editor saw; the UPDATE only applies while the
row still has that version, so a concurrent edit is refused, never overwritten.
"""

from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select, update
from sqlmodel import Session

from leadms_tui.domain import audit, clock, events
from leadms_tui.domain.errors import ConflictError, NotFoundError, PermissionDeniedError
from leadms_tui.domain.errors import ValidationError as InvalidInput
from leadms_tui.domain.events import LeadClosed
from leadms_tui.domain.leads.checks import MAX_NAME_LENGTH, check_may_edit, validated_email
from leadms_tui.domain.leads.phones import normalize_phone
from leadms_tui.domain.leads.repeats import earlier_leads
from leadms_tui.domain.models import (
    AuditEvent,
    Lead,
    LeadStatus,
    Role,
    lead_search_name,
    saved_id,
)
from leadms_tui.domain.team.settings import load_settings

# The path a lead walks; moving forward may skip steps, moving back is for managers.
STATUS_ORDER = [
    LeadStatus.NEW,
    LeadStatus.CONTACTED,
    LeadStatus.QUALIFIED,
    LeadStatus.MEETING_SCHEDULED,
    LeadStatus.WON,
]
CLOSED = {LeadStatus.WON, LeadStatus.LOST}


class LeadUpdate(BaseModel):
    """The fields an editor may change; None leaves a field as it is."""

    model_config = ConfigDict(frozen=True)

    name: str | None = None
    phone: str | None = None  # "" clears it
    email: str | None = None  # "" clears it
    status: LeadStatus | None = None
    lost_reason: str | None = None


def check_transition(
    current: LeadStatus, new: LeadStatus, actor: audit.Actor, lost_reason: str | None
) -> None:
    """Refuse a status change the lead's path does not allow for this actor."""
    if new == current:
        return
    if new == LeadStatus.WON:
        raise InvalidInput("a lead is won by converting it (v, or leadms leads convert)")
    if new == LeadStatus.LOST:
        if not (lost_reason or "").strip():
            raise InvalidInput("a lost lead needs a lost reason")
        return
    privileged = actor.role != Role.REP
    if current in CLOSED and not privileged:
        raise PermissionDeniedError(f"only a manager can reopen a {current.value} lead")
    if not privileged and STATUS_ORDER.index(new) < STATUS_ORDER.index(current):
        raise PermissionDeniedError(
            f"only a manager can move a lead back from {current.value} to {new.value}"
        )


def change_lead(
    session: Session, lead: Lead, actor: audit.Actor, at: datetime, **values: object
) -> None:
    """Set fields on a lead already locked or loaded in this transaction, bump its version,
    and audit the change (services that own the rule for the change call this)."""
    before = audit.snapshot(lead)
    closing = values.get("status") in CLOSED and lead.status not in CLOSED
    for key, value in values.items():
        setattr(lead, key, value)
    if closing:
        events.publish(session, LeadClosed(saved_id(lead), lead.status, actor), at=at)
    if "name" in values or "email" in values:
        lead.search_name = lead_search_name(lead.name, lead.email)
    lead.updated_at = at
    lead.version += 1
    audit.record(
        session,
        actor,
        "lead.update",
        "lead",
        lead.id,
        before=before,
        after=audit.snapshot(lead),
        at=at,
    )


def update_lead(
    session: Session,
    lead_id: int,
    changes: LeadUpdate,
    *,
    expected_version: int,
    actor: audit.Actor,
    now: datetime | None = None,
) -> Lead:
    """Apply `changes` if nobody changed the lead since `expected_version` was read."""
    lead = session.get(Lead, lead_id)
    if lead is None:
        raise NotFoundError(f"no lead with id {lead_id}")
    if lead.version != expected_version:
        raise _conflict(session, lead)
    check_may_edit(lead, actor)
    before = audit.snapshot(lead)
    values: dict[str, object] = {}
    name, email = lead.name, lead.email
    if changes.name is not None:
        name = " ".join(changes.name.split())
        if not name:
            raise InvalidInput("the name cannot be empty")
        if len(name) > MAX_NAME_LENGTH:  # the cap of intake, where longer names are cut
            raise InvalidInput(f"the name is longer than {MAX_NAME_LENGTH} characters")
        values["name"] = name
    if changes.phone is not None:
        values.update(_phone_values(session, changes.phone))
    if changes.email is not None:
        email = validated_email(changes.email)
        values.update(email=email, email_lower=email.lower() if email else None)
    if changes.name is not None or changes.email is not None:
        values["search_name"] = lead_search_name(name, email)
    if changes.status is not None:
        check_transition(LeadStatus(lead.status), changes.status, actor, changes.lost_reason)
        values["status"] = changes.status
        values["lost_reason"] = (
            changes.lost_reason.strip()
            if changes.status == LeadStatus.LOST and changes.lost_reason
            else None
        )
    phone_after = values.get("phone_e164", lead.phone_e164)
    email_after = values.get("email_lower", lead.email_lower)
    if not (phone_after or email_after or lead.external_id):
        raise InvalidInput("a lead needs a phone number, an email or a channel sender id")
    if lead.repeat_of_id is None and ("phone_e164" in values or "email_lower" in values):
        first_id, _, _, count = earlier_leads(session, phone_after, email_after, before=lead.id)
        if first_id is not None:  # a contact learned later links the lead to the person's first
            values.update(repeat_of_id=first_id, repeat_count=count)
    if not values:
        return lead
    values.update(updated_at=clock.as_utc(now or clock.now()), version=expected_version + 1)
    result = session.execute(
        update(Lead)
        .where(Lead.id == lead_id, Lead.version == expected_version)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # changed between our read and our write
        raise _conflict(session, lead)
    session.refresh(lead)
    audit.record(
        session, actor, "lead.update", "lead", lead.id, before=before, after=audit.snapshot(lead)
    )
    if values.get("status") in CLOSED and before["status"] not in CLOSED:
        closed = LeadClosed(saved_id(lead), lead.status, actor)
        events.publish(session, closed, at=values["updated_at"])  # type: ignore[arg-type]
    return lead


def _phone_values(session: Session, phone: str) -> dict[str, object]:
    if not phone.strip():
        return {"phone_raw": None, "phone_e164": None, "phone_flag": None}
    parsed = normalize_phone(phone, load_settings(session).phone_region)
    if not parsed.usable:
        raise InvalidInput(f"invalid phone number {phone!r}")
    return {"phone_raw": parsed.raw, "phone_e164": parsed.e164, "phone_flag": parsed.flag}


def _conflict(session: Session, lead: Lead) -> ConflictError:
    last = session.execute(
        select(AuditEvent.actor, AuditEvent.at)
        .where(AuditEvent.entity == "lead", AuditEvent.entity_id == str(lead.id))
        .order_by(AuditEvent.id.desc())
        .limit(1)
    ).first()
    zone = load_settings(session).timezone
    by = f" by {last[0]} at {clock.local(last[1], zone):%H:%M}" if last else ""
    return ConflictError(
        f"{lead.number} was changed{by} since you opened it; reload to see the change"
    )
