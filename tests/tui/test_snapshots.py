"""Snapshots of the main screens at 80x24 and 120x40 (update with --snapshot-update)."""

import pytest

from leadms_tui.app import LeadMSApp
from leadms_tui.screens.lead_detail import LeadDetailScreen
from tests.tui.conftest import settle

SIZES = [(80, 24), (120, 40)]


@pytest.fixture
def db_url(sqlite_url):
    """Snapshots are about the screen, not the engine: SQLite only."""
    return sqlite_url


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_login(snap_compare, db, seeded, size):
    async def ready(pilot):
        await settle(pilot)

    assert snap_compare(LeadMSApp(db, username="ana"), terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_day_view(snap_compare, make_app, size):
    async def ready(pilot):
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_call_modal(snap_compare, make_app, size):
    async def ready(pilot):
        await settle(pilot)
        await pilot.press("c", "n")
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_lead_detail(snap_compare, make_app, seeded, size):
    async def ready(pilot):
        await settle(pilot)
        await pilot.press("c", "b", "enter")
        await settle(pilot)
        pilot.app.push_screen(LeadDetailScreen(seeded["due"].lead_id))
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=size, run_before=ready)
