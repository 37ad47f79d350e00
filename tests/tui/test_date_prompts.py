"""Every TUI date prompt reads a day as the date fields do (`fri`), within the same window."""

from datetime import date

from leadms_tui.screens.date_prompt import DatePrompt
from leadms_tui.screens.day_view import DayViewScreen
from tests.tui.conftest import settle


async def test_go_to_date_takes_a_weekday_and_refuses_year_9999(make_app, seeded):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("g", "end", *["backspace"] * 12, *"9999-12-31", "enter")
        await settle(pilot)
        assert isinstance(app.screen, DatePrompt)
        error = str(app.screen.query_one("#date-error").render())
        assert "outside the plausible range" in error
        await pilot.press("end", *["backspace"] * 12, *"fri", "enter")
        await settle(pilot)
        assert isinstance(app.screen, DayViewScreen)
        assert app.screen.day == date(2026, 11, 27)  # the Friday after Wed 25 Nov
