"""Follow-up and meeting queries: lists for the CLI and calendars, missed-commitment counts."""

from dataclasses import asdict, dataclass
from datetime import date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from leadms_tui.domain import clock
from leadms_tui.domain.models import (
    FollowUp,
    Lead,
    Meeting,
    MeetingAttendee,
    OnboardingTask,
    User,
)
from leadms_tui.domain.queries.dayview import day_bounds


@dataclass(frozen=True)
class FollowUpItem:
    id: int
    lead: str
    name: str
    owner: str | None
    due_at: datetime
    reason: str
    attempt: int
    state: str
    missed_at: datetime | None

    def as_json(self) -> dict[str, object]:
        data = asdict(self)
        data["due_at"] = self.due_at.isoformat()
        data["missed_at"] = self.missed_at.isoformat() if self.missed_at else None
        return data


@dataclass(frozen=True)
class MeetingItem:
    id: int
    lead: str
    name: str
    owner: str | None
    owner_name: str | None
    kind: str
    starts_at: datetime
    duration_minutes: int
    place: str | None
    video_link: str | None
    notes: str | None
    outcome: str | None
    missed_at: datetime | None
    created_at: datetime

    def as_json(self) -> dict[str, object]:
        data = asdict(self)
        for key in ("starts_at", "missed_at", "created_at"):
            data[key] = data[key].isoformat() if data[key] else None
        return data


def list_followups(
    *,
    session: Session,
    timezone: str,
    owner_id: int | None = None,
    day: date | None = None,
    state: str | None = None,
    limit: int = 10_000,
) -> list[FollowUpItem]:
    owner = aliased(User)
    query = (
        select(
            FollowUp.id,
            Lead.number,
            Lead.name,
            owner.username,
            FollowUp.due_at,
            FollowUp.reason,
            FollowUp.attempt,
            FollowUp.state,
            FollowUp.missed_at,
        )
        .join(Lead, Lead.id == FollowUp.lead_id)
        .outerjoin(owner, owner.id == FollowUp.owner_id)
        .order_by(FollowUp.due_at, FollowUp.id)
        .limit(limit)
    )
    if owner_id is not None:
        query = query.where(FollowUp.owner_id == owner_id)
    if day is not None:
        start, end = day_bounds(day, timezone)
        query = query.where(FollowUp.due_at >= start, FollowUp.due_at < end)
    if state:
        query = query.where(FollowUp.state == state)
    return [FollowUpItem(*row) for row in session.execute(query)]


def list_meetings(
    *,
    session: Session,
    timezone: str,
    owner_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    limit: int = 10_000,
) -> list[MeetingItem]:
    owner = aliased(User)
    query = (
        select(
            Meeting.id,
            Lead.number,
            Lead.name,
            owner.username,
            owner.display_name,
            Meeting.kind,
            Meeting.starts_at,
            Meeting.duration_minutes,
            Meeting.place,
            Meeting.video_link,
            Meeting.notes,
            Meeting.outcome,
            Meeting.missed_at,
            Meeting.created_at,
        )
        .join(Lead, Lead.id == Meeting.lead_id)
        .outerjoin(owner, owner.id == Meeting.owner_id)
        .order_by(Meeting.starts_at, Meeting.id)
        .limit(limit)
    )
    if owner_id is not None:
        attends = select(MeetingAttendee.meeting_id).where(MeetingAttendee.user_id == owner_id)
        query = query.where(or_(Meeting.owner_id == owner_id, Meeting.id.in_(attends)))
    if date_from is not None:
        query = query.where(Meeting.starts_at >= day_bounds(date_from, timezone)[0])
    if date_to is not None:
        query = query.where(Meeting.starts_at < day_bounds(date_to, timezone)[1])
    return [MeetingItem(*row) for row in session.execute(query)]


def meeting_attendees(*, session: Session, meeting_ids: list[int]) -> dict[int, list[str]]:
    rows = session.execute(
        select(MeetingAttendee.meeting_id, User.display_name)
        .join(User, User.id == MeetingAttendee.user_id)
        .where(MeetingAttendee.meeting_id.in_(meeting_ids))
    )
    names: dict[int, list[str]] = {}
    for meeting_id, name in rows:
        names.setdefault(meeting_id, []).append(name)
    return names


def missed_commitments(
    *, session: Session, timezone: str, date_from: date, date_to: date
) -> dict[tuple[str, date], int]:
    """Missed follow-ups, meetings and onboarding tasks per (rep username, business date of
    the commitment)."""
    start, _ = day_bounds(date_from, timezone)
    _, end = day_bounds(date_to, timezone)
    counts: dict[tuple[str, date], int] = {}
    for model, moment in ((FollowUp, FollowUp.due_at), (Meeting, Meeting.starts_at)):
        rows = session.execute(
            select(User.username, moment)
            .join(User, User.id == model.owner_id)
            .where(model.missed_at.is_not(None), moment >= start, moment < end)
        )
        for username, when in rows:
            key = (username, clock.business_date(when, timezone))
            counts[key] = counts.get(key, 0) + 1
    tasks = session.execute(
        select(User.username, OnboardingTask.due_on)
        .join(User, User.id == OnboardingTask.owner_id)
        .where(
            OnboardingTask.missed_at.is_not(None),
            OnboardingTask.due_on >= date_from,
            OnboardingTask.due_on <= date_to,
        )
    )
    for username, day in tasks:
        counts[(username, day)] = counts.get((username, day), 0) + 1
    return counts


def count_missed_today(*, session: Session, owner_id: int | None) -> int:
    """Open follow-ups already marked missed (the day view shows them in red at the top)."""
    query = select(func.count()).select_from(FollowUp).where(FollowUp.state == "missed")
    if owner_id is not None:
        query = query.where(FollowUp.owner_id == owner_id)
    return session.execute(query).scalar_one()
