"""The screens' queries at two sizes: SQL statements (must not grow with the data) and time."""

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import event, func, select
from sqlmodel import Session

from bench.common import REGION, TIMEZONE, Result, median, p95
from bench.people import LAST_NAMES, national
from leadms_tui import bootstrap
from leadms_tui.domain import clock
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.db import Database
from leadms_tui.domain.fields.values import FieldFilter
from leadms_tui.domain.models import Call, FollowUp, Lead
from leadms_tui.domain.queries.dayview import day_bounds, load_day_view
from leadms_tui.domain.queries.lead_detail import load_lead_detail
from leadms_tui.domain.queries.leads import LeadFilter, search_leads
from leadms_tui.domain.team.assignment import suggest
from leadms_tui.domain.work.response_clock import breaching, due_steps

PAGE = 101  # the lead list asks for a page of 100 plus one, to know whether there is more
MAX_STATEMENTS = 10


@dataclass(frozen=True)
class Subject:
    """What the screens are opened on: the busiest rep's day, the longest timeline."""

    day: date
    rep_id: int
    lead_id: int  # the lead with the most calls
    phone: str  # that lead's phone as typed in the UK
    name: str  # a common surname: a page of matches comes quickly, with or without an index
    moment: datetime  # "now" of the run (the speed-to-lead scan counts minutes up to it)


@dataclass(frozen=True)
class Measured:
    statements: int
    median_ms: float
    p95_ms: float


OPERATIONS: dict[str, Callable[[Session, Subject], object]] = {
    "day view (rep)": lambda s, x: load_day_view(
        session=s, day=x.day, timezone=TIMEZONE, owner_id=x.rep_id
    ),
    "day view (team)": lambda s, x: load_day_view(
        session=s, day=x.day, timezone=TIMEZONE, owner_id=None
    ),
    "lead detail": lambda s, x: load_lead_detail(session=s, lead_id=x.lead_id, viewer=SYSTEM),
    "lead list page": lambda s, x: search_leads(
        session=s, where=LeadFilter(), phone_region=REGION, viewer=SYSTEM, limit=PAGE
    ),
    "lead list, phone search": lambda s, x: search_leads(
        session=s, where=LeadFilter(text=x.phone), phone_region=REGION, viewer=SYSTEM, limit=PAGE
    ),
    "lead list, name search": lambda s, x: search_leads(
        session=s, where=LeadFilter(text=x.name), phone_region=REGION, viewer=SYSTEM, limit=PAGE
    ),
    # Dynamic fields against a built-in filter of the same shape (an indexed equality).
    "lead list, status filter (built-in)": lambda s, x: search_leads(
        session=s,
        where=LeadFilter(status="contacted"),
        phone_region=REGION,
        viewer=SYSTEM,
        limit=PAGE,
    ),
    "lead list, field filter: plan (choice)": lambda s, x: search_leads(
        session=s,
        where=LeadFilter(fields=(FieldFilter.parse("plan=Premium"),)),
        phone_region=REGION,
        viewer=SYSTEM,
        limit=PAGE,
    ),
    "lead list, field filter: budget range": lambda s, x: search_leads(
        session=s,
        where=LeadFilter(fields=(FieldFilter.parse("budget=5000..6000"),)),
        phone_region=REGION,
        viewer=SYSTEM,
        limit=PAGE,
    ),
    "assign suggest": lambda s, x: suggest(s, x.lead_id),
    # The read half of each sweep's speed-to-lead step: untouched new leads and their clocks.
    "speed to lead: ladder scan": lambda s, x: due_steps(s, at=x.moment),
    "speed to lead: leads over target": lambda s, x: breaching(s, now=x.moment),
    # Nobody generated is called so: without the search index every lead would be read.
    "lead list, rare name search": lambda s, x: search_leads(
        session=s, where=LeadFilter(text="Jiménez"), phone_region=REGION, viewer=SYSTEM, limit=PAGE
    ),
}
TARGETED = {"day view (rep)", "day view (team)", "lead detail", "lead list page"}


def busiest_rep(session: Session, day_end: datetime) -> int:
    """The rep with the most follow-ups due: the heaviest day view."""
    due = FollowUp.state.in_(["open", "missed"]) & (FollowUp.due_at < day_end)
    return session.execute(
        select(FollowUp.owner_id)
        .where(due, FollowUp.owner_id.is_not(None))
        .group_by(FollowUp.owner_id)
        .order_by(func.count().desc())
        .limit(1)
    ).scalar_one()


def busiest_rep_at(session: Session, moment: datetime) -> int:
    """`busiest_rep` on the business day of `moment` (the TUI benchmarks' rep)."""
    return busiest_rep(session, day_bounds(clock.business_date(moment, TIMEZONE), TIMEZONE)[1])


def subject(db: Database, moment: datetime) -> Subject:
    day = clock.business_date(moment, TIMEZONE)
    with db.reading() as session:
        rep_id = busiest_rep(session, day_bounds(day, TIMEZONE)[1])
        lead_id, phone = session.execute(
            select(Call.lead_id, Lead.phone_e164)
            .join(Lead, Lead.id == Call.lead_id)
            .where(Lead.phone_e164.is_not(None))
            .group_by(Call.lead_id, Lead.phone_e164)
            .order_by(func.count().desc())
            .limit(1)
        ).one()
    return Subject(day, rep_id, lead_id, national(phone), LAST_NAMES[3], moment)


def measure(url: str, moment: datetime, runs: int) -> dict[str, Measured]:
    """Each operation in its own short session, as the screens' workers run it."""
    db = bootstrap.database(url)
    try:
        target = subject(db, moment)
        statements: list[str] = []
        event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        measured = {}
        for name, operation in OPERATIONS.items():
            times = []
            for run in range(runs + 1):  # the first run warms caches and is not counted
                statements.clear()
                started = time.perf_counter()
                with db.reading() as session:
                    operation(session, target)
                elapsed = (time.perf_counter() - started) * 1000
                if run:
                    times.append(elapsed)
            counted = [s for s in statements if not s.lstrip().upper().startswith(_TXN)]
            measured[name] = Measured(len(counted), median(times), p95(times))
        return measured
    finally:
        db.dispose()


_TXN = ("BEGIN", "COMMIT", "ROLLBACK")


def run(
    engine: str, small_url: str, big_url: str, *, small_leads: int, moment: datetime, runs: int
) -> list[Result]:
    small = measure(small_url, moment, runs)
    big = measure(big_url, moment, runs)
    versus = f"at {small_leads:,} leads"
    results = []
    for name in OPERATIONS:
        at_big, at_small = big[name], small[name]
        targeted = name in TARGETED
        results.append(
            Result(
                engine,
                f"query: {name}, SQL statements",
                at_big.statements,
                "statements",
                at_small.statements,
                versus,
                target=f"≤ {MAX_STATEMENTS}, not growing" if targeted else "",
                met=(
                    at_big.statements <= MAX_STATEMENTS and at_big.statements <= at_small.statements
                )
                if targeted
                else None,
            )
        )
        results.append(
            Result(
                engine,
                f"query: {name}, time",
                at_big.median_ms,
                "ms median",
                at_small.median_ms,
                versus,
                note=f"p95 {at_big.p95_ms:.1f} ms (vs {at_small.p95_ms:.1f})",
            )
        )
    return results
