"""The follow-up service: book, complete, skip, reschedule and reassign follow-ups."""

from datetime import datetime

from sqlalchemy import Select, func, or_, select
from sqlmodel import Session

from leadms_tui.domain import audit, clock
from leadms_tui.domain.errors import ConflictError, NotFoundError, ValidationError
from leadms_tui.domain.events import Effects, LeadClosed, MeetingBooked
from leadms_tui.domain.leads.checks import check_may_edit
from leadms_tui.domain.models import (
    FollowUp,
    FollowUpState,
    Lead,
    LeadStatus,
    Notification,
    User,
    saved_id,
)
from leadms_tui.domain.team.settings import load_settings

OPEN_STATES = (FollowUpState.OPEN, FollowUpState.MISSED)


def add_followup(
    session: Session,
    lead_id: int,
    *,
    due_at: datetime,
    reason: str,
    actor: audit.Actor,
    owner_id: int | None = None,
    now: datetime | None = None,
) -> FollowUp:
    """Book a follow-up on a lead (for its owner unless another owner is named)."""
    at = clock.as_utc(now or clock.now())
    clock.plausible(due_at, "due time")
    lead = session.get(Lead, lead_id)
    if lead is None:
        raise NotFoundError(f"no lead with id {lead_id}")
    check_may_edit(lead, actor)
    if lead.status in (LeadStatus.WON, LeadStatus.LOST):
        raise ValidationError(f"{lead.number} is {lead.status}: reopen it before a follow-up")
    return book_followup(
        session,
        lead,
        due_at=due_at,
        reason=reason,
        actor=actor,
        at=at,
        owner_id=owner_id or lead.owner_id or actor.user_id,
    )


def book_followup(
    session: Session,
    lead: Lead,
    *,
    due_at: datetime,
    reason: str,
    actor: audit.Actor,
    at: datetime,
    owner_id: int | None = None,
    rule_id: int | None = None,
) -> FollowUp:
    """Insert the lead's next follow-up (attempt numbers count up) and audit it.

    The one place follow-ups are made: by people, by calls and by rules.
    """
    previous = session.execute(
        select(func.max(FollowUp.attempt)).where(FollowUp.lead_id == lead.id)
    ).scalar()
    followup = FollowUp(
        lead_id=saved_id(lead),
        owner_id=owner_id if owner_id is not None else lead.owner_id,
        due_at=clock.as_utc(due_at),
        reason=reason.strip() or "Follow up",
        attempt=(previous or 0) + 1,
        rule_id=rule_id,
        created_by_id=actor.user_id,
        created_at=at,
    )
    session.add(followup)
    session.flush()
    audit.record(
        session,
        actor,
        "followup.create",
        "followup",
        followup.id,
        after=audit.snapshot(followup),
        at=at,
    )
    return followup


def close_followup(
    session: Session,
    followup: FollowUp,
    state: FollowUpState,
    *,
    actor: audit.Actor,
    at: datetime,
    note: str | None = None,
) -> None:
    """End a follow-up as done or skipped, audited (with a note saying why, when there is one)."""
    before = audit.snapshot(followup)
    followup.state = state
    followup.completed_at = at
    followup.version += 1
    after = audit.snapshot(followup) | ({"note": note} if note else {})
    audit.record(
        session, actor, "followup.update", "followup", followup.id,
        before=before, after=after, at=at,
    )  # fmt: skip


