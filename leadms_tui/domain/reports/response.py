"""Speed-to-lead report: per rep and for the team, the leads received in a period, how many
were touched within the response target, the median and p90 first response in business
minutes, and the leads the ladder rerouted away from and to each rep."""

from collections import defaultdict
from dataclasses import asdict, dataclass, field

from sqlalchemy import func, select
from sqlmodel import Session

from leadms_tui.domain import clock
from leadms_tui.domain.models import Call, Lead, ResponseClock, ResponseStep, Role, User
from leadms_tui.domain.reports.coaching import Period, percentile
from leadms_tui.domain.repositories.dayview import day_bounds
from leadms_tui.domain.team.settings import load_settings
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

    def as_json(self) -> dict[str, object]:
        return {k: v for k, v in asdict(self).items() if k != "minutes"}


def response_report(
    session: Session, period: Period, *, rep: str | None = None
) -> list[ResponseRow]:
    """One row per rep (the lead's owner now) and a TEAM row, over clocks started in
    `period` (team days); a call written without touching the clock (the demo, older
    data) counts from its time. A lead never touched counts as not within target and is left out
    of the median and p90."""
    settings = load_settings(session)
    target = int(settings.response_target_minutes)
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
    for owner_id, started_at, touched_at, called_at in session.execute(
        select(Lead.owner_id, Lead.created_at, ResponseClock.touched_at, first_call)
        .outerjoin(ResponseClock, ResponseClock.lead_id == Lead.id)
        .where(Lead.created_at >= start, Lead.created_at < end)
    ).all():
        if not has_clock(settings, started_at):
            continue
        touched_at = touched_at or (clock.as_utc(called_at) if called_at else None)
        row = rows.setdefault(owner_id, ResponseRow(_name(users, owner_id)))
        for target_row in (row, team):
            target_row.received += 1
        if touched_at is None:
            row.untouched += 1
            team.untouched += 1
            continue
        calendar = clock_calendar(settings, users.get(owner_id))
        used = calendar.business_minutes_between(started_at, touched_at)
        for target_row in (row, team):
            target_row.touched += 1
            target_row.within_target += used <= target
            target_row.minutes.append(used)
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
