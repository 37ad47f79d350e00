"""The coaching report: per rep and for the team, for any date range in the team timezone,
the measures a manager coaches from. Each is one aggregate query over an indexed range;
first-response times need the business calendar, so they are computed per lead (never per
call) from one query's first-call times."""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, case, cast, func, select
from sqlmodel import Session

from leadms_tui.domain import clock
from leadms_tui.domain.models import (
    Call,
    Commission,
    CommissionState,
    FollowUp,
    FollowUpState,
    Lead,
    LeadStatus,
    Meeting,
    MeetingOutcome,
    MessageState,
    OnboardingTask,
    OutboundMessage,
    PhoneCall,
    Role,
    Sale,
    User,
)
from leadms_tui.domain.queries.dayview import day_bounds
from leadms_tui.domain.team.settings import TeamSettings, load_settings
from leadms_tui.domain.work.outcomes import CONNECTED

TEAM = "TEAM"
Adder = Callable[..., None]  # add(user_id, field=amount, ...): sums into a rep's report


@dataclass
class RepReport:
    rep: str
    leads_received: int = 0
    first_response_median_minutes: float | None = None
    first_response_p90_minutes: float | None = None
    answered_within_target: float | None = None  # share of received leads called in time
    calls: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    connect_rate: float | None = None
    followups_due: int = 0
    followups_done: int = 0
    followups_missed: int = 0
    meetings_booked: int = 0
    meetings_held: int = 0
    meetings_no_show: int = 0
    conversions: int = 0
    leads_lost: int = 0
    conversion_rate: float | None = None  # won over leads closed (won + lost)
    deal_value: Decimal = Decimal(0)
    commission: Decimal = Decimal(0)
    commitments_due: int = 0  # follow-ups, meetings and onboarding tasks due
    commitments_missed: int = 0
    missed_commitment_rate: float | None = None
    missed_commitment_rate_before: float | None = None  # the previous period of equal length
    messages_sent: int = 0  # chat replies written in the period that Meta took
    replies_in_window: int = 0  # of those, free text: answers inside the person's window
    message_failures: dict[str, int] = field(default_factory=dict)  # by Meta's error code
    phone_calls: int = 0  # calls the phone system reported on the rep's extension
    phone_answered: int = 0
    talk_seconds: int = 0  # from answer to hang-up, summed
    phone_hours: int = 0  # clock hours with at least one call (the divisor of calls per hour)
    answer_rate: float | None = None  # answered over phone calls
    calls_per_hour: float | None = None  # phone calls per hour with calls
    response_minutes: list[int] = field(default_factory=list, repr=False)

    def as_json(self) -> dict[str, object]:
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "response_minutes"}
        for key in ("deal_value", "commission"):
            data[key] = str(data[key])
        for key, value in list(data.items()):
            if isinstance(value, float):
                data[key] = round(value, 4)
        return data


@dataclass(frozen=True)
class Period:
    start: date  # inclusive
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def before(self) -> "Period":
        """The period of the same length just before this one."""
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))


def _bounds(period: Period, timezone: str) -> tuple[datetime, datetime]:
    return day_bounds(period.start, timezone)[0], day_bounds(period.end, timezone)[1]


