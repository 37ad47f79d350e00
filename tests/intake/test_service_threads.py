"""The intake service waits for the database on at most one thread per pooled connection.

More threads only wait longer, and each holds its own malloc arena: with anyio's default
of 40, the service's RSS climbed ~2 MiB a minute under the soak while Python's heap stayed flat.
"""

import dataclasses
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import make_url

from leadms_tui.domain.db import MAX_CONNECTIONS
from leadms_tui.intake.service import create_app
from tests.intake.test_service import CONFIG, serving

CLIENTS = 4 * MAX_CONNECTIONS


@pytest.fixture
def db_url(sqlite_url):
    """SQLite: the test holds its write lock, so every request waits in its thread."""
    return sqlite_url


def _worker_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == "AnyIO worker thread"}


def test_requests_wait_on_at_most_one_thread_per_database_connection(db):
    config = dataclasses.replace(CONFIG, sweep_seconds=0, form_posts_per_minute=1000)
    others = _worker_threads()  # from earlier tests' event loops
    blocker = sqlite3.connect(make_url(db.url).database, isolation_level=None)

    def post(n: int) -> int:
        data = {"name": f"Person {n}", "email": f"person{n}@example.com"}
        return httpx.post(f"{url}/forms/contact", data=data, timeout=60).status_code

    with serving(create_app(db, config)) as url, ThreadPoolExecutor(CLIENTS) as clients:
        blocker.execute("BEGIN IMMEDIATE")
        replies = [clients.submit(post, n) for n in range(CLIENTS)]
        time.sleep(1.5)  # every request has arrived and waits for the lock
        waiting = _worker_threads() - others
        blocker.execute("ROLLBACK")
        codes = [reply.result() for reply in replies]
    blocker.close()
    assert codes == [200] * CLIENTS  # nobody was refused: they queued for a thread
    assert len(waiting) == MAX_CONNECTIONS
