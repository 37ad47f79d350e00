"""Speed to lead: every new lead carries a response clock, and a lead nobody touches in time
climbs the team's ladder (owner told, managers told, offered to another rep, reassigned).

The clock counts business minutes (team days and holidays; the owner's own hours where set)
from the lead's receipt (its `created_at`) to its first touch: a call logged with any outcome,
a meeting booked or a chat reply Meta took. Every inquiry is a lead of its own here (a repeat,
even of a closed lead, is a new lead), so an inquiry reopening a closed lead starts a clock.

A lead no longer `new` (a person moved it on) or with a call on it counts as touched too:
calls written without the event (the demo, older data) must not set the ladder off.

A lead's `response_clocks` row is written only when something happens to its clock (a touch,
a step), so intake adds no statement per lead. Leads taken in before the clocks existed
(migration 0012 stores the newest one's time as the setting `response_clock_since`) never
climb the ladder.

Exactly once, and never for a touched lead: a step locks the lead's row and its clock's (in
the order a call saved takes them), checks it is still untouched, then claims (clock, action)
with an insert under a unique key (`domain/once.py`, as the rules engine does). A touch
updates the same rows, so it waits for a step in flight and records how many steps had
fired (`steps_at_touch`); a step never fires after a touch.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, literal, not_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from leadms_tui.domain import audit, clock
from leadms_tui.domain.business_time import BusinessCalendar
from leadms_tui.domain.db import Database
from leadms_tui.domain.errors import NotFoundError
from leadms_tui.domain.events import CallSaved, Effects, MeetingBooked, ReplySent
from leadms_tui.domain.models import (
    Call,
    Lead,
    LeadStatus,
    Notification,
    ResponseClock,
    ResponseStep,
    Role,
    User,
    table_of,
)
from leadms_tui.domain.once import insert_once
from leadms_tui.domain.team.assignment import auto_assign, suggest, working_calendar
from leadms_tui.domain.team.settings import LadderStep, TeamSettings, load_settings

SWEEP_LIMIT = 500  # leads per sweep; the next sweep takes the rest
_STEPS = table_of(ResponseStep)
_CLOCKS = table_of(ResponseClock)
_called = select(Call.id).where(Call.lead_id == Lead.id).exists()


# --- starting and stopping ---------------------------------------------------------------


def on_call_saved(session: Session, event: CallSaved, at: datetime, effects: Effects) -> None:
    """Subscriber: a call with any outcome is a touch."""
    user_id, called_at = session.execute(
        select(Call.user_id, Call.called_at).where(Call.id == event.call_id)
    ).one()
    touch(session, event.lead_id, "call", user_id, min(clock.as_utc(called_at), clock.as_utc(at)))


def on_meeting_booked(
    session: Session, event: MeetingBooked, at: datetime, effects: Effects
) -> None:
    touch(session, event.lead_id, "meeting", event.actor.user_id, at)


def on_reply_sent(session: Session, event: ReplySent, at: datetime, effects: Effects) -> None:
    """Subscriber: a chat reply Meta took is a touch."""
    touch(session, event.lead_id, "reply", event.user_id, at)


def touch(session: Session, lead_id: int, kind: str, user_id: int | None, at: datetime) -> bool:
    """Stop the lead's clock if it runs; False when it had no running clock. Waits for a
    ladder step in flight on the same clock (its row lock) and counts the steps before it."""
    _ensure_clock(session, lead_id)
    stopped = session.execute(
        update(ResponseClock)
        .where(ResponseClock.lead_id == lead_id, ResponseClock.touched_at.is_(None))
        .values(
            touched_at=clock.as_utc(at),
            touched_by=kind,
            touched_by_id=user_id,
            steps_at_touch=ResponseClock.steps_fired,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    return bool(stopped)


def _ensure_clock(session: Session, lead_id: int) -> None:
    """The lead's clock row, started at its receipt, written if it is not there yet."""
    dialect = sqlite if session.get_bind().dialect.name == "sqlite" else postgresql
    received = select(Lead.id, Lead.created_at, literal(0)).where(Lead.id == lead_id)
    session.execute(
        dialect.insert(_CLOCKS)
        .from_select(["lead_id", "started_at", "steps_fired"], received)
        .on_conflict_do_nothing(index_elements=["lead_id"])
    )


