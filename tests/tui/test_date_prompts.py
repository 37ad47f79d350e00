"""Every TUI date prompt reads a day as the date fields do (`fri`), within the same window."""

from datetime import date, datetime

from sqlalchemy import update

from leadms_tui.app import LeadMSApp
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.models import Availability, Role, User
from leadms_tui.domain.team.settings import set_setting
from leadms_tui.domain.team.users import add_user
from leadms_tui.screens.day_view import DayViewScreen
from leadms_tui.screens.modals.date_modal import DateModal
from leadms_tui.screens.settings import SettingsScreen
from tests.tui.conftest import settle


async def test_go_to_date_takes_a_weekday_and_refuses_year_9999(make_app, seeded):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("g", "end", *["backspace"] * 12, *"9999-12-31", "enter")
        await settle(pilot)
        assert isinstance(app.screen, DateModal)
        error = str(app.screen.query_one("#date-error").render())
        assert "outside the plausible range" in error
        await pilot.press("end", *["backspace"] * 12, *"fri", "enter")
        await settle(pilot)
        assert isinstance(app.screen, DayViewScreen)
        assert app.screen.day == date(2026, 11, 27)  # the Friday after Wed 25 Nov


async def test_settings_users_opens_with_a_year_9999_away_until_east_of_utc(db, seeded):
    """Issue 23: the admin's TUI exited on Settings → Users once the zone moved east."""
    admin = db.write(lambda s: add_user(s, "ada", role=Role.ADMIN, actor=SYSTEM, password="secret"))
    db.write(lambda s: set_setting(s, "timezone", "Europe/Berlin", actor=SYSTEM))
    db.write(  # as a database written before the window existed holds it
        lambda s: s.execute(
            update(User)
            .where(User.username == "ana")
            .values(availability=Availability.AWAY, away_until=datetime(9999, 12, 31, 23, 59))
        )
    )
    app = LeadMSApp(db, signed_in=admin)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("S")
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        assert isinstance(app.screen, SettingsScreen) and app.return_code is None
        users = app.screen.query_one("#users")
        rows = [[str(cell) for cell in users.get_row_at(i)] for i in range(users.row_count)]
        ana = next(row for row in rows if row[0] == "ana")
        assert any("9999" in cell for cell in ana), ana
