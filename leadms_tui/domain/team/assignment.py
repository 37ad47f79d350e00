"""Smart assignment: the best rep for a lead, scored from workload, performance, fit and
fairness, explained signal by signal, and never over a rep's capacity however many intake
processes assign at once (the rep's row is locked while their load is counted)."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy import bindparam, delete, func, insert, select
from sqlmodel import Session

from leadms_tui.domain import audit, clock
from leadms_tui.domain.business_time import BusinessCalendar
from leadms_tui.domain.errors import NotFoundError, PermissionDeniedError, ValidationError
from leadms_tui.domain.events import Effects, LeadCreated
from leadms_tui.domain.leads.edits import change_lead
from leadms_tui.domain.models import (
    AssignmentWait,
    Availability,
    Inquiry,
    Lead,
    Notification,
    Role,
    User,
    saved_id,
)
from leadms_tui.domain.team.language import detect_language
from leadms_tui.domain.team.settings import TeamSettings, load_settings
from leadms_tui.domain.team.signals import OPEN_STATUSES, Load, Performance, loads, performances

ASSIGNER = audit.Actor(None, "assignment")  # who hands out leads automatically
PRIOR_LEADS = 10  # conversion is smoothed toward the team's rate as if from 10 closed leads
FAST_FIRST_CALL = 60.0  # minutes to the first call at which the response signal is 0.5


@dataclass(frozen=True)
class Signal:
    name: str
    value: float  # 0..1, higher is better for this lead
    weight: float
    why: str

    @property
    def contribution(self) -> float:
        return self.value * self.weight


@dataclass(frozen=True)
class Candidate:
    user_id: int
    username: str
    score: float
    signals: list[Signal]
    sticky: bool = False  # the person's previous owner: first when eligible

    def reasons(self) -> str:
        return "; ".join(f"{s.name} {s.value:.2f} x {s.weight:.2f} ({s.why})" for s in self.signals)

    def as_json(self) -> dict[str, object]:
        return {
            "rep": self.username,
            "score": round(self.score, 4),
            "sticky": self.sticky,
            "signals": {
                s.name: {
                    "value": round(s.value, 4),
                    "weight": round(s.weight, 4),
                    "contribution": round(s.contribution, 4),
                    "why": s.why,
                }
                for s in self.signals
            },
        }


@dataclass(frozen=True)
class Suggestions:
    lead_id: int
    lead_number: str
    language: str | None
    ranked: list[Candidate]  # eligible reps, best first
    excluded: list[tuple[str, str]] = field(default_factory=list)  # (username, why)

    def as_json(self) -> dict[str, object]:
        return {
            "lead": self.lead_number,
            "language": self.language,
            "suggestions": [c.as_json() for c in self.ranked],
            "excluded": [{"rep": u, "why": why} for u, why in self.excluded],
        }


# --- scoring -------------------------------------------------------------------------


class RepLike(Protocol):
    """What scoring reads of a rep: a `User`, or a `Rep` read without the ORM."""

    @property
    def id(self) -> int | None: ...
    @property
    def username(self) -> str: ...
    @property
    def availability(self) -> str: ...
    @property
    def away_until(self) -> datetime | None: ...
    @property
    def capacity(self) -> int: ...
    @property
    def working_hours(self) -> str: ...
    @property
    def languages(self) -> str: ...
    @property
    def channels(self) -> str: ...


@dataclass(frozen=True)
class Rep:
    id: int
    username: str
    availability: str
    away_until: datetime | None
    capacity: int
    working_hours: str
    languages: str
    channels: str


# Every active rep, as plain rows: loading them as ORM objects was a third of a score.
_REPS = (
    select(*(getattr(User, name) for name in Rep.__dataclass_fields__))
    .where(User.active, User.role == Role.REP)
    .order_by(User.id)
)


@dataclass(frozen=True)
class LeadFacts:
    """What scoring needs to know of a lead, which a lead still being taken in has too."""

    channel: str
    message: str | None  # the first message, for its language
    previous_owner: int | None  # who owned the person's earlier lead (repeat stickiness)


def suggest(session: Session, lead_id: int, *, now: datetime | None = None) -> Suggestions:
    """Every active rep, eligible ones ranked by score, the others with the rule that
    excluded them. Reads only; nothing is assigned."""
    at = clock.as_utc(now or clock.now())
    lead = session.get(Lead, lead_id)
    if lead is None:
        raise NotFoundError("that lead no longer exists")
    facts = LeadFacts(lead.channel, _first_message(session, lead), _previous_owner(session, lead))
    language, ranked, excluded = rank(session, facts, at=at, settings=load_settings(session))
    return Suggestions(saved_id(lead), lead.number, language, ranked, excluded)


def rank(
    session: Session, facts: LeadFacts, *, at: datetime, settings: TeamSettings
) -> tuple[str | None, list[Candidate], list[tuple[str, str]]]:
    """(the message's language, eligible reps best first, (username, why not) of the others)."""
    reps = [Rep(*row) for row in session.connection().execute(_REPS)]
    today = clock.business_date(at, settings.timezone)
    load = loads(session, [r.id for r in reps], today=today, timezone=settings.timezone)
    perf = performances(session, at)
    language = detect_language(facts.message)
    team_rate = _team_rate(perf)
    eligible, excluded = [], []
    for rep in reps:
        rep_load = load.get(rep.id, Load())
        why_not = exclusions(rep, rep_load, settings, at)
        if why_not:
            excluded.append((rep.username, "; ".join(why_not)))
        else:
            eligible.append((rep, rep_load))
    # fairness compares with the reps who can take leads now, not with those away or off
    mean_received = (
        sum(rep_load.received_today for _, rep_load in eligible) / len(eligible)
        if eligible
        else 0.0
    )
    ranked = []
    for rep, rep_load in eligible:
        signals = _signals(
            rep,
            rep_load,
            perf.get(rep.id, Performance()),
            facts,
            language,
            team_rate,
            mean_received,
            settings,
        )
        score = sum(s.contribution for s in signals)
        sticky = rep.id == facts.previous_owner
        ranked.append(Candidate(rep.id, rep.username, score, signals, sticky))
    ranked.sort(key=lambda c: (not c.sticky, -c.score, c.user_id))
    return language, ranked, excluded


def exclusions(rep: RepLike, load: Load, settings: TeamSettings, at: datetime) -> list[str]:
    """Every hard rule that keeps `rep` from new leads now, the most decisive first (the one
    that lasts longest to lift: off, away, at capacity, outside working hours), so that a
    manager freeing capacity sees the rep is also outside their hours."""
    reasons = []
    if rep.availability == Availability.OFF:
        reasons.append("off")
    if rep.availability == Availability.AWAY and (rep.away_until is None or rep.away_until > at):
        until = clock.local(rep.away_until, settings.timezone) if rep.away_until else None
        reasons.append(f"away until {until:%a %d %b %H:%M}" if until else "away")
    if load.open_leads >= rep.capacity:
        reasons.append(f"at capacity ({load.open_leads}/{rep.capacity} open leads)")
    if not working_calendar(rep, settings).is_open(at):
        reasons.append(f"outside working hours ({rep.working_hours or settings.business_hours})")
    return reasons


def working_calendar(rep: RepLike, settings: TeamSettings) -> BusinessCalendar:
    return settings.calendar(rep.working_hours)


def _signals(
    rep: RepLike,
    load: Load,
    perf: Performance,
    facts: LeadFacts,
    language: str | None,
    team_rate: float,
    mean_received: float,
    settings: TeamSettings,
) -> list[Signal]:
    weights = settings.weights
    busy = load.open_leads + 0.5 * load.due_today + load.overdue
    workload = max(0.0, 1.0 - busy / rep.capacity) if rep.capacity else 0.0
    smoothed = (perf.won + PRIOR_LEADS * team_rate) / (perf.closed + PRIOR_LEADS)
    conversion = min(1.0, smoothed / team_rate / 2) if team_rate else 0.5  # team rate = 0.5
    response = (
        FAST_FIRST_CALL / (FAST_FIRST_CALL + perf.first_call_median_minutes)
        if perf.first_call_median_minutes is not None
        else 0.5
    )
    kept = 1.0 - (perf.commitments_missed + 1) / (perf.commitments_due + 2)  # smoothed
    performance = (conversion + response + kept) / 3
    speaks = [code for code in rep.languages.split(",") if code]
    language_fit = 0.5 if language is None or not speaks else float(language in speaks)
    takes = [c for c in rep.channels.split(",") if c]
    channel_fit = 1.0 if not takes or facts.channel in takes else 0.0
    sticky = 1.0 if facts.previous_owner == rep.id else 0.0
    fit = (language_fit + channel_fit + sticky) / 3
    over = max(0.0, load.received_today - mean_received)
    fairness = 1.0 / (1.0 + over)
    median = perf.first_call_median_minutes
    return [
        Signal(
            "workload",
            workload,
            weights["workload"],
            f"{load.open_leads}/{rep.capacity} open, {load.due_today} due today, "
            f"{load.overdue} overdue",
        ),
        Signal(
            "performance",
            performance,
            weights["performance"],
            f"won {perf.won}/{perf.closed} in 30 days (smoothed {smoothed:.0%}), first call "
            f"{'n/a' if median is None else f'{median:.0f} min'}, missed "
            f"{perf.commitments_missed}/{perf.commitments_due}",
        ),
        Signal(
            "fit",
            fit,
            weights["fit"],
            f"language {language or '?'}{' spoken' if language_fit == 1 else ''}, "
            f"channel {facts.channel}{' taken' if channel_fit else ' not taken'}"
            f"{', their earlier lead was theirs' if sticky else ''}",
        ),
        Signal(
            "fairness",
            fairness,
            weights["fairness"],
            f"{load.received_today} received today, team mean {mean_received:.1f}",
        ),
    ]


def _team_rate(perf: dict[int, Performance]) -> float:
    won = sum(p.won for p in perf.values())
    closed = sum(p.closed for p in perf.values())
    return won / closed if closed else 0.0


def _first_message(session: Session, lead: Lead) -> str | None:
    if lead.first_message:
        return lead.first_message
    return session.execute(
        select(Inquiry.message).where(Inquiry.lead_id == lead.id).order_by(Inquiry.id).limit(1)
    ).scalar()


def _previous_owner(session: Session, lead: Lead) -> int | None:
    """Who owned the person's earlier lead (repeat stickiness)."""
    if lead.repeat_of_id is None:
        return None
    return session.execute(select(Lead.owner_id).where(Lead.id == lead.repeat_of_id)).scalar()


# --- assigning -----------------------------------------------------------------------


def assign_lead(
    session: Session,
    lead_id: int,
    username: str,
    *,
    actor: audit.Actor,
    now: datetime | None = None,
) -> Candidate | None:
    """A manager gives a lead to a rep (even one the rules exclude: a person decided).
    Audited with the scores the suggestion had, and the rep is notified."""
    check_may_assign(actor)
    at = clock.as_utc(now or clock.now())
    rep = session.execute(select(User).where(User.username == username.strip().lower())).scalar()
    if rep is None or not rep.active:
        raise ValidationError(f"no active user {username!r}")
    lead = session.get(Lead, lead_id)
    if lead is not None and lead.owner_id == rep.id:
        raise ValidationError(f"{lead.number} is already {rep.username}'s")
    scored = next(
        (c for c in suggest(session, lead_id, now=at).ranked if c.user_id == rep.id), None
    )
    _give(session, lead_id, rep, actor, at, scored, how="by hand")
    return scored


def _give(
    session: Session,
    lead_id: int,
    rep: User,
    actor: audit.Actor,
    at: datetime,
    scored: Candidate | None,
    *,
    how: str,
) -> None:
    lead = session.get(Lead, lead_id, with_for_update=True)
    if lead is None:
        raise NotFoundError("that lead no longer exists")
    change_lead(session, lead, actor, at, owner_id=rep.id)
    session.execute(delete(AssignmentWait).where(AssignmentWait.lead_id == lead_id))
    lead_row = (lead_id, lead.number, lead.name)
    announce(session, lead_row, (saved_id(rep), rep.username), actor, at, scored, how=how)


def announce(
    session: Session,
    lead: tuple[int, str, str],
    rep: tuple[int, str],
    actor: audit.Actor,
    at: datetime,
    scored: Candidate | None,
    *,
    how: str,
) -> None:
    """The audit event of an assignment (with the scores) and the rep's notification.
    `lead` is (id, number, name), `rep` (id, username)."""
    lead_id, number, name = lead
    rep_id, username = rep
    audit.record(
        session,
        actor,
        "lead.assign",
        "lead",
        lead_id,
        after={
            "owner": username,
            "how": how,
            "score": round(scored.score, 4) if scored else None,
            "signals": scored.as_json()["signals"] if scored else None,
        },
        at=at,
    )
    session.execute(
        insert(Notification).values(
            user_id=rep_id,
            lead_id=lead_id,
            created_at=at,
            message=f"{number} {name} was assigned to you ({how})",
        )
    )


def auto_assign(
    session: Session,
    lead_id: int,
    *,
    at: datetime,
    actor: audit.Actor,
    exclude: int | None = None,
    how: str = "automatically",
) -> str | None:
    """Give the lead to the best eligible rep with room (other than `exclude`), re-checked
    under a lock on the rep's row (so concurrent intakes never push a rep past capacity).
    None: nobody could take it."""
    for candidate in suggest(session, lead_id, now=at).ranked:
        if candidate.user_id == exclude:
            continue
        if _has_room(session, candidate.user_id):
            rep = session.get_one(User, candidate.user_id)
            _give(session, lead_id, rep, actor, at, candidate, how=how)
            return rep.username
    return None


def pick_for_new_lead(
    session: Session, facts: LeadFacts, *, at: datetime, settings: TeamSettings
) -> Candidate | None:
    """The rep a lead being taken in goes to, chosen before the lead is written, so intake
    inserts it with its owner (no second write of the row) and, on PostgreSQL, scores before
    it takes the day's counter lock. The rep's row stays locked to the end of the transaction.
    None: nobody can take it now (intake then makes it wait, see `wait`)."""
    ranked = rank(session, facts, at=at, settings=settings)[1]
    if session.get_bind().dialect.name == "sqlite":
        # one writer at a time: the loads `rank` counted are this write's, and an eligible
        # rep is below capacity (see `exclusions`), so the first has room
        return ranked[0] if ranked else None
    # a rep another intake is giving a lead to now is passed over for the next best (a burst
    # spreads over the team instead of queueing for one rep); all taken: wait for the best
    for skip_locked in (True, False):
        for candidate in ranked:
            if _has_room(session, candidate.user_id, skip_locked=skip_locked):
                return candidate
    return None


# FOR NO KEY UPDATE: it queues assigners of one rep, but not the foreign-key check of a
# lead inserted with that owner (a repeat keeps its first lead's rep without this lock):
# FOR UPDATE made such an insert, holding the day's counter, wait behind an assigner
# waiting for that counter (deadlocks, most of the 16-writer benchmark's time).
_CAPACITY = select(User.capacity).where(User.id == bindparam("rep"))
_LOCK_CAPACITY = {
    skip: _CAPACITY.with_for_update(key_share=True, skip_locked=skip) for skip in (True, False)
}
_OPEN_LEADS = (
    select(func.count())
    .select_from(Lead)
    .where(Lead.owner_id == bindparam("rep"), Lead.status.in_(OPEN_STATUSES))
)


def _has_room(session: Session, rep_id: int, *, skip_locked: bool = False) -> bool:
    """Locks the rep's row, then counts their open leads again under the lock (another
    intake may have just given them one): below capacity? `skip_locked`: False at once
    when another transaction holds the lock."""
    conn = session.connection()
    capacity = conn.execute(_LOCK_CAPACITY[skip_locked], {"rep": rep_id}).scalar()
    if capacity is None:
        return False  # locked by another (or gone)
    return conn.execute(_OPEN_LEADS, {"rep": rep_id}).scalar_one() < capacity


def on_lead_created(session: Session, event: LeadCreated, at: datetime, effects: Effects) -> None:
    """Subscriber: with assignment_mode auto, a new lead without an owner gets one in the
    transaction that took it in, or waits (flagged; managers told) for the sweep. A lead
    taken in one at a time was already given its rep by intake (`pick_for_new_lead`)."""
    if event.assignment_done or load_settings(session).assignment_mode != "auto":
        return
    lead = session.get(Lead, event.lead_id)
    if lead is None or lead.owner_id is not None:
        return
    if auto_assign(session, event.lead_id, at=at, actor=ASSIGNER) is None:
        wait(session, (event.lead_id, lead.number, lead.name), at)


def wait(session: Session, lead: tuple[int, str, str], at: datetime) -> None:
    """Nobody can take the lead (id, number, name) now: it waits for the sweep, managers told."""
    lead_id, number, name = lead
    if session.get(AssignmentWait, lead_id) is not None:
        return
    session.add(AssignmentWait(lead_id=lead_id, since=at, reason="no eligible rep"))
    after = {"reason": "no eligible rep"}
    audit.record(session, ASSIGNER, "lead.wait", "lead", lead_id, after=after, at=at)
    managers = session.execute(
        select(User.id).where(User.active, User.role == Role.MANAGER)
    ).scalars()
    for manager in managers:
        session.add(
            Notification(
                user_id=manager,
                lead_id=lead_id,
                created_at=at,
                message=f"{number} {name} waits: no rep can take it now",
            )
        )


def check_may_assign(actor: audit.Actor) -> None:
    """Only managers and admins (or the system: sweep, intake) hand out leads."""
    if actor.role not in (None, Role.MANAGER, Role.ADMIN):
        raise PermissionDeniedError("only a manager or an admin assigns leads")


def assign_waiting(
    session: Session, *, at: datetime, actor: audit.Actor | None = None, limit: int = 200
) -> int:
    """The sweep: waiting leads, oldest first, to reps who have room now. Stops at the first
    lead nobody can take (the later ones would not fit either). Does nothing unless
    assignment_mode is auto: turning it off stops automatic assignment everywhere."""
    if actor is not None:
        check_may_assign(actor)
    if load_settings(session).assignment_mode != "auto":
        return 0
    waiting = (
        session.execute(
            select(AssignmentWait.lead_id)
            .order_by(AssignmentWait.since, AssignmentWait.lead_id)
            .limit(limit)
        )
        .scalars()
        .all()
    )
    assigned = 0
    for lead_id in waiting:
        if auto_assign(session, lead_id, at=at, actor=ASSIGNER) is None:
            break
        assigned += 1
    return assigned