def coaching_report(session: Session, period: Period, *, rep: str | None = None) -> list[RepReport]:
    """One report per rep (active reps, and anyone with activity in the period), then TEAM."""
    settings = load_settings(session)
    start, end = _bounds(period, settings.timezone)
    names = dict(session.execute(select(User.id, User.username)).all())
    reps = set(session.execute(select(User.id).where(User.active, User.role == Role.REP)).scalars())
    rows: dict[int, RepReport] = defaultdict(lambda: RepReport(""))

    def add(user_id: int | None, **values: object) -> None:
        if user_id is None:
            return
        report = rows[user_id]
        for key, value in values.items():
            setattr(report, key, getattr(report, key) + value)  # type: ignore[operator]

    for owner, count in session.execute(
        select(Lead.owner_id, func.count())
        .where(Lead.created_at >= start, Lead.created_at < end)
        .group_by(Lead.owner_id)
    ).all():
        add(owner, leads_received=count)
    for user_id, outcome, count in session.execute(
        select(Call.user_id, Call.outcome, func.count())
        .where(Call.called_at >= start, Call.called_at < end)
        .group_by(Call.user_id, Call.outcome)
    ).all():
        add(user_id, calls=count)
        if user_id is not None:
            rows[user_id].outcomes[outcome] = rows[user_id].outcomes.get(outcome, 0) + count
    for owner, due, done, missed in session.execute(
        select(
            FollowUp.owner_id,
            func.count(),
            func.sum(case((FollowUp.state == FollowUpState.DONE, 1), else_=0)),
            _missed(FollowUp.missed_at),
        )
        .where(FollowUp.due_at >= start, FollowUp.due_at < end)
        .group_by(FollowUp.owner_id)
    ).all():
        add(
            owner,
            followups_due=due,
            followups_done=int(done or 0),
            followups_missed=int(missed or 0),
            commitments_due=due,  # a follow-up is a commitment: counted from this one scan
            commitments_missed=int(missed or 0),
        )
    for owner, booked in session.execute(
        select(Meeting.owner_id, func.count())
        .where(Meeting.created_at >= start, Meeting.created_at < end)
        .group_by(Meeting.owner_id)
    ).all():
        add(owner, meetings_booked=booked)
    for owner, held, no_show, due, missed in session.execute(
        select(
            Meeting.owner_id,
            func.sum(case((Meeting.outcome == MeetingOutcome.HELD, 1), else_=0)),
            func.sum(case((Meeting.outcome == MeetingOutcome.NO_SHOW, 1), else_=0)),
            func.count(),
            _missed(Meeting.missed_at),
        )
        .where(Meeting.starts_at >= start, Meeting.starts_at < end)
        .group_by(Meeting.owner_id)
    ).all():
        add(
            owner,
            meetings_held=int(held or 0),
            meetings_no_show=int(no_show or 0),
            commitments_due=due,
            commitments_missed=int(missed or 0),
        )
    for owner, due, missed in session.execute(_onboarding_due(period)).all():
        add(owner, commitments_due=due, commitments_missed=int(missed or 0))
    live = Sale.reversed_at.is_(None)
    for closer, count, value in session.execute(
        select(Sale.closed_by_id, func.count(), func.sum(Sale.value))
        .where(live, Sale.sold_on >= period.start, Sale.sold_on <= period.end)
        .group_by(Sale.closed_by_id)
    ).all():
        add(closer, conversions=count, deal_value=Decimal(value or 0))
    for user_id, amount in session.execute(
        select(Commission.user_id, func.sum(Commission.amount))
        .join(Sale, Sale.id == Commission.sale_id)
        .where(
            Commission.state != CommissionState.VOID,
            Sale.sold_on >= period.start,
            Sale.sold_on <= period.end,
        )
        .group_by(Commission.user_id)
    ).all():
        add(user_id, commission=Decimal(amount or 0))
    for owner, lost in session.execute(
        select(Lead.owner_id, func.count())
        .where(Lead.status == LeadStatus.LOST, Lead.updated_at >= start, Lead.updated_at < end)
        .group_by(Lead.owner_id)
    ).all():
        add(owner, leads_lost=lost)
    _chat_replies(session, start, end, add, rows)
    _phone_calls(session, start, end, add)
    _first_responses(session, start, end, settings, add, rows)

    before = {
        user_id: (due, missed)
        for user_id, due, missed in commitments_by_user(session, period.before(), settings.timezone)
    }
    ids = sorted(reps | set(rows), key=lambda i: names.get(i, ""))
    if rep is not None:
        ids = [i for i in ids if names.get(i) == rep]
    reports = []
    for user_id in ids:
        report = rows[user_id]
        report.rep = names.get(user_id, f"#{user_id}")
        _finish(report, before.get(user_id), settings)
        reports.append(report)
    if rep is not None:  # the team row of one rep's report is that rep's
        before = {i: before[i] for i in ids if i in before}
    team = _team(list(rows.values()) if rep is None else reports, before, settings)
    return [*reports, team]


