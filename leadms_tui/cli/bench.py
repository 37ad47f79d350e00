"""`leadms bench`: benchmark data and the benchmark suite (`bench/` of the source checkout)."""

import sys
from pathlib import Path
from typing import Annotated

import typer

from leadms_tui.cli.common import CLIError, echo, options

app = typer.Typer(help="Benchmarks (run from a source checkout).", no_args_is_help=True)


def _bench_importable() -> None:
    """`bench/` sits next to the package in the source tree and is not installed with it."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "bench" / "run.py").exists():
        raise CLIError("the benchmarks live in the source checkout's bench/ folder", exit_code=2)
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))


@app.command()
def generate(
    ctx: typer.Context,
    leads: Annotated[int, typer.Option("--leads", min=1)] = 100_000,
    calls: Annotated[int, typer.Option("--calls", min=0)] = 1_000_000,
    reps: Annotated[int, typer.Option("--reps", min=1)] = 20,
    seed: Annotated[int, typer.Option("--seed")] = 6,
) -> None:
    """Fill an empty database (given with --database-url) with two years of realistic data."""
    url = options(ctx).database_url
    if not url:
        raise CLIError("name the empty database to fill with --database-url", exit_code=2)
    _bench_importable()
    from bench.generate import generate as fill

    made = fill(url, leads=leads, calls=calls, reps=reps, seed=seed)
    echo(
        f"{made.leads:,} leads, {made.calls:,} calls, {made.followups:,} follow-ups, "
        f"{made.meetings:,} meetings, {len(made.reps)} reps in {made.seconds:.0f} s"
    )


@app.command()
def run(
    size: Annotated[
        str, typer.Option("--size", help="smoke (2,000 leads) or full (100,000)")
    ] = "smoke",
    engines: Annotated[str, typer.Option("--engines")] = "sqlite,postgres",
    output: Annotated[
        Path | None, typer.Option("--output", help="also write the table here")
    ] = None,
) -> None:
    """Run every benchmark on fresh databases and print the results table."""
    _bench_importable()
    from bench.run import main

    main(["--size", size, "--engines", engines, *(["--output", str(output)] if output else [])])
