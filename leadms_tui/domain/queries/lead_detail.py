"""Everything about one lead for its detail screen: contact, links to repeats, and a timeline."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from leadms_tui.domain.audit import Actor, changes_of
from leadms_tui.domain.errors import NotFoundError
from leadms_tui.domain.fields import history
from leadms_tui.domain.fields.definitions import list_fields
from leadms_tui.domain.leads.checks import check_may_read
from leadms_tui.domain.models import (
    AuditEvent,
    Call,
    FieldEntity,
    FollowUp,
    Inquiry,
    Lead,
    Meeting,
    User,
)
from leadms_tui.domain.phone.bridge import PhoneCallView, phone_calls_of_lead
from leadms_tui.domain.queries.sales import lead_client
from leadms_tui.domain.work.response_clock import ClockView

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
    clock: ClockView | None = None  # its response clock, where the screen reads it


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
        entries.append(TimelineEntry(at, "call", f"Call: {words(outcome)}{who}", note or ""))
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
                # "#3" read as a third try where Tries (calls logged) said 2: it counts follow-ups
                f"{ordinal(attempt)} follow-up ({words(state)}): {reason}",
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
        state = f" ({words(outcome)})" if outcome else ""
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
    for call in phone_calls_of_lead(session, lead_id, limit=TIMELINE_LIMIT):
        recording = f"recording {call.recording_url}" if call.recording_url else ""
        entries.append(TimelineEntry(call.started_at, "phone", phone_words(call), recording))
    rows = session.execute(
        select(
            AuditEvent.at,
            AuditEvent.actor,
            AuditEvent.action,
            AuditEvent.changes,
            AuditEvent.personal,
        )
        .where(
            AuditEvent.entity == "lead",
            AuditEvent.entity_id == str(lead_id),
            AuditEvent.action.in_(("lead.update", "fields.update")),
        )
        .order_by(AuditEvent.id.desc())
        .limit(TIMELINE_LIMIT)
    ).all()
    events = [
        (at, actor, action, changes_of(changes, kept)) for at, actor, action, changes, kept in rows
    ]
    names = _user_names(session, events)
    fields = {f.key: f for f in list_fields(session, FieldEntity.LEAD, include_retired=True)}
    for at, actor, action, changes in events:
        if action == "fields.update":
            text = history.describe(changes, fields)
        else:
            shown = {k: v for k, v in changes.items() if k not in _SKIPPED_CHANGES}
            text = "; ".join(_change(k, old, new, names) for k, (old, new) in shown.items())
        if text:
            entries.append(TimelineEntry(at, "change", f"Changed by {actor}", text))
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries


def _user_names(
    session: Session, events: list[tuple[datetime, str, str, dict[str, Any]]]
) -> dict[int, str]:
    """The username of every owner id the lead's changes mention (shown instead of the id)."""
    ids = {
        value
        for *_, action, changes in events
        if action == "lead.update" and "owner_id" in changes
        for value in changes["owner_id"]
        if isinstance(value, int)
    }
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.username).where(User.id.in_(ids))).all())


def _change(field: str, before: object, after: object, names: dict[int, str]) -> str:
    def value(v: object) -> str:
        if v in (None, ""):
            return "—"
        if field == "owner_id":
            return names.get(v, f"user #{v}")  # type: ignore[call-overload]
        return words(str(v)) if field in _WORD_VALUES else str(v)

    label = _FIELD_LABELS.get(field, field.replace("_", " "))
    return f"{label}: {value(before)} → {value(after)}"


def phone_words(call: PhoneCallView) -> str:
    """ "Phone: outbound, 2:31, busy, ana" as the timeline and the call modal say it."""
    parts = [call.direction.value]
    if call.duration_seconds is not None:
        minutes, seconds = divmod(call.duration_seconds, 60)
        parts.append(f"{minutes}:{seconds:02d}")
    if call.end_status is not None:
        parts.append(words(call.end_status.value))
    elif call.state != "ended":
        parts.append(words(call.state.value))
    if call.rep:
        parts.append(call.rep)
    return "Phone: " + ", ".join(parts)


def words(value: str) -> str:
    """A stored enum value as people say it: "meeting_scheduled" → "meeting scheduled"."""
    return value.replace("_", " ")


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th ... 11th, 12th, 13th, 21st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
