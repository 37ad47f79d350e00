"""The rules engine: automation that keeps commitments from being missed.

Event rules (a call outcome, a new lead, a meeting outcome) run inside the
transaction of the write that triggered them. Time rules (no activity, overdue
follow-ups) run from `sweep`, called by cron (`leadms rules run`) and every
minute by a running TUI or intake service. Every firing first inserts a
(rule, subject, occurrence) row under a unique key; only the transaction whose
insert succeeds applies the action, so each occurrence fires exactly once even
with several sweepers on one database.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import String, cast, func, literal, not_, select
from sqlmodel import Session

from leadms_tui.domain import audit, clock, recent
from leadms_tui.domain.business_time import BusinessCalendar
from leadms_tui.domain.db import Database
from leadms_tui.domain.errors import ValidationError
from leadms_tui.domain.events import CallSaved, Effects, LeadCreated, MeetingOutcomeSet
from leadms_tui.domain.leads.edits import change_lead
from leadms_tui.domain.models import (
    Call,
    CallOutcome,
    FollowUp,
    FollowUpState,
    Lead,
    LeadStatus,
    Meeting,
    Notification,
    Role,
    Rule,
    RuleAction,
    RuleFiring,
    RuleTrigger,
    User,
)
from leadms_tui.domain.once import insert_once
from leadms_tui.domain.sales.onboarding import mark_missed_tasks
from leadms_tui.domain.team.assignment import assign_waiting
from leadms_tui.domain.team.settings import TeamSettings, load_settings
from leadms_tui.domain.work.followups import book_followup
from leadms_tui.domain.work.outcomes import UNANSWERED
from leadms_tui.domain.work.response_clock import sweep_ladder

CLOSED = (LeadStatus.WON, LeadStatus.LOST)
SWEEP_LIMIT = 500  # subjects per time rule per sweep; the next sweep takes the rest
_FIRINGS = RuleFiring.__table__  # type: ignore[attr-defined]


# --- event rules: subscribers of the domain events (see subscribers.py) -----------


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
            _describe(rule, lead, settings, at, effects, picked=event.picked_time)


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
        if _claim(session, rule, subject, "event", lead.id, at):
            _apply(session, rule, lead, settings, at, effects, picked=picked)


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


def _claim(
    session: Session, rule: Rule, subject: str, occurrence: str, lead_id: int | None, at: datetime
) -> bool:
    """Record the firing; False if this (rule, subject, occurrence) fired before."""
    values = dict(
        rule_id=rule.id, subject=subject, occurrence=occurrence, lead_id=lead_id, fired_at=at
    )
    return insert_once(session, _FIRINGS, values, ["rule_id", "subject", "occurrence"]) is not None


# --- actions -------------------------------------------------------------------------


def _followup_due(
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


def _apply(
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
        due = _followup_due(rule, settings.calendar(), at, picked)
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


def _describe(
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
        effects.followup_due = _followup_due(rule, settings.calendar(), now, picked)
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


# --- time rules and missed commitments ---------------------------------------------------


@dataclass
class SweepReport:
    fired: int = 0
    missed_followups: int = 0
    missed_meetings: int = 0
    missed_tasks: int = 0
    assigned: int = 0  # waiting leads given to reps who freed up
    ladder: int = 0  # speed-to-lead steps fired on untouched new leads

    @property
    def missed(self) -> int:
        return self.missed_followups + self.missed_meetings + self.missed_tasks

    def describe(self) -> str:
        return (
            f"{self.fired} rule firing(s); {self.missed_followups} follow-up(s), "
            f"{self.missed_meetings} meeting(s) and {self.missed_tasks} onboarding task(s) "
            f"marked missed; {self.assigned} waiting lead(s) assigned; "
            f"{self.ladder} speed-to-lead step(s) fired"
        )


def sweep(db: Database, *, now: datetime | None = None) -> SweepReport:
    """Run the time rules and mark missed commitments. Safe to run in many places at once."""
    at = clock.as_utc(now or clock.now())
    report = SweepReport()
    report.missed_followups, report.missed_meetings, report.missed_tasks = db.write(
        lambda session: _mark_missed(session, at)
    )
    report.assigned = db.write(lambda session: assign_waiting(session, at=at))
    report.ladder = sweep_ladder(db, now=at)
    with db.reading() as session:
        rules = [
            r
            for r in session.execute(
                select(Rule).where(Rule.enabled).order_by(Rule.position, Rule.id)
            ).scalars()
            if RuleTrigger(r.trigger).is_timed
        ]
        settings = load_settings(session)
        due = [
            (rule, subject)
            for rule in rules
            for subject in _due_subjects(session, rule, settings, at)
        ]
    for rule, (subject, occurrence, lead_id) in due:

        def fire(
            session: Session, rule=rule, subject=subject, occurrence=occurrence, lead_id=lead_id
        ) -> int:
            if not _claim(session, rule, subject, occurrence, lead_id, at):
                return 0
            lead = session.get(Lead, lead_id)
            if lead is not None:
                _apply(session, rule, lead, settings, at, Effects())
            return 1

        report.fired += db.write(fire)
    db.refresh_statistics()
    return report


def _mark_missed(session: Session, at: datetime) -> tuple[int, int, int]:
    """Follow-ups, meetings and onboarding tasks whose business day ended undone are missed."""
    settings = load_settings(session)
    today = clock.business_date(at, settings.timezone)
    from leadms_tui.domain.repositories.dayview import day_bounds

    start_of_today, _ = day_bounds(today, settings.timezone)
    sweep = audit.Actor(None, "sweep")
    followups = audit.update_each(
        session,
        sweep,
        "followup.missed",
        FollowUp,
        [FollowUp.state == FollowUpState.OPEN, FollowUp.due_at < start_of_today],
        {"state": FollowUpState.MISSED, "missed_at": at, "version": FollowUp.version + 1},
        before={"state": FollowUpState.OPEN, "missed_at": None},
        at=at,
    )
    meetings = audit.update_each(
        session,
        sweep,
        "meeting.missed",
        Meeting,
        [
            Meeting.outcome.is_(None),
            Meeting.missed_at.is_(None),
            Meeting.starts_at < start_of_today,
        ],
        {"missed_at": at, "version": Meeting.version + 1},
        before={"missed_at": None},
        at=at,
    )
    tasks = mark_missed_tasks(session, today, at)
    if followups or meetings or tasks:
        audit.record(
            session,
            sweep,
            "commitments.missed",
            "sweep",
            at.isoformat(),
            after={"followups": followups, "meetings": meetings, "onboarding_tasks": tasks},
            at=at,
        )
    return followups, meetings, tasks


def _due_subjects(
    session: Session, rule: Rule, settings: TeamSettings, at: datetime
) -> list[tuple[str, str, int]]:
    """(subject, occurrence, lead id) for which a time rule is due and has not fired."""
    hours = float(rule.trigger_hours or 0)
    if rule.business_time:
        cutoff = settings.calendar().add_business_minutes(at, -round(hours * 60))
    else:
        cutoff = at - timedelta(hours=hours)
    since = clock.as_utc(rule.updated_at) - timedelta(hours=hours)  # only what happened since
    conditions = rule.conditions or {}
    fired = select(_FIRINGS.c.id).where(_FIRINGS.c.rule_id == rule.id)
    if rule.trigger == RuleTrigger.NO_ACTIVITY:
        subject = literal("lead:") + cast(Lead.id, String)
        occurrence = literal("idle:v") + cast(Lead.version, String)
        query = select(subject, occurrence, Lead.id).where(
            Lead.status.not_in(CLOSED),
            Lead.updated_at < cutoff,
            Lead.updated_at >= since,
            not_(
                fired.where(
                    _FIRINGS.c.subject == subject, _FIRINGS.c.occurrence == occurrence
                ).exists()
            ),
        )
    else:
        subject = literal("followup:") + cast(FollowUp.id, String)
        query = (
            select(subject, literal("overdue"), FollowUp.lead_id)
            .join(Lead, Lead.id == FollowUp.lead_id)
            .where(
                FollowUp.state.in_([FollowUpState.OPEN, FollowUpState.MISSED]),
                FollowUp.due_at < cutoff,
                FollowUp.due_at >= since,
                not_(fired.where(_FIRINGS.c.subject == subject).exists()),
            )
        )
    if conditions.get("statuses"):
        query = query.where(Lead.status.in_(conditions["statuses"]))
    if conditions.get("channels"):
        query = query.where(Lead.channel.in_(conditions["channels"]))
    return [tuple(row) for row in session.execute(query.limit(SWEEP_LIMIT))]  # type: ignore[misc]


# --- describing and editing rules ------------------------------------------------------


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


def preview_rule(session: Session, rule: Rule, *, now: datetime | None = None) -> list[str]:
    """What the rule would do now: for time rules, the leads a sweep would act on."""
    at = clock.as_utc(now or clock.now())
    lines = [describe_rule(rule)]
    if RuleTrigger(rule.trigger).is_timed and rule.trigger_hours:
        settings = load_settings(session)
        subjects = _due_subjects(session, rule, settings, at)
        numbers = dict(
            session.execute(
                select(Lead.id, Lead.number).where(Lead.id.in_([s[2] for s in subjects[:20]]))
            ).all()
        )
        lines.append(
            f"due now for {len(subjects)} subject(s)"
            + (f": {', '.join(numbers.values())}" if numbers else "")
        )
    else:
        lines.append("runs when the event happens, in the same transaction")
    return lines
