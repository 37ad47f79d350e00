"""Everything about one lead for its detail screen: contact, links to repeats, and a timeline."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from leadms_tui.domain.audit import Actor
from leadms_tui.domain.errors import NotFoundError
from leadms_tui.domain.leads.checks import check_may_read
from leadms_tui.domain.models import AuditEvent, Call, FollowUp, Inquiry, Lead, Meeting, User
from leadms_tui.domain.repositories.sales import lead_client

TIMELINE_LIMIT = 100  # newest entries per kind
_SKIPPED_CHANGES = {"updated_at", "version", "email_lower", "phone_e164", "search_name"}
# How a changed field reads to a person (the rest: its name with spaces)
_FIELD_LABELS = {"phone_raw": "phone", "owner_id": "owner", "lost_reason": "lost reason"}
_WORD_VALUES = {"status", "phone_flag", "channel"}  # enum values: "meeting_scheduled" → words


@dataclass(frozen=True)
class RelatedLead:
    id: int
    number: str
    name: str
    channel: str
    status: str
    created_at: datetime
    owner: str | None = None  # whose it is: said even when the viewer may not open it


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # inquiry, call, followup, meeting, change
    title: str
    detail: str = ""
    # A moment the entry is about (a follow-up's due time, a meeting's start), with its label:
    # shown by the screen in the team timezone, never here in UTC.
    about: datetime | None = None
    about_label: str = ""


@dataclass(frozen=True)
class LeadDetail:
    lead: Lead  # detached copy; read it, don't write it
    owner: str | None
    repeat_of: str | None
    related: list[RelatedLead]  # the same person's other leads, oldest first
    timeline: list[TimelineEntry]  # newest first
    client_number: str | None = None  # the client a converted lead became (its live sale's)


def lead_phone(*, session: Session, lead_id: int) -> tuple[str | None, str | None]:
    """(E.164 phone, the phone as written) of a lead, for the call modal's dial action."""
    row = session.execute(select(Lead.phone_e164, Lead.phone_raw).where(Lead.id == lead_id)).first()
    return (row[0], row[1]) if row else (None, None)


def lead_owner(*, session: Session, lead_id: int) -> tuple[int | None, str | None]:
    """(owner id, owner username) of a lead, for the conversion modal's commission split."""
    row = session.execute(
        select(Lead.owner_id, User.username)
        .outerjoin(User, User.id == Lead.owner_id)
        .where(Lead.id == lead_id)
    ).first()
    return (row[0], row[1]) if row else (None, None)


def load_lead_detail(*, session: Session, lead_id: int, viewer: Actor) -> LeadDetail:
    """The lead, if `viewer` may open it (PermissionDeniedError otherwise). Its repeats are
    listed by number, channel, status and owner: the person has another lead, and whose."""
    check_may_read(session, viewer, lead_id)
    earlier = aliased(Lead)
    row = session.execute(
        select(Lead, User.username, earlier.number)
        .outerjoin(User, User.id == Lead.owner_id)
        .outerjoin(earlier, earlier.id == Lead.repeat_of_id)
        .where(Lead.id == lead_id)
    ).first()
    if row is None:
        raise NotFoundError(f"no lead with id {lead_id}")
    lead, owner, repeat_of = row
    root = lead.repeat_of_id or lead.id
    related = [
        RelatedLead(*r)
        for r in session.execute(
            select(
                Lead.id,
                Lead.number,
                Lead.name,
                Lead.channel,
                Lead.status,
                Lead.created_at,
                User.username,
            )
            .outerjoin(User, User.id == Lead.owner_id)
            .where(or_(Lead.id == root, Lead.repeat_of_id == root), Lead.id != lead.id)
            .order_by(Lead.id)
            .limit(TIMELINE_LIMIT)
        )
    ]
    client = lead_client(session=session, lead_id=lead.id)
    return LeadDetail(
        lead, owner, repeat_of, related, _timeline(session, lead.id), client[1] if client else None
    )


def _timeline(session: Session, lead_id: int) -> list[TimelineEntry]:
    entries: list[TimelineEntry] = []
    for at, channel, message in session.execute(
        select(Inquiry.received_at, Inquiry.channel, Inquiry.message)
        .where(Inquiry.lead_id == lead_id)
        .order_by(Inquiry.id.desc())
        .limit(TIMELINE_LIMIT)
    ):
        entries.append(TimelineEntry(at, "inquiry", f"Inquiry via {channel}", message or ""))
    for at, outcome, note, by in session.execute(
        select(Call.called_at, Call.outcome, Call.note, User.username)
        .outerjoin(User, User.id == Call.user_id)
        .where(Call.lead_id == lead_id)
        .order_by(Call.called_at.desc())
        .limit(TIMELINE_LIMIT)
    ):
        who = f" by {by}" if by else ""
        entries.append(
            TimelineEntry(at, "call", f"Call: {outcome.replace('_', ' ')}{who}", note or "")
        )
    for created, due, reason, state, attempt in session.execute(
        select(
            FollowUp.created_at, FollowUp.due_at, FollowUp.reason, FollowUp.state, FollowUp.attempt
        )
        .where(FollowUp.lead_id == lead_id)
        .order_by(FollowUp.id.desc())
        .limit(TIMELINE_LIMIT)
    ):
        entries.append(
            TimelineEntry(
                created,
                "followup",
                f"Follow-up #{attempt} ({state}): {reason}",
                about=due,
                about_label="due",
            )
        )
    for created, starts, kind, outcome, place in session.execute(
        select(Meeting.created_at, Meeting.starts_at, Meeting.kind, Meeting.outcome, Meeting.place)
        .where(Meeting.lead_id == lead_id)
        .order_by(Meeting.id.desc())
        .limit(TIMELINE_LIMIT)
    ):
        state = f" ({outcome})" if outcome else ""
        entries.append(
            TimelineEntry(
                created,
                "meeting",
                f"{kind.capitalize()}{state}",
                place or "",
                about=starts,
                about_label="at",
            )
        )
    for at, actor, changes in session.execute(
        select(AuditEvent.at, AuditEvent.actor, AuditEvent.changes)
        .where(
            AuditEvent.entity == "lead",
            AuditEvent.entity_id == str(lead_id),
            AuditEvent.action == "lead.update",
        )
        .order_by(AuditEvent.id.desc())
        .limit(TIMELINE_LIMIT)
    ):
        shown = {k: v for k, v in changes.items() if k not in _SKIPPED_CHANGES}
        if shown:
            text = "; ".join(_change(k, before, after) for k, (before, after) in shown.items())
            entries.append(TimelineEntry(at, "change", f"Changed by {actor}", text))
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries


def _change(field: str, before: object, after: object) -> str:
    def value(v: object) -> str:
        text = "—" if v in (None, "") else str(v)
        return text.replace("_", " ") if field in _WORD_VALUES else text

    label = _FIELD_LABELS.get(field, field.replace("_", " "))
    return f"{label}: {value(before)} → {value(after)}"
