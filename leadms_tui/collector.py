"""Python's garbage collector with a roomier youngest generation, for work that makes and drops
objects by the hundred thousand: the TUI's rendering, an import's rows.

At Python's thresholds (700, 10, 10) such churn outlives the youngest generation and the
older passes walk everything alive: ~100-290 ms pauses every few seconds in the TUI
(BENCHMARKS: GC pauses), and ~17% of a 100,000-row import, whose parsed file stays in memory.
"""

import gc
from collections.abc import Iterator
from contextlib import contextmanager

THRESHOLDS = (50_000, 10, 10)


@contextmanager
def roomy() -> Iterator[None]:
    """`THRESHOLDS` while the block runs; what was set before afterwards (the process goes on)."""
    before = gc.get_threshold()
    gc.set_threshold(*THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)
