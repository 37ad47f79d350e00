"""What the benchmarks share: sizes, scratch databases, result rows and small statistics."""

import argparse
import math
import os
import statistics
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
TIMEZONE = "Europe/London"  # the generated team's settings
REGION = "GB"
DEFAULT_PG_URL = os.environ.get(
    "LEADMS_BENCH_PG_URL",
    os.environ.get("LEADMS_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test"),
)


@dataclass(frozen=True)
class Size:
    """How big each benchmark runs."""

    name: str
    leads: int
    calls: int
    reps: int
    small_leads: int  # the small database of the query benchmark
    small_calls: int
    intake_leads: int  # leads per writer configuration, all writers together
    intake_rounds: int  # races per writer configuration (the median is reported)
    import_rows: int
    query_runs: int
    paint_runs: int  # process start to painted day view, after one warm-up run
    tui_samples: int  # cursor moves, detail opens and searches
    live_seconds: float  # each window of the live-update cost (idle, then 100 writes/s)
    ladder_rate: int = 2  # speed to lead: fresh leads a minute while the sweep runs
    ladder_minutes: int = 10  # minutes of arrivals (the sweeps go on 25 minutes more)
    chat_messages: int = 20  # replies sent against the Meta stand-in (latency run, and burst)
    merge_calls: int = 100  # calls on each of the two leads a merge joins
    merge_runs: int = 3  # merges timed (the median is reported), and as many baselines


SIZES = {
    "smoke": Size("smoke", 2_000, 10_000, 5, 1_000, 5_000, 48, 1, 2_000, 5, 1, 3, 1),
    "full": Size(
        "full",
        100_000,
        1_000_000,
        20,
        1_000,
        10_000,
        2_400,
        3,
        100_000,
        30,
        5,
        30,
        10,
        10,
        60,
        chat_messages=300,
        merge_calls=1_000,
        merge_runs=7,
    ),
}


@dataclass(frozen=True)
class Result:
    """One row of the results table: the project's figure next to its baseline."""

    engine: str
    benchmark: str
    figure: float | str
    unit: str
    baseline: float | None = None
    versus: str = ""  # what the baseline is
    target: str = ""
    met: bool | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if not isinstance(self.figure, float | int) or not self.baseline:
            return None
        return self.figure / self.baseline


def working_moment() -> datetime:
    """15:00 today in the team's timezone: what "now" is for the data and the screens.

    The data is generated up to this moment and the reading benchmarks freeze the clock
    at it, so the day view shows a full working day at whatever hour the suite runs.
    """
    zone = ZoneInfo(TIMEZONE)
    return datetime.combine(datetime.now(zone).date(), time(15), zone).astimezone(UTC)


def p95(values: list[float]) -> float:
    """Nearest-rank 95th percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def median(values: list[float]) -> float:
    return statistics.median(values)


def conninfo(url: str) -> str:
    """A libpq URL (what psycopg takes) for a SQLAlchemy-style PostgreSQL URL."""
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


def sqlite_path(url: str) -> str:
    return make_url(url).database or ""


def engine_of(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgres"


@contextmanager
def scratch_database(engine: str, *, name: str, workdir: Path, pg_server: str) -> Iterator[str]:
    """An empty database for one run, removed afterwards.

    SQLite: `<workdir>/<name>.db`. PostgreSQL: `leadms_bench_<random>` on the server of
    `pg_server` (any database there that we may connect to), dropped at the end.
    """
    if engine == "sqlite":
        path = workdir / f"{name}.db"
        _remove_sqlite(path)
        try:
            yield f"sqlite:///{path}"
        finally:
            _remove_sqlite(path)
        return
    database = f"leadms_bench_{uuid.uuid4().hex[:10]}"
    server = conninfo(pg_server)
    with psycopg.connect(server, autocommit=True, connect_timeout=10) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    try:
        yield make_url(server).set(database=database).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(server, autocommit=True, connect_timeout=10) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def parse_engines(parser: argparse.ArgumentParser, text: str) -> list[str]:
    """`--engines sqlite,postgres` as a list; anything else is a usage error."""
    engines = [e.strip() for e in text.split(",") if e.strip()]
    unknown = sorted(set(engines) - {"sqlite", "postgres"})
    if unknown or not engines:
        parser.error(f"--engines: sqlite and/or postgres, not {', '.join(unknown) or 'nothing'}")
    return engines


def log(message: str) -> None:
    """Progress on stderr, so stdout stays the table."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)
