"""The benchmark suite still runs end to end at smoke size. No timing is asserted here."""

from bench.common import SIZES
from bench.run import expected_benchmarks, run_engine, table


def test_every_benchmark_runs_and_reports(db_url, tmp_path):
    engine = "sqlite" if db_url.startswith("sqlite") else "postgres"
    results = run_engine(engine, SIZES["smoke"], workdir=tmp_path, url=db_url, pg_server=db_url)
    assert {r.benchmark for r in results} == expected_benchmarks(engine)
    assert all(r.figure is not None and r.engine == engine for r in results)
    assert [r.figure for r in results if r.benchmark.startswith("intake: dup")] == ["0 / 0"]
    assert len(table(results).splitlines()) == len(results) + 2
