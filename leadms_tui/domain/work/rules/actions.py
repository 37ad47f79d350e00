"""What a rule does once it fires (a follow-up, a status, a new owner, a notice), and
what it would do, for previews. Shared by the event rules (`engine`) and the time rules
(`sweeper`)."""

from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlmodel import Session

from leadms_tui.domain import audit
from leadms_tui.domain.business_time import BusinessCalendar
from leadms_tui.domain.events import Effects
from leadms_tui.domain.leads.edits import change_lead
from leadms_tui.domain.models import (
    FollowUp,
    FollowUpState,
    Lead,
    LeadStatus,
    Notification,
    Role,
    Rule,
    RuleAction,
    User,
)
from leadms_tui.domain.team.settings import TeamSettings
from leadms_tui.domain.work.followups import book_followup
from leadms_tui.domain.work.rules.definitions import describe_rule

CLOSED = (LeadStatus.WON, LeadStatus.LOST)


def followup_due(
    rule: Rule, calendar: BusinessCalendar, now: datetime, picked: datetime | None
) -> datetime:
    params = rule.action_params or {}
    if params.get("at_picked_time") and picked is not None:
        return picked
    if "after_minutes" in params:
        return now + timedelta(minutes=float(params["after_minutes"]))
    if "after_business_hours" in params:
        return calendar.add_business_hours(now, float(params["after_business_hours"]))
    days = int(params.get("after_business_days", 1))
    at = time.fromisoformat(params.get("at", "10:00"))
    return calendar.business_days_later_at(now, days, at)


def apply(
    session: Session,
    rule: Rule,
    lead: Lead,
    settings: TeamSettings,
    at: datetime,
    effects: Effects,
    *,
    picked: datetime | None = None,
) -> None:
    actor = audit.Actor(None, f"rule:{rule.id}")
    params = rule.action_params or {}
    if rule.action == RuleAction.CREATE_FOLLOWUP:
        if lead.status in CLOSED:
            return
        due = followup_due(rule, settings.calendar(), at, picked)
        followup = book_followup(
            session,
            lead,
            due_at=due,
            actor=actor,
            at=at,
            reason=params.get("reason") or rule.name,
            rule_id=rule.id,
        )
        effects.followup_due, effects.followup_reason = due, followup.reason
        effects.descriptions.append(f"follow-up: {followup.reason}")
    elif rule.action == RuleAction.SET_STATUS:
        status = LeadStatus(params.get("status", LeadStatus.LOST))
        if lead.status == status:
            return
        lost_reason = params.get("lost_reason") if status == LeadStatus.LOST else None
        change_lead(session, lead, actor, at, status=status, lost_reason=lost_reason)
        if status in CLOSED:
            _cancel_open_followups(session, lead, actor, at)
        effects.descriptions.append(f"status → {status.value}")
    elif rule.action == RuleAction.REASSIGN:
        user = session.execute(
            select(User).where(User.username == params.get("to"), User.active)
        ).scalar_one_or_none()
        if user is not None and user.id != lead.owner_id:
            change_lead(session, lead, actor, at, owner_id=user.id)
            _notify(session, [user.id], lead, f"{lead.number} was assigned to you: {rule.name}", at)  # type: ignore[list-item]
            effects.descriptions.append(f"reassigned to {user.username}")
    elif rule.action == RuleAction.ESCALATE:
        managers = _managers(session)
        if managers:
            change_lead(session, lead, actor, at, owner_id=managers[0])
            _notify(session, managers, lead, f"Escalated {lead.number}: {rule.name}", at)
            effects.descriptions.append("escalated to a manager")
    elif rule.action == RuleAction.NOTIFY:
        to = params.get("to", "owner")
        if to == "owner":
            users = [lead.owner_id] if lead.owner_id else _managers(session)
        elif to == "managers":
            users = _managers(session)
        else:
            users = list(
                session.execute(select(User.id).where(User.username == to, User.active)).scalars()
            )
        message = f"{lead.number} {lead.name}: {params.get('message') or rule.name}"
        _notify(session, users, lead, message, at)  # type: ignore[arg-type]
        effects.descriptions.append(f"notify {to}")


def describe(
    rule: Rule,
    lead: Lead,
    settings: TeamSettings,
    now: datetime,
    effects: Effects,
    *,
    picked: datetime | None,
) -> None:
    params = rule.action_params or {}
    if rule.action == RuleAction.CREATE_FOLLOWUP and effects.followup_due is None:
        effects.followup_due = followup_due(rule, settings.calendar(), now, picked)
        effects.followup_reason = params.get("reason") or rule.name
        effects.descriptions.append(f"follow-up: {effects.followup_reason}")
    elif rule.action == RuleAction.SET_STATUS:
        reason = f" ({params['lost_reason']})" if params.get("lost_reason") else ""
        effects.descriptions.append(f"status → {params.get('status')}{reason}")
    elif rule.action != RuleAction.CREATE_FOLLOWUP:
        effects.descriptions.append(describe_rule(rule))


def _cancel_open_followups(session: Session, lead: Lead, actor: audit.Actor, at: datetime) -> None:
    for followup in session.execute(
        select(FollowUp).where(
            FollowUp.lead_id == lead.id,
            FollowUp.state.in_([FollowUpState.OPEN, FollowUpState.MISSED]),
        )
    ).scalars():
        followup.state = FollowUpState.SKIPPED
        followup.completed_at = at
        followup.version += 1
        audit.record(
            session,
            actor,
            "followup.skip",
            "followup",
            followup.id,
            after={"state": "skipped"},
            at=at,
        )


def _managers(session: Session) -> list[int]:
    return list(
        session.execute(
            select(User.id).where(User.role == Role.MANAGER, User.active).order_by(User.id)
        ).scalars()
    )


def _notify(session: Session, user_ids: list[int], lead: Lead, message: str, at: datetime) -> None:
    for user_id in dict.fromkeys(user_ids):
        session.add(
            Notification(user_id=user_id, lead_id=lead.id, message=message[:1000], created_at=at)
        )
