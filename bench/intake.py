"""Intake under concurrency: leads/s with N writer processes, the service against raw SQL.

The service side calls `create_lead`, the real intake (contact checks, phone normalization,
the day's number, the repeat check, lead + inquiry + audit event in one retried
transaction). The baseline does, with the same driver, the least a numbered insert needs:
one transaction with one counter-row upsert and one insert. Both are timed from a barrier
that every writer passes once connected and warmed up, to the last writer's last commit;
then the numbers are checked for duplicates and gaps.
"""

import multiprocessing
import sqlite3
import time
from collections import Counter
from datetime import UTC, date, datetime
from multiprocessing.context import BaseContext
from random import Random
from typing import Any

import psycopg
from sqlalchemy import delete, select, update

from bench.common import Result, conninfo, engine_of, median, sqlite_path
from bench.people import NEW_PEOPLE, email_of, has_email, has_phone, name_of, phone_of
from leadms_tui import bootstrap
from leadms_tui.domain.audit import Actor
from leadms_tui.domain.db import SQLITE_BUSY_TIMEOUT_MS, Database
from leadms_tui.domain.errors import LeadMSError
from leadms_tui.domain.leads.intake import LeadCreate, create_lead, intake_lead
from leadms_tui.domain.models import DayCounter, Lead, User
from leadms_tui.domain.team.settings import set_setting

WRITERS = {"postgres": (1, 4, 8, 16), "sqlite": (1, 2, 4)}
TARGET_WRITERS, TARGET_RATIO = 8, 0.70  # PostgreSQL, 8 writers: at least 70% of raw SQL
BASELINE_DAY = date(2000, 1, 3)  # the raw baseline numbers this day; its rows go afterwards
REPEAT_SHARE = 0.2  # intake leads from people already in the database
BARRIER_SECONDS = 120
RUN_SECONDS = 900
ACTOR = Actor(None, "bench")

_UPSERT = (
    "INSERT INTO day_counters (business_date, last_seq) VALUES ({p}, 1) "
    "ON CONFLICT (business_date) DO UPDATE SET last_seq = day_counters.last_seq + 1 "
    "RETURNING last_seq"
)
_INSERT = (
    "INSERT INTO leads (number, business_date, seq, name, phone_raw, phone_e164, email, "
    "email_lower, channel, status, repeat_count, created_at, updated_at, version) "
    "VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, 'website', 'lost', 0, {p}, {p}, 1)"
)


def lead_of(person: int) -> LeadCreate:
    """What a website form would send for this person."""
    return LeadCreate(
        name=name_of(person),
        phone=phone_of(person) if has_phone(person) else None,
        email=email_of(person) if has_email(person) else None,
        channel="website",
        message="Please call me back",
    )


# --- the writers (child processes) -------------------------------------------------------


def _service_writer(url: str, people: list[int], barrier: Any, results: Any) -> None:
    db = bootstrap.database(url)
    # warm-up on someone new (a repeat skips assignment and its language model's first load)
    warm_up = lead_of(NEW_PEOPLE + 99_000_000)
    db.write(lambda s: intake_lead(s, warm_up, actor=ACTOR), dry_run=True)
    barrier.wait(BARRIER_SECONDS)
    numbers, errors = [], []
    for person in people:
        try:
            numbers.append(create_lead(db, lead_of(person), actor=ACTOR).number)
        except LeadMSError as exc:
            errors.append(str(exc))
    results.put((time.time(), numbers, errors))
    db.dispose()