def commitments_by_user(
    session: Session, period: Period, timezone: str
) -> list[tuple[int, int, int]]:
    """(user, due, missed) over follow-ups, meetings and onboarding tasks due in the period."""
    start, end = _bounds(period, timezone)
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    queries = [
        select(FollowUp.owner_id, func.count(), _missed(FollowUp.missed_at))
        .where(FollowUp.due_at >= start, FollowUp.due_at < end)
        .group_by(FollowUp.owner_id),
        select(Meeting.owner_id, func.count(), _missed(Meeting.missed_at))
        .where(Meeting.starts_at >= start, Meeting.starts_at < end)
        .group_by(Meeting.owner_id),
        _onboarding_due(period),
    ]
    for query in queries:
        for owner, due, missed in session.execute(query).all():
            if owner is not None:
                totals[owner][0] += due
                totals[owner][1] += int(missed or 0)
    return [(owner, due, missed) for owner, (due, missed) in totals.items()]


def _missed(missed_at):  # type: ignore[no-untyped-def]
    return func.sum(case((missed_at.is_not(None), 1), else_=0))


def _onboarding_due(period: Period):  # type: ignore[no-untyped-def]
    """(owner, due, missed) of onboarding tasks due in the period."""
    return (
        select(OnboardingTask.owner_id, func.count(), _missed(OnboardingTask.missed_at))
        .where(OnboardingTask.due_on >= period.start, OnboardingTask.due_on <= period.end)
        .group_by(OnboardingTask.owner_id)
    )


TOOK = (MessageState.SENT, MessageState.DELIVERED, MessageState.READ)


def _chat_replies(
    session: Session, start: datetime, end: datetime, add: Adder, rows: dict[int, RepReport]
) -> None:
    """Replies sent, those inside the window, failures by code: one grouped query."""
    for user_id, kind, state, code, count in session.execute(
        select(
            OutboundMessage.created_by_id,
            OutboundMessage.kind,
            OutboundMessage.state,
            OutboundMessage.error_code,
            func.count(),
        )
        .where(OutboundMessage.created_at >= start, OutboundMessage.created_at < end)
        .group_by(
            OutboundMessage.created_by_id,
            OutboundMessage.kind,
            OutboundMessage.state,
            OutboundMessage.error_code,
        )
    ).all():
        if user_id is None:
            continue
        if state in TOOK:
            add(user_id, messages_sent=count, replies_in_window=count if kind == "text" else 0)
        elif state == MessageState.FAILED:
            failures = rows[user_id].message_failures
            reason = str(code) if code is not None else "unknown"
            failures[reason] = failures.get(reason, 0) + count


