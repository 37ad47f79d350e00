"""Functions run in child processes by the concurrency tests (spawned, so importable here)."""

import time

from leadms_tui.domain.audit import Actor
from leadms_tui.domain.db import Database
from leadms_tui.domain.errors import DatabaseError
from leadms_tui.domain.leads.intake import LeadCreate, create_lead


def take_leads(url: str, worker: int, count: int, start_at: float, phone: str | None = None):
    """Create `count` leads once the shared start time comes; returns (numbers, errors)."""
    database = Database(url)
    numbers, errors = [], []
    while time.monotonic() < start_at:  # one clock for every process here
        time.sleep(0.001)
    for i in range(count):
        data = LeadCreate(
            name=f"Worker {worker} lead {i}",
            phone=phone or f"+1202555{worker:02d}{i % 100:02d}",
            email=None if phone else f"w{worker}.{i}@example.com",
            channel="website",
        )
        try:
            numbers.append(create_lead(database, data, actor=Actor(None, f"w{worker}")).number)
        except DatabaseError as exc:
            errors.append(str(exc))
    database.dispose()
    return numbers, errors