def _since(settings: TeamSettings) -> datetime | None:
    """Leads received at or before this have no clock (taken in before clocks existed)."""
    return settings.response_clock_since


def has_clock(settings: TeamSettings, received_at: datetime) -> bool:
    since = _since(settings)
    return since is None or clock.as_utc(received_at) > since


# --- counting -------------------------------------------------------------------------------


def clock_calendar(settings: TeamSettings, owner: User | None) -> BusinessCalendar:
    """The owner's own hours where set, else the team's (days and holidays are the team's)."""
    if owner is not None and owner.working_hours:
        return working_calendar(owner, settings)
    return settings.calendar()


# --- the ladder sweep ---------------------------------------------------------------------


def sweep_ladder(db: Database, *, now: datetime | None = None) -> int:
    """Fire every ladder step now due on an untouched open lead; returns how many fired.
    Safe to run in many processes at once."""
    at = clock.as_utc(now or clock.now())
    with db.reading() as session:
        settings = load_settings(session)
        ladder = settings.ladder
        if not ladder:
            return 0
        due = _due_steps(session, settings, ladder, at)
    fired = 0
    for lead_id, step in due:
        fired += db.write(lambda session, lead=lead_id, s=step: _fire(session, lead, s, at))
    return fired


def due_steps(session: Session, *, at: datetime) -> list[tuple[int, LadderStep]]:
    """(lead id, step) of every ladder step due now and not yet fired (what a sweep does)."""
    settings = load_settings(session)
    return _due_steps(session, settings, settings.ladder, at) if settings.ladder else []


def _due_steps(
    session: Session, settings: TeamSettings, ladder: tuple[LadderStep, ...], at: datetime
) -> list[tuple[int, LadderStep]]:
    # business minutes never outrun wall minutes: older than the first step is a cheap filter
    earliest = at - timedelta(minutes=ladder[0].minute)
    query = (
        select(Lead.id, Lead.created_at, User)
        .outerjoin(ResponseClock, ResponseClock.lead_id == Lead.id)
        .outerjoin(User, User.id == Lead.owner_id)
        .where(
            Lead.status == LeadStatus.NEW,  # moved on by a person: it was touched
            Lead.created_at <= earliest,
            not_(_called),  # calls written without the event (the demo, older data)
            or_(
                ResponseClock.id.is_(None),
                and_(
                    ResponseClock.touched_at.is_(None),
                    ResponseClock.steps_fired < len(ladder),
                ),
            ),
        )
        .order_by(Lead.created_at, Lead.id)
        .limit(SWEEP_LIMIT)
    )
    since = _since(settings)
    if since is not None:
        query = query.where(Lead.created_at > since)
    rows = session.execute(query).all()
    fired = _fired_actions(session, [row[0] for row in rows])
    due = []
    for lead_id, received_at, owner in rows:
        calendar = clock_calendar(settings, owner)
        # each step's due moment: a walk of at most a day's minutes, however old the lead
        due.extend(
            (lead_id, step)
            for step in ladder
            if step.action not in fired.get(lead_id, ())
            and calendar.add_business_minutes(received_at, step.minute) <= at
        )
    return due


def _fired_actions(session: Session, lead_ids: list[int]) -> dict[int, set[str]]:
    fired: dict[int, set[str]] = {}
    for lead_id, action in session.execute(
        select(ResponseStep.lead_id, ResponseStep.action).where(ResponseStep.lead_id.in_(lead_ids))
    ):
        fired.setdefault(lead_id, set()).add(action)
    return fired


def _fire(session: Session, lead_id: int, step: LadderStep, at: datetime) -> int:
    """One step on one clock, exactly once, and only while the clock is untouched."""
    # the lead's row first, then the clock's: the order a call saved takes them in
    lead = session.get(Lead, lead_id, with_for_update=True)
    if lead is None:
        return 0
    _ensure_clock(session, lead_id)
    row = session.execute(
        select(ResponseClock).where(ResponseClock.lead_id == lead_id).with_for_update()
    ).scalar_one()
    clock_id = row.id
    if row.touched_at is not None or lead.status != LeadStatus.NEW:
        return 0
    values = dict(
        clock_id=clock_id,
        lead_id=lead_id,
        minute=step.minute,
        action=step.action,
        fired_at=at,
        from_user_id=lead.owner_id,
    )
    step_id = insert_once(session, _STEPS, values, ["clock_id", "action"])
    if step_id is None:
        return 0  # another sweeper fired it
    row.steps_fired += 1
    to_user_id, detail = _ACTIONS[step.action](session, lead, row, step, at)
    session.execute(
        update(ResponseStep)
        .where(ResponseStep.id == step_id)
        .values(to_user_id=to_user_id, detail=detail[:300])
    )
    return 1


