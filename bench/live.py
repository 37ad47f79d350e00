"""Live updates: how soon another terminal's write shows in an open TUI, and what a busy
floor (100 writes a second) costs a TUI that only watches.

A rep's day view runs headless in this process (Pilot, the clock frozen at the working
moment). Latency: another connection logs a call on one of the rep's leads; the time from
its commit to the end of the day view's `_show` holding that call. Cost: the TUI's CPU time
over a window with no writes (the baseline: timers, the listener's polling) against the same
window while a separate process commits 100 calls a second, and the reloads it caused.
"""

import asyncio
import multiprocessing
import time
from datetime import datetime
from random import Random
from typing import Any

from sqlalchemy import func, select

from bench.common import Result, engine_of, median, p95
from bench.queries import busiest_rep_at
from leadms_tui import bootstrap
from leadms_tui.app import LIVE_BATCH_SECONDS, LeadMSApp
from leadms_tui.domain import clock
from leadms_tui.domain.db import Database
from leadms_tui.domain.models import Call, CallOutcome, Lead, User
from leadms_tui.domain.team.users import UserInfo, get_user
from leadms_tui.domain.work.calls import log_call
from leadms_tui.screens.day_view import DayViewScreen

WRITES_PER_SECOND = 100
LATENCY_TARGET_MS = 1000
WAIT_SECONDS = 10.0  # a write not shown by then counts as this (and misses the target)


def run(url: str, *, moment: datetime, samples: int, seconds: float) -> list[Result]:
    engine = engine_of(url)
    db = bootstrap.database(url)
    try:
        with db.reading() as session:
            rep_id = busiest_rep_at(session, moment)
            rep = get_user(session, session.get_one(User, rep_id).username)
            leads = list(
                session.execute(select(Lead.id).where(Lead.owner_id == rep_id).limit(500)).scalars()
            )
    finally:
        db.dispose()
    measured = asyncio.run(_measure(url, rep, leads, moment, samples, seconds))
    latencies = [v * 1000 for v in measured["latencies"]]
    idle, busy = measured["idle_cpu"], measured["busy_cpu"]
    return [
        Result(
            engine,
            "live: update latency",
            p95(latencies),
            "ms p95",
            target=f"≤ {LATENCY_TARGET_MS} ms",
            met=p95(latencies) <= LATENCY_TARGET_MS,
            note=(
                f"median {median(latencies):.0f} ms, {len(latencies)} calls logged by another "
                f"connection, from its commit to the day view showing it; at most one reload "
                f"per {LIVE_BATCH_SECONDS * 1000:.0f} ms"
            ),
        ),
        Result(
            engine,
            f"live: {WRITES_PER_SECOND} writes/s on an idle TUI",
            busy / seconds * 100,
            "% of a core",
            idle / seconds * 100,
            "the same TUI with no writes",
            note=(
                f"{measured['writes']:,} calls committed by another process in {seconds:.0f} s; "
                f"{measured['reloads']} day view reloads"
            ),
        ),
    ]


async def _measure(
    url: str, rep: UserInfo, leads: list[int], moment: datetime, samples: int, seconds: float
) -> dict[str, Any]:
    clock.set_clock(lambda: moment)
    database, writer = bootstrap.database(url), bootstrap.database(url)
    app = LeadMSApp(database, signed_in=rep)
    shown: list[tuple[float, set[int]]] = []
    # The busy floor's process starts before the app (spawning under Textual's driver fails)
    # and writes once told to.
    context = multiprocessing.get_context("spawn")
    go = context.Event()
    process = context.Process(target=_write_calls, args=(url, leads, rep, moment, seconds, go))
    process.start()
    try:
        async with app.run_test(headless=True, size=(120, 40)) as pilot:
            while not isinstance(app.screen, DayViewScreen) or not app.screen.takes_keys:
                await pilot.pause(0.05)
            screen = app.screen
            show = screen._show

            def recording(view: Any) -> None:
                show(view)
                shown.append((time.monotonic(), {call.id for call in view.calls}))

            screen._show = recording  # type: ignore[method-assign]
            random = Random(7)
            latencies = []
            for _ in range(samples):
                lead_id = random.choice(leads)
                call_id, committed = await asyncio.to_thread(
                    _log_call, writer, lead_id, rep, moment
                )
                latencies.append(await _shown_after(pilot, shown, call_id, committed))
                await pilot.pause(random.uniform(0.3, 0.6))

            await pilot.pause(1.0)  # let the last reload settle
            started = time.process_time()
            await pilot.pause(seconds)
            idle = time.process_time() - started

            reloads_before = len(shown)
            written_before = _bench_calls(writer)
            go.set()
            started = time.process_time()
            await pilot.pause(seconds)  # the writer, connected and waiting, writes this long
            busy = time.process_time() - started
            reloads = len(shown) - reloads_before
            process.join(30)
            writes = _bench_calls(writer) - written_before
            return {
                "latencies": latencies,
                "idle_cpu": idle,
                "busy_cpu": busy,
                "writes": writes,
                "reloads": reloads,
            }
    finally:
        if process.is_alive():
            process.terminate()
        clock.set_clock(None)
        database.dispose()
        writer.dispose()


def _bench_calls(db: Database) -> int:
    with db.reading() as session:
        return session.execute(
            select(func.count()).select_from(Call).where(Call.note == "bench live")
        ).scalar_one()


async def _shown_after(pilot: Any, shown: list, call_id: int, committed: float) -> float:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        for at, calls in shown:
            if at >= committed and call_id in calls:
                return at - committed
        await pilot.pause(0.005)
    return WAIT_SECONDS


def _log_call(db: Database, lead_id: int, rep: UserInfo, moment: datetime) -> tuple[int, float]:
    logged = db.write(
        lambda s: log_call(
            s, lead_id, CallOutcome.BUSY, actor=rep.actor, note="bench latency", now=moment
        )
    )
    return logged.call_id, time.monotonic()


def _write_calls(
    url: str, leads: list[int], rep: UserInfo, moment: datetime, seconds: float, go: Any
) -> None:
    """A busy floor in another process: WRITES_PER_SECOND calls a second, evenly paced."""
    db = bootstrap.database(url)
    go.wait()
    random = Random(11)
    started = time.monotonic()
    count = 0
    while (elapsed := time.monotonic() - started) < seconds:
        due = count / WRITES_PER_SECOND
        if due > elapsed:
            time.sleep(due - elapsed)
        lead_id = random.choice(leads)
        db.write(
            lambda s, lead_id=lead_id: log_call(
                s,
                lead_id,
                CallOutcome.NO_ANSWER,
                actor=rep.actor,
                note="bench live",
                now=moment,
                next_followup_at=None,
            )
        )
        count += 1
    db.dispose()