def _raw_writer(url: str, people: list[int], barrier: Any, results: Any) -> None:
    sqlite = engine_of(url) == "sqlite"
    if sqlite:  # what the product's engine sets up on each connection
        conn: Any = sqlite3.connect(sqlite_path(url), timeout=30, isolation_level=None)
        for pragma in (f"busy_timeout={SQLITE_BUSY_TIMEOUT_MS}", "synchronous=NORMAL"):
            conn.execute(f"PRAGMA {pragma}")
        conn.execute("PRAGMA foreign_keys=ON")
    else:
        conn = psycopg.connect(conninfo(url))
    mark = "?" if sqlite else "%s"
    upsert, insert = _UPSERT.format(p=mark), _INSERT.format(p=mark)
    day = BASELINE_DAY.isoformat() if sqlite else BASELINE_DAY

    def end(how: str) -> None:
        if sqlite:
            conn.execute(how)
        elif how == "COMMIT":
            conn.commit()
        else:
            conn.rollback()

    def take_in(person: int) -> int:
        if sqlite:
            conn.execute("BEGIN IMMEDIATE")
        seq = conn.execute(upsert, (day,)).fetchone()[0]
        phone = phone_of(person) if has_phone(person) else None
        email = email_of(person) if has_email(person) else None
        now = datetime.now(UTC).replace(tzinfo=None)
        stamp = now.isoformat(" ", "microseconds") if sqlite else now
        number = f"LEAD-{BASELINE_DAY:%Y%m%d}-{seq:03d}"
        conn.execute(
            insert, (number, day, seq, name_of(person), phone, phone, email, email, stamp, stamp)
        )
        end("COMMIT")
        return seq

    if sqlite:
        conn.execute("BEGIN")
    conn.execute("SELECT count(*) FROM day_counters").fetchone()  # warm-up
    end("ROLLBACK")
    barrier.wait(BARRIER_SECONDS)
    seqs, errors = [], []
    for person in people:
        try:
            seqs.append(take_in(person))
        except (sqlite3.Error, psycopg.Error) as exc:
            errors.append(str(exc).splitlines()[0])
            end("ROLLBACK")
    results.put((time.time(), seqs, errors))
    conn.close()


# --- the race (parent) -------------------------------------------------------------------


