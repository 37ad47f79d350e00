"""Speed-to-lead report: per rep and for the team, the leads received in a period, how many
were touched within the response target, the median and p90 first response in business
minutes, and the leads the ladder rerouted away from and to each rep."""

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import Session

from leadms_tui.domain import clock
from leadms_tui.domain.models import Call, Lead, ResponseClock, ResponseStep, Role, User
from leadms_tui.domain.queries.dayview import day_bounds
from leadms_tui.domain.reports.coaching import Period, percentile
from leadms_tui.domain.team.assignment import working_calendar
from leadms_tui.domain.team.settings import load_settings, parse_ladder
from leadms_tui.domain.team.simulation import gini
from leadms_tui.domain.work.response_clock import clock_calendar, has_clock

TEAM = "TEAM"


@dataclass
class ResponseRow:
    rep: str
    received: int = 0
    touched: int = 0
    within_target: int = 0
    untouched: int = 0
    first_response_median_min: float | None = None
    first_response_p90_min: float | None = None
    rerouted_away: int = 0
    rerouted_to: int = 0
    minutes: list[int] = field(default_factory=list, repr=False)
    # hour of receipt (team clock, 0-23) and channel → [received, touched within target]
    by_hour: dict[int, list[int]] = field(default_factory=dict, repr=False)
    by_channel: dict[str, list[int]] = field(default_factory=dict, repr=False)

    def count(self, hour: int, channel: str, within: bool) -> None:
        for cell in (
            self.by_hour.setdefault(hour, [0, 0]),
            self.by_channel.setdefault(channel, [0, 0]),
        ):
            cell[0] += 1
            cell[1] += within

    def as_json(self) -> dict[str, object]:
        data = {k: v for k, v in asdict(self).items() if k not in ("minutes", "by_hour")}
        data["by_hour"] = {f"{h:02d}": self.by_hour[h] for h in sorted(self.by_hour)}
        data["by_channel"] = {c: self.by_channel[c] for c in sorted(self.by_channel)}
        return data


def response_report(
    session: Session, period: Period, *, rep: str | None = None
) -> list[ResponseRow]:
    """One row per rep (the lead's owner now) and a TEAM row, over clocks started in
    `period` (team days); a call written without touching the clock (the demo, older
    data) counts from its time. A lead never touched counts as not within target and is left out
    of the median and p90."""
    settings = load_settings(session)
    target = settings.response_target_minutes
    start = day_bounds(period.start, settings.timezone)[0]
    end = day_bounds(period.end, settings.timezone)[1]
    users = {
        u.id: u
        for u in session.execute(
            select(User).where(User.role != Role.ADMIN).order_by(User.username)
        ).scalars()
    }
    rows = {uid: ResponseRow(u.username) for uid, u in users.items() if u.role == Role.REP}
    team = ResponseRow(TEAM)
    first_call = select(func.min(Call.called_at)).where(Call.lead_id == Lead.id).scalar_subquery()
    for owner_id, started_at, touched_at, called_at, channel in session.execute(
        select(Lead.owner_id, Lead.created_at, ResponseClock.touched_at, first_call, Lead.channel)
        .outerjoin(ResponseClock, ResponseClock.lead_id == Lead.id)
        .where(Lead.created_at >= start, Lead.created_at < end)
    ).all():
        if not has_clock(settings, started_at):
            continue
        touched_at = touched_at or (clock.as_utc(called_at) if called_at else None)
        row = rows.setdefault(owner_id, ResponseRow(_name(users, owner_id)))
        hour = clock.local(started_at, settings.timezone).hour
        for target_row in (row, team):
            target_row.received += 1
        if touched_at is None:
            row.untouched += 1
            team.untouched += 1
            for target_row in (row, team):
                target_row.count(hour, str(channel), within=False)
            continue
        calendar = clock_calendar(settings, users.get(owner_id))
        used = calendar.business_minutes_between(started_at, touched_at)
        for target_row in (row, team):
            target_row.touched += 1
            target_row.within_target += used <= target
            target_row.minutes.append(used)
            target_row.count(hour, str(channel), within=used <= target)
    rerouted = defaultdict(lambda: [0, 0])
    for from_id, to_id in session.execute(
        select(ResponseStep.from_user_id, ResponseStep.to_user_id).where(
            ResponseStep.action == "reassign",
            ResponseStep.to_user_id.is_not(None),
            ResponseStep.fired_at >= start,
            ResponseStep.fired_at < end,
        )
    ).all():
        rerouted[from_id][0] += 1
        rerouted[to_id][1] += 1
        team.rerouted_away += 1
        team.rerouted_to += 1
    for user_id, (away, to) in rerouted.items():
        row = rows.setdefault(user_id, ResponseRow(_name(users, user_id)))
        row.rerouted_away, row.rerouted_to = away, to
    result = sorted(rows.values(), key=lambda r: r.rep)
    if rep is not None:
        result = [r for r in result if r.rep == rep]
    for row in [*result, team]:
        row.first_response_median_min = percentile(row.minutes, 0.5)
        row.first_response_p90_min = percentile(row.minutes, 0.9)
    return [*result, team]


