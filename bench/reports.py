"""The coaching reports at 100,000 leads / 1,000,000 calls, each next to a hand-written
GROUP BY of the same numbers on the same driver (the baseline), and their statement counts."""

import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import event, text

from bench.common import TIMEZONE, Result, median
from leadms_tui import bootstrap
from leadms_tui.domain import clock
from leadms_tui.domain.reports.coaching import Period, coaching_report, daily_calls, weekly_missed

TARGET = 1.5  # each report within 1.5x of its hand-written GROUP BY


def _raw(sql: str) -> Callable:
    return lambda conn, window: conn.execute(text(sql), window).all()


# What a person would write for the same numbers: one GROUP BY per table, no business calendar.
HAND_WRITTEN = {
    "reps": [
        _raw(
            "SELECT owner_id, count(*) FROM leads WHERE created_at >= :start AND created_at < :end "
            "GROUP BY owner_id"
        ),
        _raw(
            "SELECT user_id, outcome, count(*) FROM calls WHERE called_at >= :start "
            "AND called_at < :end GROUP BY user_id, outcome"
        ),
        _raw(
            "SELECT owner_id, count(*), sum(CASE WHEN state = 'done' THEN 1 ELSE 0 END), "
            "sum(CASE WHEN missed_at IS NOT NULL THEN 1 ELSE 0 END) FROM follow_ups "
            "WHERE due_at >= :start AND due_at < :end GROUP BY owner_id"
        ),
        _raw(
            "SELECT owner_id, count(*) FROM meetings WHERE created_at >= :start "
            "AND created_at < :end GROUP BY owner_id"
        ),
        _raw(
            "SELECT owner_id, sum(CASE WHEN outcome = 'held' THEN 1 ELSE 0 END), "
            "sum(CASE WHEN missed_at IS NOT NULL THEN 1 ELSE 0 END), count(*) FROM meetings "
            "WHERE starts_at >= :start AND starts_at < :end GROUP BY owner_id"
        ),
        _raw(
            "SELECT closed_by_id, count(*), sum(value) FROM sales WHERE reversed_at IS NULL "
            "AND sold_on >= date(:start) GROUP BY closed_by_id"
        ),
        _raw(
            "SELECT owner_id, count(*) FROM leads WHERE status = 'lost' "
            "AND updated_at >= :start AND updated_at < :end GROUP BY owner_id"
        ),
        _raw(
            "SELECT l.owner_id, l.created_at, (SELECT min(c.called_at) FROM calls c "
            "WHERE c.lead_id = l.id) FROM leads l WHERE l.created_at >= :start "
            "AND l.created_at < :end AND l.owner_id IS NOT NULL"
        ),
        # the previous period's commitments, for the change
        _raw(
            "SELECT owner_id, count(*), sum(CASE WHEN missed_at IS NOT NULL THEN 1 ELSE 0 END) "
            "FROM follow_ups WHERE due_at >= :before AND due_at < :start GROUP BY owner_id"
        ),
    ],
    "daily": [
        _raw(
            "SELECT date(called_at), outcome, count(*) FROM calls WHERE called_at >= :start "
            "AND called_at < :end GROUP BY date(called_at), outcome"
        ),
    ],
    "commitments": [
        _raw(
            "SELECT date(due_at), count(*), sum(CASE WHEN missed_at IS NOT NULL THEN 1 ELSE 0 "
            "END) FROM follow_ups WHERE due_at >= :weeks AND due_at < :end GROUP BY date(due_at)"
        ),
        _raw(
            "SELECT date(starts_at), count(*), sum(CASE WHEN missed_at IS NOT NULL THEN 1 ELSE 0 "
            "END) FROM meetings WHERE starts_at >= :weeks AND starts_at < :end "
            "GROUP BY date(starts_at)"
        ),
    ],
}


def run(engine: str, url: str, *, moment: datetime, runs: int) -> list[Result]:
    db = bootstrap.database(url)
    today = clock.business_date(moment, TIMEZONE)
    month = Period(today - timedelta(days=29), today)
    end = moment.replace(tzinfo=None)
    window = {
        "start": end - timedelta(days=30),
        "end": end,
        "before": end - timedelta(days=60),
        "weeks": end - timedelta(weeks=12),
    }
    reports = {
        "reps": lambda s: coaching_report(s, month),
        "daily": lambda s: daily_calls(s, month),
        "commitments": lambda s: weekly_missed(s, weeks=12, today=today),
    }
    statements: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    results = []
    try:
        for name, report in reports.items():
            times, raw_times = [], []
            for run_ in range(runs + 1):
                statements.clear()
                started = time.perf_counter()
                with db.reading() as session:
                    report(session)
                elapsed = (time.perf_counter() - started) * 1000
                counted = [
                    s
                    for s in statements
                    if not s.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK"))
                ]
                started = time.perf_counter()
                with db.engine.connect() as conn:
                    for query in HAND_WRITTEN[name]:
                        query(conn, window)
                raw_elapsed = (time.perf_counter() - started) * 1000
                if run_:
                    times.append(elapsed)
                    raw_times.append(raw_elapsed)
            figure, baseline = median(times), median(raw_times)
            results.append(
                Result(
                    engine,
                    f"report: {name}",
                    figure,
                    "ms median",
                    baseline,
                    "hand-written GROUP BY, same driver",
                    target=f"≤ {TARGET}x",
                    met=figure <= TARGET * baseline,
                    note=f"{len(counted)} SQL statements (constant in data size)",
                )
            )
    finally:
        db.dispose()
    return results
