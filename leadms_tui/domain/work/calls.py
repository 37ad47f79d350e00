"""The call service: log a call outcome, close the follow-ups it answers, book the next one.

Everything a call changes happens in one transaction: the call row, the status
change, the completed follow-ups, the next follow-up, and their audit events.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlmodel import Session

from leadms_tui.domain import audit, clock, events
from leadms_tui.domain.errors import NotFoundError, PermissionDeniedError, ValidationError
from leadms_tui.domain.events import CallSaved, Effects
from leadms_tui.domain.leads.checks import check_may_edit
from leadms_tui.domain.leads.edits import change_lead
from leadms_tui.domain.models import (
    AuditEvent,
    Call,
    CallOutcome,
    FollowUp,
    FollowUpState,
    Lead,
    LeadStatus,
    saved_id,
)
from leadms_tui.domain.work.followups import book_followup
from leadms_tui.domain.work.outcomes import MEANINGS


class _ByRules:
    """`next_followup_at` default: let the rules decide the next follow-up."""

    def __repr__(self) -> str:
        return "BY_RULES"


BY_RULES = _ByRules()


@dataclass(frozen=True)
class CallLogged:
    call_id: int
    outcome: CallOutcome
    lead_number: str
    status: LeadStatus
    followup_due: datetime | None
    completed_followups: int
    rule_effects: list[str] = field(default_factory=list)

    @property
    def ends_the_attempt(self) -> bool:
        return MEANINGS[self.outcome].ends_attempt


def preview_call(
    session: Session, lead_id: int, outcome: CallOutcome, *, now: datetime | None = None
) -> Effects:
    """What logging `outcome` now would do by the rules: the call modal prefills from this."""
    at = clock.as_utc(now or clock.now())
    effects = events.preview(session, CallSaved(lead_id, None, outcome.value), at=at)
    closes_as = MEANINGS[outcome].closes_as
    if closes_as:
        effects.followup_due = None
        effects.descriptions.insert(0, f"status → lost ({closes_as})")
    return effects


def status_after(current: LeadStatus, outcome: CallOutcome) -> tuple[LeadStatus, str | None]:
    """The lead's status (and lost reason) once a call with `outcome` is logged."""
    if current in (LeadStatus.WON, LeadStatus.LOST):
        return current, None
    meaning = MEANINGS[outcome]
    if meaning.closes_as:
        return LeadStatus.LOST, meaning.closes_as
    if meaning.qualifies and current in (LeadStatus.NEW, LeadStatus.CONTACTED):
        return LeadStatus.QUALIFIED, None
    if current == LeadStatus.NEW:
        return LeadStatus.CONTACTED, None
    return current, None


def log_call(
    session: Session,
    lead_id: int,
    outcome: CallOutcome,
    *,
    actor: audit.Actor,
    note: str | None = None,
    next_followup_at: datetime | _ByRules | None = BY_RULES,
    followup_reason: str | None = None,
    called_at: datetime | None = None,
    phone_call_id: int | None = None,
    now: datetime | None = None,
) -> CallLogged:
    """Record a call on `lead_id` inside the caller's write transaction; `phone_call_id`
    links the phone system's record of it (a phone call is logged once)."""
    at = clock.as_utc(now or clock.now())
    if called_at is not None:
        clock.plausible(called_at, "call time")
    if isinstance(next_followup_at, datetime):
        clock.plausible(next_followup_at, "next follow-up")
    lead = session.get(Lead, lead_id, with_for_update=True)
    if lead is None:
        raise NotFoundError(f"no lead with id {lead_id}")
    check_may_edit(lead, actor)
    call = Call(
        lead_id=lead_id,
        user_id=actor.user_id,
        outcome=outcome,
        note=(note or "").strip() or None,
        called_at=clock.as_utc(called_at) if called_at else at,
        created_at=at,
        phone_call_id=phone_call_id,
    )
    if (
        phone_call_id is not None
        and session.execute(select(Call.id).where(Call.phone_call_id == phone_call_id)).first()
    ):
        raise ValidationError("that phone call is already logged")
    session.add(call)
    session.flush()
    audit.record(session, actor, "call.create", "call", call.id, after=audit.snapshot(call), at=at)

    answered = (
        session.execute(
            select(FollowUp).where(
                FollowUp.lead_id == lead_id,
                FollowUp.state.in_([FollowUpState.OPEN, FollowUpState.MISSED]),
            )
        )
        .scalars()
        .all()
    )
    for followup in answered:
        followup_before = audit.snapshot(followup)
        followup.state = FollowUpState.DONE
        followup.completed_at = at
        followup.call_id = call.id
        followup.version += 1
        audit.record(
            session,
            actor,
            "followup.complete",
            "followup",
            followup.id,
            before=followup_before,
            after=audit.snapshot(followup),
            at=at,
        )

    status, lost_reason = status_after(LeadStatus(lead.status), outcome)
    changes: dict[str, object] = {"status": status}
    if lost_reason:
        changes["lost_reason"] = lost_reason
    if lead.owner_id is None and actor.is_rep:
        changes["owner_id"] = actor.user_id  # the rep who calls an unassigned lead takes it
    change_lead(session, lead, actor, at, **changes)

    chosen = not isinstance(next_followup_at, _ByRules)  # the rep picked a time, or none
    due = next_followup_at if chosen else None
    if due is not None and status not in (LeadStatus.WON, LeadStatus.LOST):
        reason = followup_reason or MEANINGS[outcome].followup or "Follow up"
        book_followup(session, lead, due_at=due, reason=reason, actor=actor, at=at)  # type: ignore[arg-type]
    else:
        due = None
    saved = CallSaved(lead_id, call.id, outcome.value, picked_time=due, followup_chosen=chosen)
    effects = events.publish(session, saved, at=at)
    # A rule may have changed the lead (a new owner, escalation) without anything flushing it
    # since: flush first, or the refresh would drop that change while its audit event stays.
    session.flush()
    session.refresh(lead)
    return CallLogged(
        call_id=saved_id(call),
        outcome=outcome,
        lead_number=lead.number,
        status=LeadStatus(lead.status),
        followup_due=due or effects.followup_due,
        completed_followups=len(answered),
        rule_effects=effects.descriptions,
    )


