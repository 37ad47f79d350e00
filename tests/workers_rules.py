"""Sweepers run in child processes by the exactly-once test."""

import time
from datetime import datetime

from leadms_tui import bootstrap
from leadms_tui.domain.work.rules import sweep


def run_sweeps(url: str, now_iso: str, start_at: float, rounds: int) -> int:
    database = bootstrap.database(url)
    while time.monotonic() < start_at:  # one clock for every process here
        time.sleep(0.001)
    fired = sum(sweep(database, now=datetime.fromisoformat(now_iso)).fired for _ in range(rounds))
    database.dispose()
    return fired
