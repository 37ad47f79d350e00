"""The meeting service: book meetings and demos, warn about clashes, record outcomes."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlmodel import Session

from leadms_tui.domain import audit, clock, events
from leadms_tui.domain.errors import ConflictError, NotFoundError, ValidationError
from leadms_tui.domain.events import MeetingBooked, MeetingOutcomeSet
from leadms_tui.domain.leads.checks import check_may_edit
from leadms_tui.domain.leads.edits import change_lead
from leadms_tui.domain.models import (
    FollowUp,
    FollowUpState,
    Lead,
    LeadStatus,
    Meeting,
    MeetingAttendee,
    MeetingKind,
    MeetingOutcome,
    saved_id,
)
from leadms_tui.domain.work.followups import close_followup

BEFORE_MEETING = (LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.QUALIFIED)


class ClashError(ConflictError):
    """The meeting would overlap others of its people; nothing was booked."""

    def __init__(self, clashes: list["Clash"]) -> None:
        super().__init__(f"it clashes with {len(clashes)} other meeting(s)")
        self.clashes = clashes


class EarlyOutcomeError(ValidationError):
    """A meeting recorded as held before it starts: asked to confirm."""

    def __init__(self, starts_at: datetime) -> None:
        super().__init__("the meeting has not started yet")
        self.starts_at = starts_at


@dataclass(frozen=True)
class Clash:
    meeting_id: int
    starts_at: datetime
    duration_minutes: int
    lead_number: str


def find_clashes(
    session: Session,
    user_ids: list[int],
    starts_at: datetime,
    duration_minutes: int,
    *,
    ignore_meeting: int | None = None,
) -> list[Clash]:
    """Meetings of these reps (owned or attended) that overlap the proposed time."""
    start = clock.as_utc(starts_at)
    end = start + timedelta(minutes=duration_minutes)
    attended = select(MeetingAttendee.meeting_id).where(MeetingAttendee.user_id.in_(user_ids))
    rows = session.execute(
        select(Meeting.id, Meeting.starts_at, Meeting.duration_minutes, Lead.number)
        .join(Lead, Lead.id == Meeting.lead_id)
        .where(
            or_(Meeting.owner_id.in_(user_ids), Meeting.id.in_(attended)),
            Meeting.starts_at < end,
            Meeting.starts_at > start - timedelta(hours=24),  # no meeting lasts a day
            or_(Meeting.outcome.is_(None), Meeting.outcome == MeetingOutcome.HELD),
            Meeting.id != (ignore_meeting or -1),
        )
    ).all()
    return [Clash(*row) for row in rows if clock.as_utc(row[1]) + timedelta(minutes=row[2]) > start]


def schedule_meeting(
    session: Session,
    lead_id: int,
    *,
    starts_at: datetime,
    actor: audit.Actor,
    duration_minutes: int = 30,
    kind: MeetingKind = MeetingKind.MEETING,
    place: str | None = None,
    video_link: str | None = None,
    notes: str | None = None,
    attendee_ids: list[int] | None = None,
    refuse_clashes: bool = False,
    now: datetime | None = None,
) -> tuple[Meeting, list[Clash]]:
    """Book a meeting; returns it with the clashes it makes (booked anyway: a warning), or
    with `refuse_clashes` raises ClashError first, so a person decides before it is booked."""
    at = clock.as_utc(now or clock.now())
    if duration_minutes <= 0 or duration_minutes > 12 * 60:
        raise ValidationError("a meeting lasts between 1 minute and 12 hours")
    clock.plausible(starts_at, "meeting start")
    lead = session.get(Lead, lead_id)
    if lead is None:
        raise NotFoundError(f"no lead with id {lead_id}")
    check_may_edit(lead, actor)
    owner = lead.owner_id or actor.user_id
    attendees = list(dict.fromkeys([*(attendee_ids or []), *([owner] if owner else [])]))
    clashes = find_clashes(session, attendees, starts_at, duration_minutes)
    if clashes and refuse_clashes:
        raise ClashError(clashes)
    meeting = Meeting(
        lead_id=lead_id,
        owner_id=owner,
        kind=kind,
        starts_at=clock.as_utc(starts_at),
        duration_minutes=duration_minutes,
        place=(place or "").strip() or None,
        video_link=(video_link or "").strip() or None,
        notes=(notes or "").strip() or None,
        created_at=at,
    )
    session.add(meeting)
    session.flush()
    for user_id in attendees:
        session.add(MeetingAttendee(meeting_id=saved_id(meeting), user_id=user_id))
    audit.record(
        session,
        actor,
        "meeting.create",
        "meeting",
        meeting.id,
        after=audit.snapshot(meeting) | {"attendees": attendees},
        at=at,
    )
    _close_booking_followups(session, lead_id, actor, at)
    if lead.status in BEFORE_MEETING:
        change_lead(
            session,
            lead,
            actor,
            at,
            status=LeadStatus.MEETING_SCHEDULED,
            owner_id=lead.owner_id or owner,
        )
    # after the lead's row is written: a ladder step takes the lead, then its clock
    events.publish(session, MeetingBooked(lead_id, saved_id(meeting), actor), at=at)
    return meeting, clashes


def _close_booking_followups(
    session: Session, lead_id: int, actor: audit.Actor, at: datetime
) -> None:
    """Booking the meeting is what a "book a meeting or demo" follow-up asked for: it is done."""
    asks_for_a_meeting = or_(FollowUp.reason.ilike("%meeting%"), FollowUp.reason.ilike("%demo%"))
    open_ones = session.execute(
        select(FollowUp).where(
            FollowUp.lead_id == lead_id,
            FollowUp.state.in_([FollowUpState.OPEN, FollowUpState.MISSED]),
            asks_for_a_meeting,
        )
    ).scalars()
    for followup in open_ones:
        close_followup(session, followup, FollowUpState.DONE, actor=actor, at=at)


def record_outcome(
    session: Session,
    meeting_id: int,
    outcome: MeetingOutcome,
    *,
    actor: audit.Actor,
    notes: str | None = None,
    held_early: bool = False,
    now: datetime | None = None,
) -> Meeting:
    """Held, no-show, rescheduled or cancelled; meeting-outcome rules run in this transaction.

    "Held" before the meeting starts is refused (EarlyOutcomeError) unless `held_early` says a
    person confirmed it: a slip of a key should not close a meeting that has not happened.
    """
    at = clock.as_utc(now or clock.now())
    meeting = session.get(Meeting, meeting_id, with_for_update=True)
    if meeting is None:
        raise NotFoundError(f"no meeting with id {meeting_id}")
    lead = session.get(Lead, meeting.lead_id)
    assert lead is not None
    check_may_edit(lead, actor)
    if outcome == MeetingOutcome.HELD and meeting.starts_at > at and not held_early:
        raise EarlyOutcomeError(meeting.starts_at)
    before = audit.snapshot(meeting)
    meeting.outcome = outcome
    if notes:
        meeting.notes = "\n".join(filter(None, [meeting.notes, notes.strip()]))
    meeting.version += 1
    audit.record(
        session,
        actor,
        "meeting.outcome",
        "meeting",
        meeting.id,
        before=before,
        after=audit.snapshot(meeting),
        at=at,
    )
    held = MeetingOutcomeSet(saved_id(lead), saved_id(meeting), outcome.value)
    events.publish(session, held, at=at)
    return meeting