def _phone_calls(session: Session, start: datetime, end: datetime, add: Adder) -> None:
    """Talk time, answered calls and busy hours per rep from the phone bridge's calls: the
    sums in one grouped query, the hours with calls from the start times."""
    for user_id, calls, answered, seconds in session.execute(
        select(PhoneCall.user_id, func.count(), func.count(PhoneCall.answered_at),
               func.coalesce(func.sum(PhoneCall.duration_seconds), 0))
        .where(PhoneCall.user_id.is_not(None), PhoneCall.started_at >= start,
               PhoneCall.started_at < end)
        .group_by(PhoneCall.user_id)
    ).all():  # fmt: skip
        add(user_id, phone_calls=calls, phone_answered=answered, talk_seconds=int(seconds))
    hours: dict[int, set[int]] = {}
    for user_id, started in session.execute(
        select(PhoneCall.user_id, PhoneCall.started_at).where(
            PhoneCall.user_id.is_not(None), PhoneCall.started_at >= start,
            PhoneCall.started_at < end,
        )
    ).all():  # fmt: skip
        hours.setdefault(user_id, set()).add(int(_aware(started).timestamp()) // 3600)
    for user_id, busy in hours.items():
        add(user_id, phone_hours=len(busy))


def _first_responses(
    session: Session,
    start: datetime,
    end: datetime,
    settings: TeamSettings,
    add: Adder,
    rows: dict[int, RepReport],
) -> None:
    """Business minutes from each received lead's creation to its first call (one query)."""
    calendar = settings.calendar()
    first_call = select(func.min(Call.called_at)).where(Call.lead_id == Lead.id).scalar_subquery()
    for owner, created, called in session.execute(
        select(Lead.owner_id, Lead.created_at, first_call).where(
            Lead.created_at >= start, Lead.created_at < end, Lead.owner_id.is_not(None)
        )
    ).all():
        if called is not None:
            minutes = calendar.business_minutes_between(_aware(created), _aware(called))
            rows[owner].response_minutes.append(minutes)
        else:
            rows[owner].response_minutes.append(-1)  # never called: counts as not in time


def _aware(moment: datetime) -> datetime:
    return clock.as_utc(moment)


def percentile(values: list[int], share: float) -> float | None:
    """Linear-interpolated percentile (share 0.5: the median)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * share
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _finish(report: RepReport, before: tuple[int, int] | None, settings) -> None:  # type: ignore[no-untyped-def]
    target = settings.response_target_minutes
    called = [m for m in report.response_minutes if m >= 0]
    report.first_response_median_minutes = percentile(called, 0.5)
    report.first_response_p90_minutes = percentile(called, 0.9)
    if report.response_minutes:
        in_time = sum(1 for m in report.response_minutes if 0 <= m <= target)
        report.answered_within_target = in_time / len(report.response_minutes)
    connected = sum(n for outcome, n in report.outcomes.items() if outcome in CONNECTED)
    report.connect_rate = connected / report.calls if report.calls else None
    if report.phone_calls:
        report.answer_rate = report.phone_answered / report.phone_calls
        report.calls_per_hour = report.phone_calls / max(report.phone_hours, 1)
    closed = report.conversions + report.leads_lost
    report.conversion_rate = report.conversions / closed if closed else None
    if report.commitments_due:
        report.missed_commitment_rate = report.commitments_missed / report.commitments_due
    if before and before[0]:
        report.missed_commitment_rate_before = before[1] / before[0]


def _team(reports: list[RepReport], before: dict, settings) -> RepReport:  # type: ignore[no-untyped-def]
    team = RepReport(TEAM)
    for report in reports:
        for f in fields(RepReport):
            derived = f.name.endswith(
                ("_rate", "_median_minutes", "_p90_minutes", "_before", "_per_hour")
            )
            if f.name in ("rep", "answered_within_target") or derived:
                continue  # computed again from the team's sums below
            value = getattr(report, f.name)
            if isinstance(value, dict):  # outcomes, message failures
                counts = getattr(team, f.name)
                for key, n in value.items():
                    counts[key] = counts.get(key, 0) + n
            elif f.name == "response_minutes":
                team.response_minutes.extend(value)
            else:
                setattr(team, f.name, getattr(team, f.name) + value)
    due = sum(d for d, _ in before.values())
    missed = sum(m for _, m in before.values())
    _finish(team, (due, missed), settings)
    return team


# --- by day and by week ---------------------------------------------------------------

BUCKET_SECONDS = 900  # every timezone offset in use is a whole number of quarter hours


def _local_day_key(session: Session, column, timezone: str):  # type: ignore[no-untyped-def]
    """What to group a UTC timestamp column by to count per local day: on PostgreSQL the local
    date itself; on SQLite, which has no timezones, the quarter hour (every timezone offset in
    use is a whole number of quarter hours), turned into the local date in Python."""
    if session.get_bind().dialect.name == "sqlite":
        return cast((func.julianday(column) - 2440587.5) * 96, Integer)
    return func.date(func.timezone(timezone, func.timezone("UTC", column)))


def _local_day(key: object, timezone: str) -> date:
    if isinstance(key, date):
        return key
    return datetime.fromtimestamp(int(key) * BUCKET_SECONDS, tz=ZoneInfo(timezone)).date()  # type: ignore[call-overload]


def daily_calls(
    session: Session, period: Period, *, rep_id: int | None = None
) -> list[tuple[date, str, int]]:
    """(day, outcome, calls) for every day of the period in the team timezone, from one
    aggregate by quarter hour (so a call at 00:30 local counts on its local day)."""
    timezone = load_settings(session).timezone
    start, end = _bounds(period, timezone)
    bucket = _local_day_key(session, Call.called_at, timezone)
    query = (
        select(bucket, Call.outcome, func.count())
        .where(Call.called_at >= start, Call.called_at < end)
        .group_by(bucket, Call.outcome)
    )
    if rep_id is not None:
        query = query.where(Call.user_id == rep_id)
    counts: dict[tuple[date, str], int] = defaultdict(int)
    for moment, outcome, count in session.execute(query).all():
        counts[(_local_day(moment, timezone), outcome)] += count
    return sorted((day, outcome, count) for (day, outcome), count in counts.items())


@dataclass(frozen=True)
class WeekRate:
    week: date  # its Monday
    due: int
    missed: int

    @property
    def rate(self) -> float | None:
        return self.missed / self.due if self.due else None


def weekly_missed(
    session: Session, *, weeks: int, today: date, rep_id: int | None = None
) -> list[WeekRate]:
    """The missed-commitment rate of each of the last `weeks` weeks (Monday to Sunday, this
    week last): follow-ups, meetings and onboarding tasks due that week, and how many missed."""
    timezone = load_settings(session).timezone
    monday = today - timedelta(days=today.weekday())
    first = monday - timedelta(weeks=weeks - 1)
    start, end = day_bounds(first, timezone)[0], day_bounds(monday + timedelta(days=6), timezone)[1]
    totals: dict[date, list[int]] = {first + timedelta(weeks=i): [0, 0] for i in range(weeks)}

    def week_of(day: date) -> date:
        return day - timedelta(days=day.weekday())

    for model, moment in ((FollowUp, FollowUp.due_at), (Meeting, Meeting.starts_at)):
        bucket = _local_day_key(session, moment, timezone)
        query = (
            select(bucket, func.count(), func.sum(case((model.missed_at.is_not(None), 1), else_=0)))
            .where(moment >= start, moment < end, model.owner_id.is_not(None))
            .group_by(bucket)
        )
        if rep_id is not None:
            query = query.where(model.owner_id == rep_id)
        for when, due, missed in session.execute(query).all():
            week = week_of(_local_day(when, timezone))
            if week in totals:
                totals[week][0] += due
                totals[week][1] += int(missed or 0)
    tasks = (
        select(
            OnboardingTask.due_on,
            func.count(),
            func.sum(case((OnboardingTask.missed_at.is_not(None), 1), else_=0)),
        )
        .where(OnboardingTask.due_on >= first, OnboardingTask.due_on <= monday + timedelta(days=6))
        .group_by(OnboardingTask.due_on)
    )
    if rep_id is not None:
        tasks = tasks.where(OnboardingTask.owner_id == rep_id)
    for day, due, missed in session.execute(tasks).all():
        totals[week_of(day)][0] += due
        totals[week_of(day)][1] += int(missed or 0)
    return [WeekRate(week, due, missed) for week, (due, missed) in sorted(totals.items())]
