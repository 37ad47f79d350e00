"""The TUI: process start to painted day view (against a bare Textual app), key latencies, RSS.

Start-up runs in a real pseudo-terminal (120x40): the child writes the time of its first
paint with data and exits (see `bench.tui_probe`). The key latencies are Pilot-driven and
headless, in a child process whose peak RSS is the session's.
"""

import fcntl
import json
import math
import os
import pickle
import pty
import struct
import subprocess
import sys
import termios
import threading
import time
from datetime import datetime
from pathlib import Path
from random import Random
from typing import Any

from sqlalchemy import event, select

from bench.common import (
    REGION,
    ROOT,
    TIMEZONE,
    Result,
    conninfo,
    engine_of,
    median,
    p95,
    sqlite_path,
)
from bench.people import national
from bench.queries import busiest_rep
from leadms_tui import bootstrap
from leadms_tui.domain import clock
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.db import Database
from leadms_tui.domain.models import Lead, User
from leadms_tui.domain.queries.dayview import day_bounds, load_day_view
from leadms_tui.domain.queries.leads import LeadFilter, search_leads
from leadms_tui.screens.lead_list import PAGE_SIZE, TYPING_PAUSE

COLUMNS, ROWS = 120, 40
PAINT_RATIO = 1.5
LATENCY_MS = 100
SEARCH_RATIO = 1.2  # phone search result p95 against the bare search app's (issue 17)
RSS_MB = 200
CHILD_SECONDS = 300


def _environment() -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "TERM": "xterm-256color", "COLORTERM": "truecolor", "PYTHONPATH": path}


def _reap(process: subprocess.Popen, timeout: float) -> int:
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


def in_terminal(args: list[str], timeout: float = CHILD_SECONDS) -> tuple[float, int]:
    """`python -m bench.tui_probe ARGS` in a pty: (seconds from spawn to paint, peak RSS KiB)."""
    marker = Path(args[-1])
    marker.unlink(missing_ok=True)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    output = bytearray()

    def drain() -> None:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return
            if not chunk:
                return
            output.extend(chunk[-4096:] if len(output) > 65536 else chunk)

    started = time.time()
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.tui_probe", *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=ROOT,
        env=_environment(),
        start_new_session=True,
    )
    os.close(slave)
    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    status = _reap(process, timeout)
    reader.join(5)
    os.close(master)
    text = output.decode(errors="replace")
    if status != 0 or not marker.exists():
        raise RuntimeError(f"{args[0]} probe failed ({status}): {text[-800:]}")
    painted_at, rss = marker.read_text().split()
    return float(painted_at) - started, int(rss)


