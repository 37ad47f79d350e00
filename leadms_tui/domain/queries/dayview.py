"""The day view's queries: a fixed handful of statements, whatever the size of the data."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from leadms_tui.domain.models import (
    Call,
    FollowUp,
    FollowUpState,
    Lead,
    LeadStatus,
    Meeting,
    MeetingAttendee,
    ResponseClock,
    User,
)
from leadms_tui.domain.queries.sales import TaskRow, list_tasks
from leadms_tui.domain.team.settings import load_settings

SECTION_LIMIT = 300  # rows shown per section; the header count is always the full count


@dataclass(frozen=True)
class FollowUpRow:
    id: int
    lead_id: int
    number: str
    name: str
    phone: str | None
    reason: str
    due_at: datetime
    attempts: int  # calls logged on the lead so far
    owner: str | None
    missed: bool  # its day ended with it still open (shown first, in red)
    version: int


@dataclass(frozen=True)
class NewLeadRow:
    lead_id: int
    number: str
    name: str
    phone: str | None
    channel: str
    created_at: datetime
    is_repeat: bool
    owner: str | None
    owner_hours: str = ""  # the owner's own working hours: their response clock's calendar
    touched: bool = False  # called or met: its response clock has stopped


@dataclass(frozen=True)
class MeetingRow:
    id: int
    lead_id: int
    number: str
    name: str
    kind: str
    starts_at: datetime
    duration_minutes: int
    place: str | None
    owner: str | None


@dataclass(frozen=True)
class CallRow:
    id: int
    lead_id: int
    number: str
    name: str
    outcome: str
    note: str | None
    called_at: datetime
    by: str | None


@dataclass(frozen=True)
class DayView:
    day: date
    followups: list[FollowUpRow]
    followups_total: int
    new_leads: list[NewLeadRow]
    new_leads_total: int
    meetings: list[MeetingRow]
    calls: list[CallRow]
    tasks: list[TaskRow] = field(default_factory=list)  # onboarding tasks open or missed by then
    more_tasks: bool = False  # more than SECTION_LIMIT of them
    holiday: str | None = None  # the team is closed: "Christmas Day", or "holiday" (hand-added)


def day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    """The UTC instants where `day` starts and ends in the team's timezone."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return start, end