def _context() -> BaseContext:
    """Fork server with the domain preloaded: 16 writers start in milliseconds, not seconds."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["bench.intake"])
    return context


def race(target: Any, url: str, groups: list[list[int]]) -> tuple[float, list, list[str]]:
    """Run one writer per group at once; (seconds, everything they returned, errors)."""
    context = _context()
    barrier = context.Barrier(len(groups) + 1)
    results = context.Queue()
    writers = [context.Process(target=target, args=(url, g, barrier, results)) for g in groups]
    try:
        for writer in writers:
            writer.start()
        barrier.wait(BARRIER_SECONDS)
        started = time.time()
        outcomes = [results.get(timeout=RUN_SECONDS) for _ in writers]
        for writer in writers:
            writer.join(30)
    finally:
        for writer in writers:
            if writer.is_alive():
                writer.kill()
    ended = max(outcome[0] for outcome in outcomes)
    values = [value for outcome in outcomes for value in outcome[1]]
    errors = [error for outcome in outcomes for error in outcome[2]]
    return ended - started, values, errors


def _groups(rng: Random, writers: int, per_writer: int, first: int, people: int) -> list[list]:
    groups = []
    for writer in range(writers):
        group = []
        for i in range(per_writer):
            repeat = people and rng.random() < REPEAT_SHARE
            group.append(rng.randrange(people) if repeat else first + writer * 100_000 + i)
        groups.append(group)
    return groups


def number_faults(db: Database, numbers: list[str]) -> tuple[int, int]:
    """(duplicate numbers, missing numbers) over every business day these numbers are on."""
    duplicates = sum(count - 1 for count in Counter(numbers).values())
    days = {datetime.strptime(n.split("-")[1], "%Y%m%d").date() for n in numbers}
    missing = 0
    with db.reading() as session:
        for day in days:
            seqs = session.execute(select(Lead.seq).where(Lead.business_date == day)).scalars()
            seqs = sorted(seqs)
            last = session.get(DayCounter, day).last_seq
            duplicates += len(seqs) - len(set(seqs))
            missing += last - len(set(seqs)) + sum(1 for s in seqs if s > last)
    return duplicates, missing


def _auto_assignment(
    db: Database, url: str, rng: Random, engine: str, people: int, leads: int, off_rate: float
) -> Result:
    """The most writers again, with assignment_mode auto and room at every rep: the cost of
    scoring and assigning each lead inside its intake transaction."""
    writers = WRITERS[engine][-1]
    per_writer = max(3, leads // writers)

    def mode(value: str, capacity: int | None) -> Any:
        def work(session: Any) -> None:
            set_setting(session, "assignment_mode", value, actor=Actor(None, "bench"))
            if capacity is not None:
                session.execute(update(User).values(capacity=capacity, working_hours="00:00-23:59"))

        return work

    with db.reading() as session:
        capacities = dict(session.execute(select(User.id, User.capacity)).all())
    db.write(mode("auto", 10_000_000))
    try:
        first = NEW_PEOPLE + 90_000_000
        seconds, numbers, _ = race(
            _service_writer, url, _groups(rng, writers, per_writer, first, people)
        )
    finally:
        db.write(mode("off", None))
        db.write(
            lambda s: [
                s.execute(update(User).where(User.id == uid).values(capacity=cap))
                for uid, cap in capacities.items()
            ]
        )
    rate = len(numbers) / seconds
    return Result(
        engine,
        "intake: auto assignment",
        rate,
        "leads/s",
        off_rate,
        f"assignment off, {writers} writer{'s' if writers > 1 else ''}, same run",
        note=f"{len(numbers):,} leads scored and assigned in their intake transaction",
    )


def _forget_baseline(db: Database) -> None:
    def work(session: Any) -> None:
        session.execute(delete(Lead).where(Lead.business_date == BASELINE_DAY))
        session.execute(delete(DayCounter).where(DayCounter.business_date == BASELINE_DAY))

    db.write(work)


def run(url: str, *, people: int, leads: int, rounds: int = 1, seed: int = 8) -> list[Result]:
    """One row per writer count (median of `rounds` races each), and one for the number check."""
    engine = engine_of(url)
    db = bootstrap.database(url)
    rng = Random(seed)
    results, all_numbers, faults, errors = [], [], [0, 0], []
    rates_by: dict[int, float] = {}
    try:
        for index, writers in enumerate(WRITERS[engine]):
            per_writer = max(3, leads // writers)
            rates, raw_rates = [], []
            for round_ in range(rounds):  # raw and service take turns, so drift hits both
                first = NEW_PEOPLE + (index * rounds + round_) * 2_000_000
                _forget_baseline(db)
                raw_seconds, seqs, raw_errors = race(
                    _raw_writer, url, _groups(rng, writers, per_writer, first, people)
                )
                faults[0] += len(seqs) - len(set(seqs))
                faults[1] += max(seqs, default=0) - len(set(seqs))
                _forget_baseline(db)
                seconds, numbers, service_errors = race(
                    _service_writer,
                    url,
                    _groups(rng, writers, per_writer, first + 1_000_000, people),
                )
                duplicates, missing = number_faults(db, numbers)
                faults[0] += duplicates
                faults[1] += missing
                all_numbers += numbers
                errors += raw_errors + service_errors
                rates.append(len(numbers) / seconds)
                raw_rates.append(len(seqs) / raw_seconds)
            rate, raw_rate = median(rates), median(raw_rates)
            rates_by[writers] = rate
            targeted = engine == "postgres" and writers == TARGET_WRITERS
            results.append(
                Result(
                    engine,
                    f"intake: {writers} writer{'s' if writers > 1 else ''}",
                    rate,
                    "leads/s",
                    raw_rate,
                    "raw SQL: counter upsert + insert, same driver",
                    target=f"≥ {TARGET_RATIO:.0%} of baseline" if targeted else "",
                    met=rate >= TARGET_RATIO * raw_rate if targeted else None,
                    note=f"median of {rounds} x {writers * per_writer:,} leads; "
                    + "service "
                    + ", ".join(f"{r:,.0f}" for r in rates)
                    + "; raw "
                    + ", ".join(f"{r:,.0f}" for r in raw_rates),
                )
            )
        results.append(_auto_assignment(db, url, rng, engine, people, leads, rates_by[writers]))
    finally:
        db.dispose()
    note = f"{len(all_numbers)} numbers checked"
    if errors:
        note += f"; {len(errors)} errors, first: {errors[0][:80]}"
    results.append(
        Result(
            engine,
            "intake: duplicate / missing numbers",
            f"{faults[0]} / {faults[1]}",
            "",
            target="0 / 0",
            met=faults == [0, 0] and not errors,
            note=note,
        )
    )
    return results
