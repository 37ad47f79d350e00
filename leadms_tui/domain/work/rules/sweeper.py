"""Time rules and missed commitments: `sweep` runs the rules on time passing (no activity,
overdue follow-ups), marks undone follow-ups, meetings and onboarding tasks missed, hands
waiting leads to reps who freed up and climbs the speed-to-lead ladder. Cron runs it
(`leadms rules run`), and so does every running TUI or intake service each minute; it is
safe to run in many places at once (each firing is claimed once, see `engine.claim`).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import String, cast, literal, not_, select
from sqlmodel import Session

from leadms_tui.domain import audit, clock
from leadms_tui.domain.db import Database
from leadms_tui.domain.events import Effects
from leadms_tui.domain.models import FollowUp, FollowUpState, Lead, Meeting, Rule, RuleTrigger
from leadms_tui.domain.sales.onboarding import mark_missed_tasks
from leadms_tui.domain.team.assignment import assign_waiting
from leadms_tui.domain.team.settings import TeamSettings, load_settings
from leadms_tui.domain.work.response_clock import sweep_ladder
from leadms_tui.domain.work.rules.actions import CLOSED, apply
from leadms_tui.domain.work.rules.definitions import describe_rule
from leadms_tui.domain.work.rules.engine import FIRINGS, claim

SWEEP_LIMIT = 500  # subjects per time rule per sweep; the next sweep takes the rest


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
            for subject in due_subjects(session, rule, settings, at)
        ]
    for rule, (subject, occurrence, lead_id) in due:

        def fire(
            session: Session, rule=rule, subject=subject, occurrence=occurrence, lead_id=lead_id
        ) -> int:
            if not claim(session, rule, subject, occurrence, lead_id, at):
                return 0
            lead = session.get(Lead, lead_id)
            if lead is not None:
                apply(session, rule, lead, settings, at, Effects())
            return 1

        report.fired += db.write(fire)
    db.refresh_statistics()
    return report


def _mark_missed(session: Session, at: datetime) -> tuple[int, int, int]:
    """Follow-ups, meetings and onboarding tasks whose business day ended undone are missed."""
    settings = load_settings(session)
    today = clock.business_date(at, settings.timezone)
    from leadms_tui.domain.queries.dayview import day_bounds

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


def due_subjects(
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
    fired = select(FIRINGS.c.id).where(FIRINGS.c.rule_id == rule.id)
    if rule.trigger == RuleTrigger.NO_ACTIVITY:
        subject = literal("lead:") + cast(Lead.id, String)
        occurrence = literal("idle:v") + cast(Lead.version, String)
        query = select(subject, occurrence, Lead.id).where(
            Lead.status.not_in(CLOSED),
            Lead.updated_at < cutoff,
            Lead.updated_at >= since,
            not_(
                fired.where(
                    FIRINGS.c.subject == subject, FIRINGS.c.occurrence == occurrence
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
                not_(fired.where(FIRINGS.c.subject == subject).exists()),
            )
        )
    if conditions.get("statuses"):
        query = query.where(Lead.status.in_(conditions["statuses"]))
    if conditions.get("channels"):
        query = query.where(Lead.channel.in_(conditions["channels"]))
    return [tuple(row) for row in session.execute(query.limit(SWEEP_LIMIT))]  # type: ignore[misc]


def preview_rule(session: Session, rule: Rule, *, now: datetime | None = None) -> list[str]:
    """What the rule would do now: for time rules, the leads a sweep would act on."""
    at = clock.as_utc(now or clock.now())
    lines = [describe_rule(rule)]
    if RuleTrigger(rule.trigger).is_timed and rule.trigger_hours:
        settings = load_settings(session)
        subjects = due_subjects(session, rule, settings, at)
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
