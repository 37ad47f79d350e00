"""Functions run in child processes by the concurrency tests (spawned, so importable here)."""

import time

from leadms_tui import bootstrap
from leadms_tui.domain.audit import Actor
from leadms_tui.domain.errors import DatabaseError
from leadms_tui.domain.leads.intake import LeadCreate, create_lead


def take_leads(url: str, worker: int, count: int, start_at: float, phone: str | None = None):
    """Create `count` leads once the shared start time comes; returns (numbers, errors)."""
    database = bootstrap.database(url)
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


def convert_at(url: str, lead_id: int, username: str, user_id: int, start_at: float):
    """Convert a lead as `username` once the shared start time comes; returns the client
    number, or the refusal's message."""
    from leadms_tui.domain.errors import LeadMSError
    from leadms_tui.domain.sales.conversion import ConversionRequest, convert_lead

    database = bootstrap.database(url)
    actor = Actor(user_id, username, "manager")
    while time.monotonic() < start_at:
        time.sleep(0.001)
    try:
        result = database.write(
            lambda s: convert_lead(s, lead_id, ConversionRequest(value="100"), actor=actor)
        )
        return ("converted", result.client_number)
    except LeadMSError as exc:
        return ("refused", str(exc))
    finally:
        database.dispose()