def _name(users: dict[int, User], user_id: int | None) -> str:
    return users[user_id].username if user_id in users else "(no owner)"


@dataclass(frozen=True)
class WhatIf:
    """The last days replayed with a ladder: the share touched within target and the
    assignment Gini (leads per rep), as they were and with the ladder's reassignments."""

    days: int
    leads: int
    ladder: str
    within_target_before: float | None
    within_target_after: float | None
    gini_before: float
    gini_after: float
    reassigned: int

    def as_json(self) -> dict[str, object]:
        return asdict(self)


def simulate_ladder(
    session: Session, *, days: int, ladder: str | None = None, now: datetime | None = None
) -> WhatIf:
    """Replay the leads received in the last `days` days. A lead first touched after the
    ladder's reassign minute (or never) goes at that minute to the rep, other than its owner,
    who is active, not off, inside their hours and under capacity in the replay, with the
    fewest leads so far; that rep is assumed to answer in their own median first response
    over the period (a rep with none: never). Without a reassign step nothing moves."""
    settings = load_settings(session)
    steps = parse_ladder(ladder) if ladder is not None else settings.ladder
    target = settings.response_target_minutes
    at = clock.as_utc(now or clock.now())
    since = at - timedelta(days=days)
    reps = {
        u.id: u
        for u in session.execute(
            select(User).where(User.active, User.role == Role.REP).order_by(User.id)
        ).scalars()
    }
    first_call = select(func.min(Call.called_at)).where(Call.lead_id == Lead.id).scalar_subquery()
    leads = []
    for owner_id, received, touched, called, status in session.execute(
        select(Lead.owner_id, Lead.created_at, ResponseClock.touched_at, first_call, Lead.status)
        .outerjoin(ResponseClock, ResponseClock.lead_id == Lead.id)
        .where(Lead.created_at >= since, Lead.created_at <= at)
        .order_by(Lead.created_at, Lead.id)
    ).all():
        if not has_clock(settings, received):
            continue
        touched = touched or (clock.as_utc(called) if called else None)
        calendar = clock_calendar(settings, reps.get(owner_id))
        used = calendar.business_minutes_between(received, touched) if touched else None
        leads.append((owner_id, clock.as_utc(received), used, status))
    medians: dict[int, float | None] = {}
    for rep_id in reps:
        mine = [used for owner, _, used, _ in leads if owner == rep_id and used is not None]
        medians[rep_id] = percentile(mine, 0.5)
    reassign = next((s.minute for s in steps if s.action == "reassign"), None)
    before = [used is not None and used <= target for _, _, used, _ in leads]
    after: list[bool] = []
    held: dict[int, int] = dict.fromkeys(reps, 0)  # open leads the replay gave each rep
    counts_before: dict[int, int] = dict.fromkeys(reps, 0)
    counts_after: dict[int, int] = dict.fromkeys(reps, 0)
    moved = 0
    for owner_id, received, used, status in leads:
        if owner_id in counts_before:
            counts_before[owner_id] += 1
        new_owner = owner_id
        if reassign is not None and (used is None or used > reassign):
            moment = clock_calendar(settings, reps.get(owner_id)).add_business_minutes(
                received, reassign
            )
            eligible = [
                rep
                for rep in reps.values()
                if rep.id != owner_id
                and rep.availability != "off"
                and held[rep.id] < rep.capacity  # type: ignore[index]
                and working_calendar(rep, settings).is_open(moment)
            ]
            if eligible:
                best = min(eligible, key=lambda r: (counts_after[r.id], r.id))  # type: ignore[index]
                new_owner, moved = best.id, moved + 1
                median = medians.get(best.id)  # type: ignore[arg-type]
                used = None if median is None else reassign + median
        after.append(used is not None and used <= target)
        if new_owner in counts_after:
            counts_after[new_owner] += 1
            if status not in ("won", "lost"):
                held[new_owner] += 1
    return WhatIf(
        days=days,
        leads=len(leads),
        ladder=",".join(str(s) for s in steps) or "off",
        within_target_before=round(sum(before) / len(before), 4) if before else None,
        within_target_after=round(sum(after) / len(after), 4) if after else None,
        gini_before=round(gini(list(counts_before.values())), 4),
        gini_after=round(gini(list(counts_after.values())), 4),
        reassigned=moved,
    )