def _untouched(step: LadderStep) -> str:
    return f"untouched for {step.minute} business minutes"


def _tell_owner(session, lead, row, step, at) -> tuple[int | None, str]:
    if lead.owner_id is None:
        return _tell_managers(session, lead, row, step, at)
    _notify(session, [lead.owner_id], lead, f"{_untouched(step)}: call now", at)
    return lead.owner_id, "owner told"


def _tell_managers(session, lead, row, step, at) -> tuple[int | None, str]:
    owner = _username(session, lead.owner_id) or "nobody"
    _notify(session, _managers(session), lead, f"{_untouched(step)} (owner: {owner})", at)
    return None, "managers told"


def _offer(session, lead, row, step, at) -> tuple[int | None, str]:
    candidate = next(
        (c for c in suggest(session, lead.id, now=at).ranked if c.user_id != lead.owner_id), None
    )
    if candidate is None:
        return None, _flag(session, lead, row, at)
    message = f"offered to you: {_untouched(step)} (owner: {_username(session, lead.owner_id)})"
    _notify(session, [candidate.user_id], lead, message, at)
    return candidate.user_id, f"offered to {candidate.username}"


def _reassign(session, lead, row, step, at) -> tuple[int | None, str]:
    previous = lead.owner_id
    reason = _untouched(step)
    actor = audit.Actor(None, "speed-to-lead")
    username = auto_assign(session, lead.id, at=at, actor=actor, exclude=previous, how=reason)
    if username is None:
        return None, _flag(session, lead, row, at)
    if previous is not None:
        _notify(session, [previous], lead, f"reassigned to {username}: {reason}", at)
    return lead.owner_id, f"reassigned to {username}: {reason}"


def _flag(session: Session, lead: Lead, row: ResponseClock, at: datetime) -> str:
    """No eligible rep: the lead stays, flagged, and the managers are told once."""
    if row.flagged_at is None:
        row.flagged_at = at
        _notify(session, _managers(session), lead, "no other rep can take it: it stays", at)
    return "no eligible rep: flagged"


_ACTIONS = {
    "owner": _tell_owner,
    "managers": _tell_managers,
    "offer": _offer,
    "reassign": _reassign,
}


def _managers(session: Session) -> list[int]:
    return list(
        session.execute(
            select(User.id).where(User.role == Role.MANAGER, User.active).order_by(User.id)
        ).scalars()
    )


