"""Snapshots of speed to lead on screen (update with --snapshot-update): the team's day view
with running and breached clocks, the breaching-now filter, the lead detail's clock history,
the ladder editor refusing a ladder and the reports' heat map. The clock is frozen at
Wednesday 10:00 in London (tests/tui/conftest.py)."""

from datetime import timedelta

import pytest

from leadms_tui.app import LeadMSApp
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import Role
from leadms_tui.domain.team.users import add_user
from leadms_tui.screens.lead_detail import LeadDetailScreen
from tests.tui.conftest import NOW
from tests.tui.test_snapshots import _steps

SIZES = [(80, 24), (120, 40)]


@pytest.fixture
def db_url(sqlite_url):
    """Snapshots are about the screen, not the engine: SQLite only."""
    return sqlite_url


@pytest.fixture
def clocks(db, seeded):
    """Besides Nina (ana's, 07:50) and Otto (bruno's, 09:00), both an hour used: Fay (bruno's,
    3 minutes ago), Hal (nobody's, 30 minutes ago) and Lou (ana's, in yesterday at 17:55)."""
    users = seeded["users"]
    made = {}
    for name, phone, owner, at in [
        ("Fay Fresh", "07700 900444", "bruno", NOW - timedelta(minutes=3)),
        ("Hal Half", "07700 900777", None, NOW - timedelta(minutes=30)),
        (
            "Lou Late",
            "07700 900888",
            "ana",
            NOW - timedelta(days=1) + timedelta(hours=7, minutes=55),
        ),
    ]:
        owner_id = users[owner].id if owner else None
        data = LeadCreate(name=name, phone=phone, channel="website", owner_id=owner_id)
        made[name] = create_lead(db, data, actor=SYSTEM, now=at).lead_id
    return made


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_team_day_view_with_clocks(snap_compare, make_app, clocks, size):
    assert snap_compare(make_app("maria"), terminal_size=size, run_before=_steps())


def test_breaching_now(snap_compare, make_app, clocks):
    assert snap_compare(make_app("maria"), terminal_size=(120, 40), run_before=_steps(["b"]))


def test_lead_detail_clock_history(snap_compare, make_app, clocks):
    def open_lou(app):
        app.push_screen(LeadDetailScreen(clocks["Lou Late"]))

    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=_steps(open_lou))


def test_ladder_editor_refusing(snap_compare, db, seeded):
    admin = db.write(lambda s: add_user(s, "ada", role=Role.ADMIN, actor=SYSTEM, password="secret"))

    def clear(app):
        app.screen.query_one("#ladder-value").clear()

    def open_ladder(app):
        table = app.screen.query_one("#team")
        keys = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        table.move_cursor(row=keys.index("response_ladder"))

    ready = _steps(["S", "3"], open_ladder, ["enter"], clear, [*"10:owner,5:managers"])
    assert snap_compare(LeadMSApp(db, signed_in=admin), terminal_size=(120, 40), run_before=ready)


def test_reports_speed_to_lead_heat_map(snap_compare, make_app, clocks):
    ready = _steps(["R"], ["4"])
    assert snap_compare(make_app("maria"), terminal_size=(120, 40), run_before=ready)
