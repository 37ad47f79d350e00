"""The benchmark suite still runs end to end at smoke size. No timing is asserted here."""

import pytest

from bench import move
from bench.common import SIZES, working_moment
from bench.generate import generate
from bench.run import expected_benchmarks, run_engine, table

pytestmark = pytest.mark.slow  # started first on the test workers


def test_every_benchmark_runs_and_reports(db_url, tmp_path):
    engine = "sqlite" if db_url.startswith("sqlite") else "postgres"
    results = run_engine(engine, SIZES["smoke"], workdir=tmp_path, url=db_url, pg_server=db_url)
    assert {r.benchmark for r in results} == expected_benchmarks(engine)
    assert all(r.figure is not None and r.engine == engine for r in results)
    assert [r.figure for r in results if r.benchmark.startswith("intake: dup")] == ["0 / 0"]
    assert len(table(results).splitlines()) == len(results) + 2


@pytest.mark.postgres
def test_the_move_benchmark_copies_and_verifies(sqlite_url, pg_url, tmp_path):
    generate(sqlite_url, leads=300, calls=1_000, reps=3, now=working_moment())
    (result,) = move.run(sqlite_url, pg_server=pg_url, workdir=tmp_path)
    assert result.met and result.benchmark == f"move: {move.NAME}", result.note
    assert "verified" in result.note
