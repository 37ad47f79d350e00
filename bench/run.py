"""Run every benchmark on each engine and print (or write) the results table.

    python -m bench.run --size full --engines sqlite,postgres --output bench/results.md
    python -m bench.run                      # smoke size (2,000 leads), both engines

Each engine gets a fresh database of the chosen size (a SQLite file in --workdir, or a
`leadms_bench_<random>` PostgreSQL database on the server of --pg-url, dropped at the end),
plus a 1,000-lead one for the query comparison. Order matters: the reading benchmarks
run first, then intake and import add their leads.
"""

import argparse
import os
import platform
import sqlite3
import tempfile
import time
from collections.abc import Iterable
from contextlib import ExitStack
from datetime import datetime
from importlib.metadata import version
from pathlib import Path

import psycopg

from bench import chat, imports, intake, ladder, live, merge, move, phone, queries, reports, tui
from bench.common import (
    DEFAULT_PG_URL,
    SIZES,
    Result,
    Size,
    conninfo,
    log,
    parse_engines,
    scratch_database,
    working_moment,
)
from bench.generate import generate

TUI_ROWS = (
    "start to day view painted",
    "cursor move",
    "open lead detail",
    "open search (first page)",
    "phone search result",
    "peak RSS",
)


def expected_benchmarks(engine: str, *, moved: bool = False) -> set[str]:
    """The name of every row an engine's run produces (`moved`: SQLite's run had a
    PostgreSQL server to move its database to)."""
    names = {
        "generate: database",
        "intake: duplicate / missing numbers",
        "intake: auto assignment",
    }
    names |= {
        f"query: {op}, {what}" for op in queries.OPERATIONS for what in ("SQL statements", "time")
    }
    names |= {f"TUI: {row}" for row in TUI_ROWS}
    names |= {f"intake: {n} writer{'s' if n > 1 else ''}" for n in intake.WRITERS[engine]}
    names |= {f"report: {name}" for name in ("reps", "daily", "commitments")}
    names |= {"live: update latency", f"live: {live.WRITES_PER_SECOND} writes/s on an idle TUI"}
    names |= {"ladder: backlog sweep", "ladder: step lateness", "phone: screen pop"}
    names |= {"chat: send-to-sent latency", "chat: burst", merge.NAME}
    if moved:
        names.add(f"move: {move.NAME}")
    return names | {"import: website-form CSV"}


def run_engine(
    engine: str,
    size: Size,
    *,
    workdir: Path,
    url: str | None = None,
    pg_server: str = DEFAULT_PG_URL,
    only: frozenset[str] = frozenset(),
) -> list[Result]:
    """Every benchmark on one engine (or those whose step name holds a word of `only`); `url`
    is an empty database to fill (else one is made)."""
    moment = working_moment()
    with ExitStack() as stack:

        def scratch(name: str) -> str:
            return stack.enter_context(
                scratch_database(engine, name=name, workdir=workdir, pg_server=pg_server)
            )

        big = url or scratch("bench-big")
        small = scratch("bench-small")
        log(f"{engine}: generating {size.leads:,} leads and {size.calls:,} calls")
        made = generate(big, leads=size.leads, calls=size.calls, reps=size.reps, now=moment)
        generate(small, leads=size.small_leads, calls=size.small_calls, reps=size.reps, now=moment)
        rows = made.leads + made.inquiries + made.calls + made.followups + made.meetings
        results = [
            Result(
                engine,
                "generate: database",
                rows / made.seconds,
                "rows/s",
                note=(
                    f"{made.leads:,} leads, {made.calls:,} calls, {made.followups:,} follow-ups, "
                    f"{made.meetings:,} meetings, {made.inquiries:,} inquiries in "
                    f"{made.seconds:.0f} s"
                ),
            )
        ]
        steps = (
            ("queries", lambda: queries.run(
                engine, small, big, small_leads=size.small_leads, moment=moment,
                runs=size.query_runs,
            )),
            ("reports", lambda: reports.run(engine, big, moment=moment, runs=size.query_runs)),
            ("TUI", lambda: tui.run(
                big, moment=moment, paint_runs=size.paint_runs, samples=size.tui_samples,
                workdir=workdir,
            )),
            ("live updates", lambda: live.run(
                big, moment=moment, samples=size.tui_samples, seconds=size.live_seconds
            )),
            ("intake", lambda: intake.run(
                big, people=made.people, leads=size.intake_leads, rounds=size.intake_rounds
            )),
            ("import", lambda: imports.run(
                big, rows=size.import_rows, people=made.people, moment=moment, workdir=workdir
            )),
            ("phone screen pop", lambda: phone.run(big, moment=moment, samples=size.tui_samples)),
            ("speed-to-lead ladder", lambda: ladder.run(
                big, moment=moment, leads_per_minute=size.ladder_rate, minutes=size.ladder_minutes
            )),
            ("chat replies", lambda: chat.run(big, messages=size.chat_messages)),
            ("people merge", lambda: merge.run(
                big, moment=moment, calls=size.merge_calls, runs=size.merge_runs
            )),
        )  # fmt: skip
        if engine == "sqlite" and pg_server.startswith("postgres"):
            steps += (("move", lambda: move.run(big, pg_server=pg_server, workdir=workdir)),)
        for name, step in steps:
            if only and not any(word in name for word in only):
                continue
            log(f"{engine}: {name}")
            started = time.perf_counter()
            results += step()
            log(f"{engine}: {name} done in {time.perf_counter() - started:.0f} s")
    return results