UNDO_WINDOW = timedelta(minutes=1)
_RESTORED_FIELDS = {"status", "lost_reason", "owner_id"}


def undo_call(
    session: Session, call_id: int, *, actor: audit.Actor, now: datetime | None = None
) -> str:
    """Take back a call saved less than a minute ago, with what it did: the follow-ups it
    answered open again, those it booked are withdrawn, the lead's status and owner are as
    before. Audited ("call.undo" keeps the call as it was). Returns the lead's number."""
    at = clock.as_utc(now or clock.now())
    call = session.get(Call, call_id, with_for_update=True)
    if call is None:
        raise NotFoundError("that call is already undone")
    if call.user_id != actor.user_id and actor.is_rep:
        raise PermissionDeniedError("a rep can undo only their own calls")
    if at - call.created_at > UNDO_WINDOW:
        raise ValidationError("a call can be undone only within a minute of saving it")
    lead = session.get(Lead, call.lead_id, with_for_update=True)
    assert lead is not None
    saved_at = call.created_at
    for followup in session.execute(
        select(FollowUp).where(
            FollowUp.lead_id == lead.id,
            or_(FollowUp.call_id == call.id, FollowUp.created_at == saved_at),
        )
    ).scalars():
        before = audit.snapshot(followup)
        if followup.call_id == call.id:  # it answered this one: open (or missed) again
            followup.state = FollowUpState.MISSED if followup.missed_at else FollowUpState.OPEN
            followup.completed_at = None
            followup.call_id = None
        elif followup.state == FollowUpState.OPEN:  # it booked this one: withdrawn
            followup.state = FollowUpState.SKIPPED
            followup.completed_at = at
        else:
            continue
        followup.version += 1
        audit.record(
            session, actor, "followup.update", "followup", followup.id,
            before=before, after=audit.snapshot(followup), at=at,
        )  # fmt: skip
    restore: dict[str, object] = {}
    for changes, kept_apart in session.execute(  # newest first: the oldest "before" last
        select(AuditEvent.changes, AuditEvent.personal)
        .where(
            AuditEvent.entity == "lead",
            AuditEvent.entity_id == str(lead.id),
            AuditEvent.action == "lead.update",
            AuditEvent.at == saved_at,
        )
        .order_by(AuditEvent.id.desc())
    ):
        shown = audit.changes_of(changes, kept_apart)
        restore |= {k: v[0] for k, v in shown.items() if k in _RESTORED_FIELDS}
    if "status" in restore:
        restore["status"] = LeadStatus(str(restore["status"]))
    if restore:
        change_lead(session, lead, actor, at, **restore)
    audit.record(session, actor, "call.undo", "call", call.id, before=audit.snapshot(call), at=at)
    session.delete(call)
    return lead.number