def load_day_view(*, session: Session, day: date, timezone: str, owner_id: int | None) -> DayView:
    """The day's work for one rep (`owner_id`) or the whole team (None).

    A rep also sees unassigned new leads, so nobody's inquiry waits unseen.
    """
    start, end = day_bounds(day, timezone)
    owner = aliased(User)
    call_count = (
        select(func.count()).where(Call.lead_id == Lead.id).correlate(Lead).scalar_subquery()
    )

    due = and_(
        FollowUp.state.in_([FollowUpState.OPEN, FollowUpState.MISSED]), FollowUp.due_at < end
    )
    if owner_id is not None:
        due = and_(due, FollowUp.owner_id == owner_id)
    followups_total = session.scalar(select(func.count()).select_from(FollowUp).where(due)) or 0
    followups = [
        FollowUpRow(*row)
        for row in session.execute(
            select(
                FollowUp.id,
                Lead.id,
                Lead.number,
                Lead.name,
                func.coalesce(Lead.phone_e164, Lead.phone_raw),
                FollowUp.reason,
                FollowUp.due_at,
                call_count,
                owner.username,
                FollowUp.state == FollowUpState.MISSED,
                FollowUp.version,
            )
            .join(Lead, Lead.id == FollowUp.lead_id)
            .outerjoin(owner, owner.id == FollowUp.owner_id)
            .where(due)
            .order_by((FollowUp.state == FollowUpState.MISSED).desc(), FollowUp.due_at, FollowUp.id)
            .limit(SECTION_LIMIT)
        )
    ]

    listed_above = (
        select(FollowUp.id)
        .where(
            FollowUp.lead_id == Lead.id,
            FollowUp.state.in_([FollowUpState.OPEN, FollowUpState.MISSED]),
            FollowUp.due_at < end,
        )
        .correlate(Lead)
        .exists()
    )  # a new lead with a follow-up due shows once, under follow-ups
    fresh = and_(
        Lead.status == LeadStatus.NEW,
        Lead.created_at < end,
        Lead.merged_into_id.is_(None),  # a merged lead lives on in its survivor
        ~listed_above,
    )
    if owner_id is not None:
        fresh = and_(fresh, or_(Lead.owner_id == owner_id, Lead.owner_id.is_(None)))
    new_total = session.scalar(select(func.count()).select_from(Lead).where(fresh)) or 0
    # the team's view puts leads nobody owns first: a manager's next job is to give them out
    new_leads_order = [Lead.owner_id.is_not(None)] if owner_id is None else []
    touched = or_(
        select(Call.id).where(Call.lead_id == Lead.id).correlate(Lead).exists(),
        select(ResponseClock.id)
        .where(ResponseClock.lead_id == Lead.id, ResponseClock.touched_at.is_not(None))
        .correlate(Lead)
        .exists(),
    )
    new_leads = [
        NewLeadRow(*row)
        for row in session.execute(
            select(
                Lead.id,
                Lead.number,
                Lead.name,
                func.coalesce(Lead.phone_e164, Lead.phone_raw),
                Lead.channel,
                Lead.created_at,
                Lead.repeat_of_id.is_not(None),
                owner.username,
                func.coalesce(owner.working_hours, ""),
                touched,
            )
            .outerjoin(owner, owner.id == Lead.owner_id)
            .where(fresh)
            .order_by(*new_leads_order, Lead.created_at, Lead.id)
            .limit(SECTION_LIMIT)
        )
    ]

    meeting_filter = and_(Meeting.starts_at >= start, Meeting.starts_at < end)
    if owner_id is not None:
        attends = select(MeetingAttendee.meeting_id).where(MeetingAttendee.user_id == owner_id)
        meeting_filter = and_(
            meeting_filter, or_(Meeting.owner_id == owner_id, Meeting.id.in_(attends))
        )
    meetings = [
        MeetingRow(*row)
        for row in session.execute(
            select(
                Meeting.id,
                Lead.id,
                Lead.number,
                Lead.name,
                Meeting.kind,
                Meeting.starts_at,
                Meeting.duration_minutes,
                func.coalesce(Meeting.place, Meeting.video_link),
                owner.username,
            )
            .join(Lead, Lead.id == Meeting.lead_id)
            .outerjoin(owner, owner.id == Meeting.owner_id)
            .where(meeting_filter)
            .order_by(Meeting.starts_at, Meeting.id)
            .limit(SECTION_LIMIT)
        )
    ]

    call_filter = and_(Call.called_at >= start, Call.called_at < end)
    if owner_id is not None:
        call_filter = and_(call_filter, Call.user_id == owner_id)
    calls = [
        CallRow(*row)
        for row in session.execute(
            select(
                Call.id,
                Lead.id,
                Lead.number,
                Lead.name,
                Call.outcome,
                Call.note,
                Call.called_at,
                owner.username,
            )
            .join(Lead, Lead.id == Call.lead_id)
            .outerjoin(owner, owner.id == Call.user_id)
            .where(call_filter)
            .order_by(Call.called_at.desc(), Call.id.desc())
            .limit(SECTION_LIMIT)
        )
    ]
    tasks = list_tasks(session=session, owner_id=owner_id, due_by=day, limit=SECTION_LIMIT + 1)
    return DayView(
        day=day,
        followups=followups,
        followups_total=followups_total,
        new_leads=new_leads,
        new_leads_total=new_total,
        meetings=meetings,
        calls=calls,
        tasks=tasks[:SECTION_LIMIT],
        more_tasks=len(tasks) > SECTION_LIMIT,
        holiday=load_settings(session).calendar().holiday_name(day),
    )