def _headless(args: list[str], timeout: float = CHILD_SECONDS) -> None:
    """Run a probe without a terminal."""
    run = subprocess.run(
        [sys.executable, "-m", "bench.tui_probe", *args],
        cwd=ROOT,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if run.returncode != 0:
        raise RuntimeError(f"{args[0]} probe failed ({run.returncode}): {run.stderr[-2000:]}")


def day_view_statements(db: Database, rep_id: int, moment: datetime) -> list[tuple[str, Any]]:
    """The statements (and parameters, as the driver got them) of the rep's day view."""
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            captured.append((statement, parameters))

    day = clock.business_date(moment, TIMEZONE)
    event.listen(db.engine, "before_cursor_execute", capture)
    with db.reading() as session:
        load_day_view(session=session, day=day, timezone=TIMEZONE, owner_id=rep_id)
    event.remove(db.engine, "before_cursor_execute", capture)
    return captured


def search_statements(db: Database, phones: list[str]) -> dict[str, list[tuple[str, Any]]]:
    """Per phone as typed, the statements of the lead list's search for it."""
    captured: dict[str, list[tuple[str, Any]]] = {}
    current: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            current.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        for phone in phones:
            current = captured[phone] = []
            with db.reading() as session:
                search_leads(
                    session=session,
                    where=LeadFilter(text=phone),
                    phone_region=REGION,
                    viewer=SYSTEM,
                    limit=PAGE_SIZE + 1,
                )
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    return captured


def _phones(db: Database, count: int) -> list[str]:
    """Phones of stored leads as a UK user types them (spread over the whole table)."""
    with db.reading() as session:
        total = session.execute(select(Lead.id).order_by(Lead.id.desc()).limit(1)).scalar_one()
        rng = Random(5)
        wanted = sorted(rng.randrange(1, total + 1) for _ in range(count * 3))
        phones = session.execute(
            select(Lead.phone_e164).where(Lead.id.in_(wanted), Lead.phone_e164.is_not(None))
        ).scalars()
        return [national(phone) for phone in phones][:count]


def run(
    url: str, *, moment: datetime, paint_runs: int, samples: int, workdir: Path
) -> list[Result]:
    engine = engine_of(url)
    db = bootstrap.database(url)
    try:
        with db.reading() as session:
            day = clock.business_date(moment, TIMEZONE)
            rep_id = busiest_rep(session, day_bounds(day, TIMEZONE)[1])
            username = session.get(User, rep_id).username
        statements = workdir / "day-view-statements.pickle"
        statements.write_bytes(pickle.dumps(day_view_statements(db, rep_id, moment)))
        phones = _phones(db, samples + 1)  # the first search warms up
        searches = workdir / "search-statements.pickle"
        searches.write_bytes(pickle.dumps(search_statements(db, phones)))
    finally:
        db.dispose()
    dsn = sqlite_path(url) if engine == "sqlite" else conninfo(url)
    marker = str(workdir / "painted")
    now = moment.isoformat()
    app_times, bare_times, rss = [], [], []
    for attempt in range(paint_runs + 1):  # the first of each warms the OS caches
        seconds, app_rss = in_terminal(["paint", url, username, now, marker])
        bare_seconds, bare_rss = in_terminal(["bare", engine, dsn, str(statements), marker])
        if attempt:
            app_times.append(seconds)
            bare_times.append(bare_seconds)
            rss.append(app_rss)
    out = workdir / "pilot.json"
    _headless(["pilot", url, username, now, str(samples), ",".join(phones), str(out)])
    timings = json.loads(out.read_text())
    pilot_rss = timings.pop("rss_kib")
    _headless(["bare-push", str(samples), str(out)])
    timings["bare_push"] = json.loads(out.read_text())
    pause = str(TYPING_PAUSE)
    _headless(["bare-search", engine, dsn, str(searches), ",".join(phones), pause, str(out)])
    timings["bare_search"] = json.loads(out.read_text())
    for leftover in (statements, searches, out, Path(marker)):
        leftover.unlink(missing_ok=True)
    return _results(engine, app_times, bare_times, max(rss), bare_rss, pilot_rss, timings)


def _results(
    engine: str,
    app_times: list[float],
    bare_times: list[float],
    app_rss: int,
    bare_rss: int,
    pilot_rss: int,
    timings: dict[str, Any],
) -> list[Result]:
    paint, bare = median(app_times), median(bare_times)
    rows = ", ".join(f"{table} {count}" for table, count in timings["rows"].items())
    results = [
        Result(
            engine,
            "TUI: start to day view painted",
            paint,
            "s median",
            bare,
            "bare Textual app + plain driver",
            target=f"≤ {PAINT_RATIO}x baseline",
            met=paint <= PAINT_RATIO * bare,
            note=f"{len(app_times)} runs in a 120x40 pty; day view rows: {rows}",
        )
    ]

    def latency(
        name: str,
        key: str,
        targeted: bool,
        note: str = "",
        baseline: str = "",
        versus: str = "",
        within: float | None = None,  # the target as a ratio to the baseline's p95
    ) -> None:
        values = [v * 1000 for v in timings[key]] or [math.nan]  # no rows to move or open
        figure = p95(values)
        base = [v * 1000 for v in timings[baseline]] if baseline else []
        if base:
            note += f"; baseline median {median(base):.1f} ms"
        target, met = "", None  # type: tuple[str, bool | None]
        if within is not None:  # a target relative to the baseline
            target, met = f"≤ {within}x baseline", bool(base) and figure <= within * p95(base)
        elif targeted:
            target, met = f"< {LATENCY_MS} ms p95", figure < LATENCY_MS
        results.append(
            Result(
                engine,
                f"TUI: {name}",
                figure,
                "ms p95",
                p95(base) if base else None,
                versus,
                target=target,
                met=met,
                note=f"median {median(values):.1f} ms, {len(values)} samples{note}",
            )
        )

    latency("cursor move", "cursor", True)
    latency(
        "open lead detail",
        "detail",
        True,
        baseline="bare_push",
        versus="bare Textual app pushing a like screen, p95",
    )
    latency("open search (first page)", "search_open", False)
    after = [v * 1000 for v in timings["search_after_pause"]] or [math.nan]
    latency(
        "phone search result",
        "search",
        True,
        f"; from the last key, incl. the {TYPING_PAUSE * 1000:.0f} ms typing pause (in both); "
        f"after it p95 {p95(after):.1f} ms",
        baseline="bare_search",
        versus="bare Textual app: same pause, the search's statements, plain driver, p95",
        within=SEARCH_RATIO,
    )
    mb = max(app_rss, pilot_rss) / 1024
    results.append(
        Result(
            engine,
            "TUI: peak RSS",
            mb,
            "MB",
            bare_rss / 1024,
            "bare Textual app",
            target=f"< {RSS_MB} MB",
            met=mb < RSS_MB,
            note=f"start-up {app_rss / 1024:.0f} MB, Pilot session {pilot_rss / 1024:.0f} MB",
        )
    )
    return results