def _number(value: float) -> str:
    if isinstance(value, int) or abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def table(results: Iterable[Result]) -> str:
    lines = [
        "| Engine | Benchmark | Figure | Baseline | Ratio | Target | Met | Notes |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        figure = r.figure if isinstance(r.figure, str) else f"{_number(r.figure)} {r.unit}"
        baseline = f"{_number(r.baseline)} ({r.versus})" if r.baseline is not None else ""
        ratio = "" if r.ratio is None else f"{r.ratio:.{2 if r.ratio >= 0.1 else 4}f}x"
        met = {True: "yes", False: "**no**", None: ""}[r.met]
        cells = [r.engine, r.benchmark, figure.strip(), baseline, ratio, r.target, met, r.note]
        lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    return "\n".join(lines)


def machine(engines: list[str], pg_server: str) -> str:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line), "")
    memory = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal"))
    parts = [
        f"{os.cpu_count()} cores ({cpu})",
        f"{memory / 1024**2:.0f} GB RAM",
        f"Python {platform.python_version()}",
        f"SQLite {sqlite3.sqlite_version}",
    ]
    if "postgres" in engines:
        with psycopg.connect(conninfo(pg_server), connect_timeout=10) as conn:
            parts.append(f"PostgreSQL {conn.execute('SHOW server_version').fetchone()[0]}")
    for package in ("textual", "sqlalchemy", "psycopg"):
        parts.append(f"{package} {version(package)}")
    return ", ".join(parts)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the Lead MS benchmarks.")
    parser.add_argument("--size", choices=sorted(SIZES), default="smoke")
    parser.add_argument("--engines", default="sqlite,postgres", help="comma-separated")
    parser.add_argument("--output", type=Path, help="also write the results here (markdown)")
    parser.add_argument("--workdir", type=Path, help="for SQLite files and the CSV (default: temp)")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="any database on the server")
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated words of the steps to run after generating (e.g. ladder,reports)",
    )
    args = parser.parse_args(argv)
    engines = parse_engines(parser, args.engines)
    size = SIZES[args.size]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="leadms-bench-") as temporary:
        workdir = args.workdir or Path(temporary)
        workdir.mkdir(parents=True, exist_ok=True)
        results = []
        for engine in engines:
            results += run_engine(
                engine,
                size,
                workdir=workdir,
                pg_server=args.pg_url,
                only=frozenset(filter(None, args.only.split(","))),
            )
    minutes = (time.perf_counter() - started) / 60
    report = (
        f"Size **{size.name}** ({size.leads:,} leads, {size.calls:,} calls, {size.reps} reps), "
        f"finished {datetime.now():%Y-%m-%d %H:%M} after {minutes:.0f} min "
        f"on {machine(engines, args.pg_url)}.\n\n{table(results)}\n"
    )
    print(report)
    if args.output:
        args.output.write_text(report)


if __name__ == "__main__":
    main()
