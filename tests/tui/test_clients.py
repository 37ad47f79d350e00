"""Clients in the TUI by key presses: the list (`C`), the detail, and onboarding tasks on the
day view, against real databases."""

from sqlalchemy import select, text

from leadms_tui.domain.models import Client, OnboardingTask
from leadms_tui.domain.sales import commission
from leadms_tui.domain.sales.conversion import ConversionRequest, convert_lead
from leadms_tui.screens.client_detail import ClientDetailScreen
from leadms_tui.screens.clients import ClientListScreen
from leadms_tui.screens.day_view import DayViewScreen
from leadms_tui.screens.lead_detail import LeadDetailScreen
from tests.tui.conftest import settle
from tests.tui.test_hostile_text import assert_clean


def _convert(db, seeded, lead: str, by: str) -> None:
    actor = seeded["users"][by].actor
    lead_id = seeded[lead].lead_id
    db.write(lambda s: convert_lead(s, lead_id, ConversionRequest(value="1250"), actor=actor))


def _tasks(db) -> dict[str, str]:
    with db.reading() as session:
        return dict(session.execute(select(OnboardingTask.title, OnboardingTask.state)).all())


async def test_search_a_client_see_the_sale_and_finish_a_task(db, make_app, seeded):
    maria = seeded["users"]["maria"]
    db.write(lambda s: commission.add_plan(s, "Standard", currency="USD", rate="10",
                                           actor=maria.actor))  # fmt: skip
    _convert(db, seeded, "due", "ana")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("C", *"dora", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ClientDetailScreen)
        info = str(app.screen.query_one("#client-info").render())
        assert "CL-000001" in info and "Dora Due" in info and "onboarding 0/3 done" in info
        sale = [str(cell) for cell in app.screen.query_one("#sales").get_row_at(0)]
        assert sale[1] == seeded["due"].number and sale[3] == "1,250.00 USD"
        assert sale[5] == "125.00 USD" and "ana 100% 125.00 USD pending" in sale[6]

        await pilot.press("d")  # the first task, under the cursor: the welcome call
        await settle(pilot)
        assert _tasks(db)["Welcome call"] == "done"
        tasks = app.screen.query_one("#tasks")
        assert "1/3 done" in tasks.border_title and str(tasks.get_row_at(0)[3]) == "done"
        await pilot.press("down", "x")
        await settle(pilot)
        assert _tasks(db)["Setup check"] == "skipped"

        await pilot.press("s", "a")  # status: active
        await settle(pilot)
        with db.reading() as session:
            assert session.execute(select(Client.status)).scalar_one() == "active"
        for _ in range(50):  # the status modal's callback starts a reload after the write
            if "active" in str(app.screen.query_one("#client-info").render()):
                break
            await settle(pilot)
        assert "active" in str(app.screen.query_one("#client-info").render())

        await pilot.press("tab", "tab", "enter")  # the leads it came from: open one
        await settle(pilot)
        assert isinstance(app.screen, LeadDetailScreen)
        assert app.screen.lead_id == seeded["due"].lead_id
        await pilot.press("escape", "escape")
        await settle(pilot)
        assert isinstance(app.screen, ClientListScreen)
        assert "1 client" in str(app.screen.query_one("#client-count").render())


async def test_day_view_lists_onboarding_tasks_and_d_marks_one_done(db, make_app, seeded):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert not app.screen.query_one("#onboarding").display  # no tasks: no section
        assert not app.screen.check_action("finish_task", ("done",))
    _convert(db, seeded, "due", "ana")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        section = app.screen.query_one("#onboarding")
        assert section.display and section.border_title == "Onboarding (1)"
        assert [str(cell) for cell in section.get_row_at(0)] == [
            "today", "CL-000001", "Dora Due", "Welcome call", "ana",
        ]  # fmt: skip
        assert app.screen.check_action("finish_task", ("done",)) is None  # not on a task
        assert app.screen.focused.id == "new-leads"  # no follow-ups due: opens on leads
        await pilot.press("shift+tab", "enter")  # enter on a task: its client
        await settle(pilot)
        assert isinstance(app.screen, ClientDetailScreen) and app.screen.client_id == 1
        await pilot.press("escape", "d")
        await settle(pilot)
        assert _tasks(db)["Welcome call"] == "done"
        assert not section.display  # nothing left due today
        assert isinstance(app.screen, DayViewScreen)


async def test_a_rep_cannot_finish_another_reps_task(db, make_app, seeded):
    _convert(db, seeded, "other", "bruno")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert not app.screen.query_one("#onboarding").display  # bruno's, not ana's
        await pilot.press("C", *"otto", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ClientDetailScreen)
        await pilot.press("d")
        await settle(pilot)
        assert any(
            "only a manager or an admin can finish another person's onboarding task" in n.message
            for n in app._notifications
        )
    assert _tasks(db)["Welcome call"] == "open"
    app = make_app("maria")  # a manager may
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("tab", "d")  # maria's day: the team's tasks
        await settle(pilot)
    assert _tasks(db)["Welcome call"] == "done"


async def test_hostile_client_names_read_literally(db, make_app, seeded):
    _convert(db, seeded, "fresh", "ana")
    hostile = "X [@click=app.quit]y[/] \x1b]0;pwned\x07 [link=file:///etc/passwd]pw[/link]"
    db.write(lambda s: s.execute(text("UPDATE clients SET name = :name"), {"name": hostile}))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "X [@click=app.qui" in assert_clean(app)  # the onboarding section (cut to 18)
        await pilot.press("C")
        await settle(pilot)
        assert "X [@click=app.quit]" in assert_clean(app)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ClientDetailScreen)
        assert "[link=file:///etc/passwd]pw[/link]" in assert_clean(app)
        assert app.return_code is None
