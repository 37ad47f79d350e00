"""Event rules: a call outcome, a new lead or a meeting outcome runs the matching rules
inside the transaction of the write that announced it (the handlers are listed in
`domain/subscribers.py`). Every firing first claims its (rule, subject, occurrence) row;
only the transaction whose claim succeeds applies the action, so each occurrence fires
exactly once, even with several sweepers on one database.
"""

from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session

from leadms_tui.domain import clock, recent
from leadms_tui.domain.events import CallSaved, Effects, LeadCreated, MeetingOutcomeSet
from leadms_tui.domain.models import (
    Call,
    Lead,
    Rule,
    RuleAction,
    RuleFiring,
    RuleTrigger,
    User,
    table_of,
)
from leadms_tui.domain.once import insert_once
from leadms_tui.domain.team.settings import load_settings
from leadms_tui.domain.work.outcomes import UNANSWERED
from leadms_tui.domain.work.rules import actions

FIRINGS = table_of(RuleFiring)


def on_lead_created(session: Session, event: LeadCreated, at: datetime, effects: Effects) -> None:
    if has_rules(session, RuleTrigger.LEAD_CREATED):
        subject = f"lead:{event.lead_id}"
        _fire(session, RuleTrigger.LEAD_CREATED, event.lead_id, event.channel, subject, at, effects)


def on_call_saved(session: Session, event: CallSaved, at: datetime, effects: Effects) -> None:
    _fire(
        session,
        RuleTrigger.CALL_OUTCOME,
        event.lead_id,
        event.outcome,
        f"call:{event.call_id}",
        at,
        effects,
        picked=event.picked_time,
        skip_followups=event.followup_chosen,
    )


def on_meeting_outcome(
    session: Session, event: MeetingOutcomeSet, at: datetime, effects: Effects
) -> None:
    subject = f"meeting:{event.meeting_id}"
    _fire(session, RuleTrigger.MEETING_OUTCOME, event.lead_id, event.outcome, subject, at, effects)


def preview_call_saved(session: Session, event: CallSaved, at: datetime, effects: Effects) -> None:
    """What the rules would do if the call were saved now (the call modal prefills from it)."""
    lead = session.get(Lead, event.lead_id)
    if lead is None:
        return
    settings = load_settings(session)
    for rule in _rules(session, RuleTrigger.CALL_OUTCOME):
        if _matches(session, rule, lead, event.outcome, pending_call=True):
            actions.describe(rule, lead, settings, at, effects, picked=event.picked_time)


def _fire(
    session: Session,
    trigger: RuleTrigger,
    lead_id: int,
    value: str | None,
    subject: str,
    at: datetime,
    effects: Effects,
    *,
    picked: datetime | None = None,
    skip_followups: bool = False,
) -> None:
    """Apply every enabled rule that matches, in order, inside the caller's transaction.

    `skip_followups`: the person already chose the next follow-up (or none); rules still
    change status, reassign and notify.
    """
    at = clock.as_utc(at)
    lead = session.get(Lead, lead_id)
    if lead is None:
        return
    settings = load_settings(session)
    for rule in _rules(session, trigger):
        if not _matches(session, rule, lead, value):
            continue
        if skip_followups and rule.action == RuleAction.CREATE_FOLLOWUP:
            continue
        if claim(session, rule, subject, "event", lead.id, at):
            actions.apply(session, rule, lead, settings, at, effects, picked=picked)


def has_rules(session: Session, trigger: RuleTrigger) -> bool:
    """Whether any enabled rule listens for `trigger` (lets intake skip the engine)."""
    triggers = recent.remembered(
        session,
        "rule-triggers",
        lambda: set(session.execute(select(Rule.trigger).where(Rule.enabled).distinct()).scalars()),
    )
    return trigger in triggers


def _rules(session: Session, trigger: RuleTrigger) -> list[Rule]:
    return list(
        session.execute(
            select(Rule)
            .where(Rule.enabled, Rule.trigger == trigger)
            .order_by(Rule.position, Rule.id)
        ).scalars()
    )


def _matches(
    session: Session, rule: Rule, lead: Lead, value: str | None, *, pending_call: bool = False
) -> bool:
    if rule.trigger_values and value not in rule.trigger_values:
        return False
    conditions = rule.conditions or {}
    if conditions.get("statuses") and lead.status not in conditions["statuses"]:
        return False
    if conditions.get("channels") and lead.channel not in conditions["channels"]:
        return False
    if conditions.get("owner_roles"):
        role = session.execute(select(User.role).where(User.id == lead.owner_id)).scalar()
        if role not in conditions["owner_roles"]:
            return False
    if "min_attempts" in conditions or "max_attempts" in conditions:
        attempts = unanswered_calls(session, lead.id) + (1 if pending_call else 0)  # type: ignore[arg-type]
        if attempts < int(conditions.get("min_attempts", 0)):
            return False
        if attempts > int(conditions.get("max_attempts", 10**9)):
            return False
    return True


def unanswered_calls(session: Session, lead_id: int) -> int:
    """Calls on the lead that reached nobody (no answer, busy, voicemail)."""
    return session.execute(
        select(func.count()).where(Call.lead_id == lead_id, Call.outcome.in_(UNANSWERED))
    ).scalar_one()


def claim(
    session: Session, rule: Rule, subject: str, occurrence: str, lead_id: int | None, at: datetime
) -> bool:
    """Record the firing; False if this (rule, subject, occurrence) fired before."""
    values = dict(
        rule_id=rule.id, subject=subject, occurrence=occurrence, lead_id=lead_id, fired_at=at
    )
    return insert_once(session, FIRINGS, values, ["rule_id", "subject", "occurrence"]) is not None
