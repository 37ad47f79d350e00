"""The TUI keeps garbage-collector pauses out of key presses (issue 17; BENCHMARKS: GC pauses)."""

import gc

from leadms_tui.app import GC_THRESHOLDS
from tests.tui.conftest import settle


async def test_the_app_tunes_the_collector_while_it_runs_and_restores_it(make_app, seeded):
    before = gc.get_threshold()
    assert before != GC_THRESHOLDS
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert gc.get_threshold() == GC_THRESHOLDS
        assert gc.get_freeze_count() > 0  # the start-up objects: out of every pass
    assert gc.get_threshold() == before  # the process goes on (tests, `leadms` commands)
