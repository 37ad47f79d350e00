"""`assign simulate`: replay the last days of intake with the current weights and profiles,
to see before switching `auto` on who would have received what, next to what happened."""

from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import Session

from leadms_tui.domain import clock
from leadms_tui.domain.models import Lead, Role, User
from leadms_tui.domain.team.assignment import LeadFacts, _signals, _team_rate, working_calendar
from leadms_tui.domain.team.language import detect_language
from leadms_tui.domain.team.settings import load_settings
from leadms_tui.domain.team.signals import OPEN_STATUSES, Load, Performance, performances

MAX_LEADS = 50_000  # a replay reads at most this many leads (the newest)


@dataclass(frozen=True)
class RepOutcome:
    rep: str
    simulated: int
    actual: int
    capacity: int
    peak_open: int  # the most open leads the replay gave them at once

    def as_json(self) -> dict[str, object]:
        return {
            "rep": self.rep,
            "simulated": self.simulated,
            "actual": self.actual,
            "capacity": self.capacity,
            "peak_capacity_use": round(self.peak_open / self.capacity, 3)
            if self.capacity
            else None,
        }


@dataclass(frozen=True)
class Simulation:
    days: int
    leads: int
    unassigned: int  # nobody eligible with room at the time
    reps: list[RepOutcome]
    gini_simulated: float
    gini_actual: float

    def as_json(self) -> dict[str, object]:
        return {
            "days": self.days,
            "leads": self.leads,
            "unassigned": self.unassigned,
            "gini_simulated": round(self.gini_simulated, 4),
            "gini_actual": round(self.gini_actual, 4),
            "reps": [r.as_json() for r in self.reps],
        }


def gini(counts: list[int]) -> float:
    """0 when every rep got the same, towards 1 when one rep got everything."""
    if not counts or sum(counts) == 0:
        return 0.0
    ordered = sorted(counts)
    n = len(ordered)
    weighted = sum((i + 1) * value for i, value in enumerate(ordered))
    return (2 * weighted) / (n * sum(ordered)) - (n + 1) / n


def simulate(session: Session, *, days: int, now: datetime | None = None) -> Simulation:
    """Reps' availability is taken as available; capacity and working hours apply at each
    lead's arrival time; the replayed leads are not counted as open before they arrive."""
    at = clock.as_utc(now or clock.now())
    since = at - timedelta(days=days)
    settings = load_settings(session)
    reps = list(
        session.execute(
            select(User).where(User.active, User.role == Role.REP).order_by(User.id)
        ).scalars()
    )
    leads = list(
        session.execute(
            select(Lead)
            .where(Lead.created_at >= since, Lead.created_at < at)
            .order_by(Lead.created_at.desc())
            .limit(MAX_LEADS)
        ).scalars()
    )[::-1]
    window_ids = [lead.id for lead in leads]
    open_before = dict(
        session.execute(
            select(Lead.owner_id, func.count())
            .where(Lead.status.in_(OPEN_STATUSES), Lead.created_at < since)
            .group_by(Lead.owner_id)
        ).all()
    )
    perf = performances(session, at)
    team_rate = _team_rate(perf)
    previous = (
        dict(
            session.execute(
                select(Lead.id, Lead.owner_id).where(
                    Lead.id.in_({lead.repeat_of_id for lead in leads if lead.repeat_of_id})
                )
            ).all()
        )
        if window_ids
        else {}
    )
    loads = {rep.id: Load(open_leads=open_before.get(rep.id, 0)) for rep in reps}
    peak = dict.fromkeys((rep.id for rep in reps), 0)
    given: Counter[int] = Counter()
    received_on: dict[tuple[int, object], int] = Counter()
    unassigned = 0
    for lead in leads:
        day = clock.business_date(lead.created_at, settings.timezone)
        eligible = [
            rep
            for rep in reps
            if loads[rep.id].open_leads < rep.capacity
            and working_calendar(rep, settings).is_open(lead.created_at)
        ]
        if not eligible:
            unassigned += 1
            continue
        language = detect_language(lead.first_message)
        sticky_owner = previous.get(lead.repeat_of_id)
        mean = sum(received_on[(r.id, day)] for r in reps) / len(reps)

        ranked = []
        for rep in eligible:
            load = replace(loads[rep.id], received_today=received_on[(rep.id, day)])
            rep_perf = perf.get(rep.id, Performance())  # type: ignore[arg-type]
            facts = LeadFacts(lead.channel, lead.first_message, sticky_owner)
            signals = _signals(rep, load, rep_perf, facts, language, team_rate, mean, settings)
            score = sum(signal.contribution for signal in signals)
            ranked.append((rep.id != sticky_owner, -score, rep.id, rep))
        chosen = min(ranked, key=lambda entry: entry[:3])[3]
        given[chosen.id] += 1
        received_on[(chosen.id, day)] += 1
        loads[chosen.id] = replace(loads[chosen.id], open_leads=loads[chosen.id].open_leads + 1)
        peak[chosen.id] = max(peak[chosen.id], loads[chosen.id].open_leads)
    actual = Counter(lead.owner_id for lead in leads if lead.owner_id is not None)
    outcomes = [
        RepOutcome(rep.username, given[rep.id], actual[rep.id], rep.capacity, peak[rep.id])
        for rep in reps
    ]
    return Simulation(
        days,
        len(leads),
        unassigned,
        outcomes,
        gini([o.simulated for o in outcomes]),
        gini([o.actual for o in outcomes]),
    )