def _username(session: Session, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    return session.execute(select(User.username).where(User.id == user_id)).scalar()


def _notify(session: Session, user_ids: list[int], lead: Lead, message: str, at: datetime) -> None:
    for user_id in dict.fromkeys(user_ids):
        text = f"{lead.number} {lead.name}: {message}"[:1000]
        session.add(Notification(user_id=user_id, lead_id=lead.id, message=text, created_at=at))


# --- reading the clock -----------------------------------------------------------------------


@dataclass(frozen=True)
class ClockEvent:
    at: datetime
    minute: int  # business minutes used at that moment
    what: str


@dataclass(frozen=True)
class ClockView:
    lead_number: str
    started_at: datetime
    touched_at: datetime | None
    touched_by: str | None
    minutes_used: int
    target_minutes: int
    flagged: bool
    events: list[ClockEvent] = field(default_factory=list)

    @property
    def state(self) -> str:
        if self.touched_at is not None:
            return "touched"
        return "over" if self.minutes_used >= self.target_minutes else "running"

    @property
    def minutes_left(self) -> int:
        return self.target_minutes - self.minutes_used

    def as_json(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "started_at": self.started_at.isoformat(),
            "touched_at": self.touched_at.isoformat() if self.touched_at else None,
            "touched_by": self.touched_by,
            "business_minutes_used": self.minutes_used,
            "target_minutes": self.target_minutes,
            "minutes_left": self.minutes_left,
            "flagged": self.flagged,
            "history": [
                {"at": e.at.isoformat(), "minute": e.minute, "what": e.what} for e in self.events
            ],
        }


def clock_view(session: Session, lead_id: int, *, now: datetime | None = None) -> ClockView | None:
    """The lead's clock and its history (started, paused/resumed, steps, touched); None for a
    lead that has none (taken in before clocks existed)."""
    at = clock.as_utc(now or clock.now())
    lead = session.get(Lead, lead_id)
    if lead is None:
        raise NotFoundError(f"no lead with id {lead_id}")
    row = session.execute(select(ResponseClock).where(ResponseClock.lead_id == lead_id)).scalar()
    settings = load_settings(session)
    if row is None:
        if not has_clock(settings, lead.created_at):
            return None
        row = ResponseClock(lead_id=lead_id, started_at=clock.as_utc(lead.created_at))
        first = session.execute(  # a call written without the event (the demo, older data)
            select(Call.called_at, Call.user_id)
            .where(Call.lead_id == lead_id)
            .order_by(Call.called_at)
            .limit(1)
        ).first()
        if first is not None:
            row.touched_at, row.touched_by, row.touched_by_id = first[0], "call", first[1]
    owner = session.get(User, lead.owner_id) if lead.owner_id else None
    calendar = clock_calendar(settings, owner)
    end = row.touched_at or at
    events = [ClockEvent(row.started_at, 0, "started: lead received")]
    events += _pauses(calendar, row.started_at, end)
    for step in session.execute(
        select(ResponseStep).where(ResponseStep.lead_id == lead_id).order_by(ResponseStep.id)
    ).scalars():
        used = calendar.business_minutes_between(row.started_at, step.fired_at)
        what = f"step {step.minute}:{step.action}: {step.detail}"
        events.append(ClockEvent(step.fired_at, used, what))
    if row.touched_at is not None:
        who = _username(session, row.touched_by_id) or "someone"
        used = calendar.business_minutes_between(row.started_at, row.touched_at)
        events.append(ClockEvent(row.touched_at, used, f"stopped: {row.touched_by} by {who}"))
    events.sort(key=lambda e: e.at)
    return ClockView(
        lead_number=lead.number,
        started_at=row.started_at,
        touched_at=row.touched_at,
        touched_by=row.touched_by,
        minutes_used=calendar.business_minutes_between(row.started_at, end),
        target_minutes=settings.response_target_minutes,
        flagged=row.flagged_at is not None,
        events=events,
    )


def _pauses(calendar: BusinessCalendar, start: datetime, end: datetime) -> list[ClockEvent]:
    """Where the clock paused (business time closed) and resumed, between start and end."""
    events: list[ClockEvent] = []
    cursor = clock.as_utc(start)
    while cursor < end and len(events) < 60:
        if calendar.is_open(cursor):
            cursor, what = _window_end(calendar, cursor), "paused: outside business hours"
        else:
            cursor, what = calendar.add_business_minutes(cursor, 0), "resumed: business hours"
        if cursor >= end:
            break
        events.append(ClockEvent(cursor, calendar.business_minutes_between(start, cursor), what))
    return events


def _window_end(calendar: BusinessCalendar, moment: datetime) -> datetime:
    """The closing instant of the open window `moment` is in."""
    local = moment.astimezone(calendar.zone)
    return datetime.combine(local.date(), calendar.closes, tzinfo=calendar.zone).astimezone(UTC)


def breaching(session: Session, *, now: datetime | None = None) -> int:
    """How many open leads are untouched past the response target (headers, filters)."""
    at = clock.as_utc(now or clock.now())
    settings = load_settings(session)
    target = settings.response_target_minutes
    query = (
        select(Lead.created_at, User)
        .outerjoin(ResponseClock, ResponseClock.lead_id == Lead.id)
        .outerjoin(User, User.id == Lead.owner_id)
        .where(
            ResponseClock.touched_at.is_(None),
            Lead.status == LeadStatus.NEW,
            not_(_called),
            Lead.created_at <= at - timedelta(minutes=target),
        )
    )
    since = _since(settings)
    if since is not None:
        query = query.where(Lead.created_at > since)
    return sum(
        clock_calendar(settings, owner).add_business_minutes(received, target) <= at
        for received, owner in session.execute(query).all()
    )
