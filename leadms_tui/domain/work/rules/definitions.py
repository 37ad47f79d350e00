"""Rules as an admin reads and edits them: one line describing each, the checks a rule
must pass, saving (admins only, audited), listing and switching on or off."""

from datetime import datetime, time
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from leadms_tui.domain import audit, clock, recent
from leadms_tui.domain.errors import ValidationError
from leadms_tui.domain.models import CallOutcome, LeadStatus, Role, Rule, RuleAction, RuleTrigger


def describe_rule(rule: Rule) -> str:
    """One line a person reads: "when a call is no answer/busy (tries ≤ 3): follow-up in 4 bh"."""
    trigger = RuleTrigger(rule.trigger)
    values = "/".join(v.replace("_", " ") for v in rule.trigger_values) or "any"
    hours = rule.trigger_hours or 0
    unit = "business hours" if rule.business_time else "hours"
    when = {
        RuleTrigger.CALL_OUTCOME: f"when a call is {values}",
        RuleTrigger.LEAD_CREATED: f"when a lead arrives ({values})",
        RuleTrigger.MEETING_OUTCOME: f"when a meeting is {values}",
        RuleTrigger.NO_ACTIVITY: f"when an open lead is untouched for {hours:g} {unit}",
        RuleTrigger.FOLLOWUP_OVERDUE: f"when a follow-up is overdue by {hours:g} {unit}",
    }[trigger]
    conditions = rule.conditions or {}
    parts = []
    if conditions.get("statuses"):
        parts.append("status " + "/".join(conditions["statuses"]))
    if conditions.get("channels"):
        parts.append("channel " + "/".join(conditions["channels"]))
    if "min_attempts" in conditions or "max_attempts" in conditions:
        parts.append(
            f"unanswered tries {conditions.get('min_attempts', 1)}-"
            f"{conditions.get('max_attempts', 'any')}"
        )
    if conditions.get("owner_roles"):
        parts.append("owner " + "/".join(conditions["owner_roles"]))
    if parts:
        when += f" ({', '.join(parts)})"
    params = rule.action_params or {}
    action = RuleAction(rule.action)
    if action == RuleAction.CREATE_FOLLOWUP:
        if "after_minutes" in params:
            delay = f"in {params['after_minutes']} min"
        elif "after_business_hours" in params:
            delay = f"in {params['after_business_hours']} business hours"
        else:
            delay = (
                f"{params.get('after_business_days', 1)} business day(s) later at "
                f"{params.get('at', '10:00')}"
            )
        if params.get("at_picked_time"):
            delay = f"at the time picked (else {delay})"
        what = f"follow-up {delay}"
    elif action == RuleAction.SET_STATUS:
        reason = f" ({params['lost_reason']})" if params.get("lost_reason") else ""
        what = f"set status {params.get('status')}{reason}"
    elif action == RuleAction.REASSIGN:
        what = f"reassign to {params.get('to')}"
    elif action == RuleAction.ESCALATE:
        what = "escalate to a manager"
    else:
        what = f"notify {params.get('to', 'owner')}"
    return f"{when}: {what}"


def validate_rule(rule: Rule) -> None:
    """Refuse a rule that could never work, with the reason."""
    try:
        trigger, action = RuleTrigger(rule.trigger), RuleAction(rule.action)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    if not rule.name.strip():
        raise ValidationError("a rule needs a name")
    if trigger.is_timed and not (rule.trigger_hours and rule.trigger_hours > 0):
        raise ValidationError("a time rule needs a number of hours above 0")
    if trigger == RuleTrigger.CALL_OUTCOME:
        unknown = set(rule.trigger_values) - {o.value for o in CallOutcome}
        if unknown:
            raise ValidationError(f"unknown call outcome(s): {', '.join(sorted(unknown))}")
    params = rule.action_params or {}
    if action == RuleAction.SET_STATUS:
        if params.get("status") not in {s.value for s in LeadStatus}:
            raise ValidationError("set status needs a valid status")
        if params.get("status") == LeadStatus.LOST and not params.get("lost_reason"):
            raise ValidationError("setting a lead lost needs a lost reason")
    if action == RuleAction.REASSIGN and not params.get("to"):
        raise ValidationError("reassign needs the username to assign to")
    if "at" in params:
        try:
            time.fromisoformat(params["at"])
        except (TypeError, ValueError):
            raise ValidationError(f"invalid time of day {params['at']!r}; use HH:MM") from None
    conditions = rule.conditions or {}
    narrowed = rule.trigger_values or any(v for k, v in conditions.items() if k != "always")
    if not trigger.is_timed and not narrowed and not conditions.get("always"):
        raise ValidationError(
            "this rule has no outcome, channel or condition, so it would act on every event: "
            "add one, or confirm with 'always'"
        )


def save_rule(
    session: Session, rule: Rule, *, actor: audit.Actor, now: datetime | None = None
) -> Rule:
    """Add or update a rule (admins only), validated and audited."""
    if actor.role not in (None, Role.ADMIN):
        from leadms_tui.domain.errors import PermissionDeniedError

        raise PermissionDeniedError("only an admin can change rules")
    validate_rule(rule)
    at = clock.as_utc(now or clock.now())
    existing = session.get(Rule, rule.id) if rule.id else None
    before = audit.snapshot(existing) if existing else None
    if existing is None:
        rule.created_at = rule.updated_at = at
        session.add(rule)
        target = rule
    else:
        for key, value in audit.snapshot(
            rule, exclude=frozenset({"id", "created_at", "version"})
        ).items():
            setattr(existing, key, value)
        existing.updated_at = at
        existing.version += 1
        target = existing
    session.flush()
    recent.forget(session)
    audit.record(
        session,
        actor,
        "rule.save",
        "rule",
        target.id,
        before=before,
        after=audit.snapshot(target),
        at=at,
    )
    return target


def rule_as_json(rule: Rule) -> dict[str, Any]:
    plain = {key: audit.plain(value) for key, value in audit.snapshot(rule).items()}
    return plain | {"description": describe_rule(rule)}


def list_rules(*, session: Session) -> list[Rule]:
    return list(session.execute(select(Rule).order_by(Rule.position, Rule.id)).scalars())


def set_rule_enabled(
    session: Session,
    rule_id: int,
    enabled: bool,
    *,
    actor: audit.Actor,
    now: datetime | None = None,
) -> Rule:
    rule = session.get(Rule, rule_id)
    if rule is None:
        from leadms_tui.domain.errors import NotFoundError

        raise NotFoundError(f"no rule {rule_id}")
    copy = Rule(**audit.snapshot(rule))
    copy.enabled = enabled
    return save_rule(session, copy, actor=actor, now=now)
