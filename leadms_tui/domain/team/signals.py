"""What assignment knows about each rep, in a few aggregate queries that stay fast at
100,000 leads and 1,000,000 calls: load now (open leads, follow-ups due and overdue, leads
received today) and performance over 30 days (conversions, time to first call, missed
commitments). Performance changes slowly and is remembered for a minute."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Float, and_, bindparam, case, cast, func, select
from sqlmodel import Session

from leadms_tui.domain import recent
from leadms_tui.domain.models import Call, FollowUp, FollowUpState, Lead, LeadStatus, User
from leadms_tui.domain.queries.dayview import day_bounds

OPEN_STATUSES = (
    LeadStatus.NEW,
    LeadStatus.CONTACTED,
    LeadStatus.QUALIFIED,
    LeadStatus.MEETING_SCHEDULED,
)
WINDOW = timedelta(days=30)
PERFORMANCE_TTL = 60.0


@dataclass(frozen=True)
class Load:
    open_leads: int = 0
    due_today: int = 0
    overdue: int = 0
    received_today: int = 0


@dataclass(frozen=True)
class Performance:
    won: int = 0
    closed: int = 0  # won or lost in the window
    first_call_median_minutes: float | None = None
    commitments_due: int = 0
    commitments_missed: int = 0


def _count(model, *where):  # type: ignore[no-untyped-def]
    return select(func.count()).select_from(model).where(*where).correlate(User).scalar_subquery()


# Built once: building these statements cost ten times running them (issue 31).
_LOADS = select(
    User.id,
    _count(Lead, Lead.owner_id == User.id, Lead.status.in_(OPEN_STATUSES)),
    _count(
        FollowUp,
        FollowUp.owner_id == User.id,
        FollowUp.state == FollowUpState.OPEN,
        FollowUp.due_at >= bindparam("start"),
        FollowUp.due_at < bindparam("end"),
    ),
    _count(
        FollowUp,
        FollowUp.owner_id == User.id,
        FollowUp.state.in_([FollowUpState.OPEN, FollowUpState.MISSED]),
        FollowUp.due_at < bindparam("start"),
    ),
).where(User.id.in_(bindparam("ids", expanding=True)))
_RECEIVED = (
    select(Lead.owner_id, func.count())  # no owner filter: SQLite would take that index
    .where(Lead.created_at >= bindparam("start"), Lead.created_at < bindparam("end"))
    .group_by(Lead.owner_id)
)


def loads(session: Session, rep_ids: list[int], *, today, timezone: str) -> dict[int, Load]:
    """Each rep's load now: correlated counts on the owner indexes, and today's leads from
    the creation-time index (a rep's leads of all time would otherwise be read)."""
    if not rep_ids:
        return {}
    start, end = day_bounds(today, timezone)
    conn = session.connection()
    rows = conn.execute(_LOADS, {"ids": rep_ids, "start": start, "end": end}).all()
    received = dict(conn.execute(_RECEIVED, {"start": start, "end": end}).all())
    return {row[0]: Load(*row[1:], received_today=received.get(row[0], 0)) for row in rows}


def performances(session: Session, now: datetime) -> dict[int, Performance]:
    """Every owner's last 30 days, remembered for a minute (it moves slowly)."""
    return recent.remembered(
        session, "assignment-performance", lambda: _performances(session, now), ttl=PERFORMANCE_TTL
    )


def _minutes_between(session: Session, start, end):  # type: ignore[no-untyped-def]
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * 1440.0
    return func.extract("epoch", end - start) / 60.0


def _performances(session: Session, now: datetime) -> dict[int, Performance]:
    since = now - WINDOW
    closed = session.execute(
        select(
            Lead.owner_id,
            func.sum(case((Lead.status == LeadStatus.WON, 1), else_=0)),
            func.count(),
        )
        .where(
            Lead.owner_id.is_not(None),
            Lead.status.in_([LeadStatus.WON, LeadStatus.LOST]),
            Lead.updated_at >= since,
        )
        .group_by(Lead.owner_id)
    ).all()
    firsts = (
        select(
            Lead.owner_id.label("owner_id"),
            cast(_minutes_between(session, Lead.created_at, func.min(Call.called_at)), Float).label(
                "delay"
            ),
        )
        .join(Call, Call.lead_id == Lead.id)
        .where(Lead.owner_id.is_not(None), Lead.created_at >= since)
        .group_by(Lead.id, Lead.owner_id, Lead.created_at)
        .subquery()
    )
    ranked = select(
        firsts.c.owner_id,
        firsts.c.delay,
        func.row_number().over(partition_by=firsts.c.owner_id, order_by=firsts.c.delay).label("rn"),
        func.count().over(partition_by=firsts.c.owner_id).label("n"),
    ).subquery()
    middle = and_(
        ranked.c.rn >= (ranked.c.n + 1) // 2, ranked.c.rn <= (ranked.c.n + 2) // 2
    )  # one middle row, or the two of an even count
    medians = dict(
        session.execute(
            select(ranked.c.owner_id, func.avg(ranked.c.delay))
            .where(middle)
            .group_by(ranked.c.owner_id)
        ).all()
    )
    commitments = session.execute(
        select(
            FollowUp.owner_id,
            func.count(),
            func.sum(case((FollowUp.missed_at.is_not(None), 1), else_=0)),
        )
        .where(FollowUp.owner_id.is_not(None), FollowUp.due_at >= since, FollowUp.due_at < now)
        .group_by(FollowUp.owner_id)
    ).all()
    owners = {row[0] for row in closed} | set(medians) | {row[0] for row in commitments}
    won_closed = {row[0]: (int(row[1] or 0), int(row[2])) for row in closed}
    due_missed = {row[0]: (int(row[1]), int(row[2] or 0)) for row in commitments}
    return {
        owner: Performance(
            *won_closed.get(owner, (0, 0)),
            max(0.0, float(medians[owner])) if medians.get(owner) is not None else None,
            *due_missed.get(owner, (0, 0)),
        )
        for owner in owners
    }
