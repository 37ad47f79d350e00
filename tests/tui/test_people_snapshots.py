"""Snapshots of the duplicates screen, the merge screen and the save-filter modal at 80x24 and
120x40 (update with --snapshot-update; check each by eye)."""

import pytest

from leadms_tui.domain.leads.saved_filters import FilterCriteria, save_filter
from tests.tui.conftest import settle
from tests.tui.test_duplicates import near_duplicates

SIZES = [(80, 24), (120, 40)]


@pytest.fixture
def db_url(sqlite_url):
    """Snapshots are about the screen, not the engine: SQLite only."""
    return sqlite_url


def _keys(*presses):
    async def ready(pilot):
        await settle(pilot)
        for keys in presses:
            await pilot.press(*keys)
            await pilot.pause(0.1)
            await settle(pilot)

    return ready


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_duplicates_screen(snap_compare, db, make_app, seeded, size):
    near_duplicates(db, seeded)
    assert snap_compare(make_app("maria"), terminal_size=size, run_before=_keys(["D"]))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_merge_screen(snap_compare, db, make_app, seeded, size):
    near_duplicates(db, seeded)
    ready = _keys(["D"], ["m"], ["j", "j", "l"])  # the email: the right one's taken
    assert snap_compare(make_app("maria"), terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_save_filter_modal(snap_compare, db, make_app, seeded, size):
    ana = seeded["users"]["ana"]
    db.write(lambda s: save_filter(s, "Nina", FilterCriteria(text="Nina"), actor=ana.actor))
    ready = _keys(["slash", *"Nina"], ["ctrl+s", *"Nina", "enter"])  # the name is taken
    assert snap_compare(make_app(), terminal_size=size, run_before=ready)
