"""`leadms db move-to`: the benchmark database (after every other step filled it) copied
from SQLite into an empty PostgreSQL database, then verified, as the command does it."""

import time
from pathlib import Path

from bench.common import Result, scratch_database
from leadms_tui.domain.db import Database
from leadms_tui.domain.transfer import move

NAME = "db move-to PostgreSQL"


def run(source_url: str, *, pg_server: str, workdir: Path) -> list[Result]:
    with scratch_database(
        "postgres", name="bench-move", workdir=workdir, pg_server=pg_server
    ) as url:
        source, target = Database(source_url), Database(url)
        try:
            started = time.perf_counter()
            result = move(source, target)
            seconds = time.perf_counter() - started
        finally:
            source.dispose()
            target.dispose()
    rows = sum(source_rows for source_rows, _ in result.counts.values())
    verdict = "; ".join(result.mismatches) or "verified: counts, numbers per day, audit sha256"
    return [
        Result(
            "sqlite",
            f"move: {NAME}",
            rows / seconds,
            "rows/s",
            target="verified, no mismatch",
            met=not result.mismatches,
            note=f"{rows:,} rows of {len(result.counts)} tables in {seconds:.1f} s; {verdict}",
        )
    ]