def change_followup(
    session: Session,
    followup_id: int,
    *,
    actor: audit.Actor,
    expected_version: int | None = None,
    state: FollowUpState | None = None,
    due_at: datetime | None = None,
    owner_username: str | None = None,
    now: datetime | None = None,
) -> FollowUp:
    """Complete or skip (`state`), reschedule (`due_at`) or reassign (`owner_username`).

    A missed follow-up stays missed, counted against the rep who missed it on the day it was
    due: rescheduling or reassigning it books its successor (the returned follow-up) instead.
    """
    at = clock.as_utc(now or clock.now())
    if due_at is not None:
        clock.plausible(due_at, "due time")
    followup = session.get(FollowUp, followup_id, with_for_update=True)
    if followup is None:
        raise NotFoundError(f"no follow-up with id {followup_id}")
    if expected_version is not None and followup.version != expected_version:
        raise ConflictError("the follow-up was changed by someone else; reload to see it")
    lead = session.get(Lead, followup.lead_id)
    assert lead is not None
    check_may_edit(lead, actor)
    if followup.state not in OPEN_STATES:
        raise ValidationError(f"the follow-up is already {followup.state}")
    new_owner_id = None
    if owner_username is not None:
        if actor.is_rep:
            raise ValidationError("only a manager can reassign a follow-up")
        owner = session.execute(
            select(User).where(User.username == owner_username.strip().lower(), User.active)
        ).scalar_one_or_none()
        if owner is None:
            raise NotFoundError(f"no active user {owner_username!r}")
        new_owner_id = owner.id
    if due_at is not None or new_owner_id is not None:
        _tell_owners(session, followup, lead, actor, at, due_at, new_owner_id)
    if followup.state == FollowUpState.MISSED and state is None:
        # Closed as superseded (its missed_at keeps the miss on the record), and followed up.
        close_followup(session, followup, FollowUpState.SKIPPED, actor=actor, at=at)
        return book_followup(
            session,
            lead,
            due_at=due_at or at,
            reason=followup.reason,
            actor=actor,
            at=at,
            owner_id=new_owner_id or followup.owner_id,
        )
    before = audit.snapshot(followup)
    if state is not None:
        if state not in (FollowUpState.DONE, FollowUpState.SKIPPED):
            raise ValidationError("a follow-up can be marked done or skipped")
        followup.state = state
        followup.completed_at = at
    if due_at is not None:
        followup.due_at = clock.as_utc(due_at)
    if new_owner_id is not None:
        followup.owner_id = new_owner_id
    followup.version += 1
    audit.record(
        session,
        actor,
        "followup.update",
        "followup",
        followup.id,
        before=before,
        after=audit.snapshot(followup),
        at=at,
    )
    return followup


def _tell_owners(
    session: Session,
    followup: FollowUp,
    lead: Lead,
    actor: audit.Actor,
    at: datetime,
    due_at: datetime | None,
    new_owner_id: int | None,
) -> None:
    """A follow-up moved or handed over by someone else: its rep (and the new one) hear of it
    in their inbox, and as a toast in an open TUI."""
    timezone = load_settings(session).timezone
    due = f"{clock.local(due_at or followup.due_at, timezone):%a %d %b %H:%M}"
    what = f"{lead.number} {lead.name}: follow-up"
    told: dict[int | None, str] = {}
    if new_owner_id is not None and new_owner_id != followup.owner_id:
        told[followup.owner_id] = f"{what} handed to someone else by {actor.name}"
        told[new_owner_id] = f"{what} due {due} handed to you by {actor.name}"
    elif due_at is not None:
        told[followup.owner_id] = f"{what} moved to {due} by {actor.name}"
    for user_id, message in told.items():
        if user_id is not None and user_id != actor.user_id:
            session.add(
                Notification(user_id=user_id, lead_id=lead.id, created_at=at, message=message)
            )


def on_lead_closed(session: Session, event: LeadClosed, at: datetime, effects: Effects) -> None:
    """The person's lead is won or lost: the follow-ups of their other open leads are closed,
    with a note in the trail, so nobody calls a new client (or a firm no) as a cold lead."""
    lead = session.get(Lead, event.lead_id)
    if lead is None:
        return
    followups = session.execute(
        select(FollowUp).where(
            FollowUp.lead_id.in_(_other_open_leads(lead)), FollowUp.state.in_(OPEN_STATES)
        )
    ).scalars()
    note = f"{lead.number} was {event.status}"
    for followup in followups:
        close_followup(
            session, followup, FollowUpState.SKIPPED, actor=event.actor, at=at, note=note
        )


def on_meeting_booked(
    session: Session, event: MeetingBooked, at: datetime, effects: Effects
) -> None:
    """A meeting is booked with the person: retries of their unanswered calls on their other
    leads stop (closed with a note), so nobody keeps chasing someone who already said yes."""
    lead = session.get(Lead, event.lead_id)
    if lead is None:
        return
    retries = session.execute(
        select(FollowUp).where(
            FollowUp.lead_id.in_(_other_open_leads(lead)),
            FollowUp.state.in_(OPEN_STATES),
            FollowUp.reason.ilike("retry%"),  # what the rules and the call modal name retries
        )
    ).scalars()
    note = f"a meeting is booked on {lead.number}"
    for followup in retries:
        close_followup(
            session, followup, FollowUpState.SKIPPED, actor=event.actor, at=at, note=note
        )


def _other_open_leads(lead: Lead) -> Select:
    """The same person's other leads (the repeat group) that are neither won nor lost."""
    root = lead.repeat_of_id or lead.id
    return select(Lead.id).where(
        or_(Lead.id == root, Lead.repeat_of_id == root),
        Lead.id != lead.id,
        Lead.status.not_in((LeadStatus.WON, LeadStatus.LOST)),
    )
