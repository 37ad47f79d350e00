"""The admin's onboarding template editor, driven by key presses against real databases."""

import pytest

from leadms_tui.app import LeadMSApp
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.models import Role, StepOwner
from leadms_tui.domain.sales.onboarding import list_templates
from leadms_tui.domain.team.users import add_user
from leadms_tui.screens.modals.step_modal import StepModal
from leadms_tui.screens.settings.onboarding_templates import OnboardingTemplatesScreen
from tests.tui.conftest import settle

STANDARD = ["Welcome call", "Setup check", "First review"]


@pytest.fixture
def admin_app(db, seeded):
    admin = db.write(lambda s: add_user(s, "ada", role=Role.ADMIN, actor=SYSTEM, password="secret"))
    return LeadMSApp(db, signed_in=admin)


def _templates(db) -> dict[str, list]:
    with db.reading() as session:
        return {t.name: t for t in list_templates(session)}


def _notes(app) -> list[str]:
    return [n.message for n in app._notifications]


async def _open(app, pilot) -> OnboardingTemplatesScreen:
    await settle(pilot)
    await pilot.press("O")
    await settle(pilot)
    assert isinstance(app.screen, OnboardingTemplatesScreen)
    return app.screen


async def _add_step(app, pilot, title: str, day: str) -> StepModal:
    await pilot.press("a")
    await settle(pilot)
    modal = app.screen
    assert isinstance(modal, StepModal)
    await pilot.press(*title, "tab", *day)
    return modal


def _steps_shown(screen) -> list[list[str]]:
    table = screen.query_one("#steps")
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def test_add_a_step_move_it_up_and_save(db, admin_app):
    async with admin_app.run_test(size=(120, 40)) as pilot:
        screen = await _open(admin_app, pilot)
        assert [row[2] for row in _steps_shown(screen)] == STANDARD
        preview = str(screen.query_one("#onboarding-preview").render())
        assert preview.splitlines()[0] == "Welcome call — Wed 25 Nov, closing rep"
        assert "First review — Wed 09 Dec, account manager" in preview  # 10 business days on

        await _add_step(admin_app, pilot, "Kickoff", "1")
        await pilot.press("enter")
        await settle(pilot)
        assert admin_app.screen is screen
        assert _steps_shown(screen)[3] == ["4", "1", "Kickoff", "closing rep"]
        assert screen.query_one("#steps").cursor_row == 3

        await pilot.press("ctrl+up", "K")
        await settle(pilot)
        assert [row[2] for row in _steps_shown(screen)] == [
            "Welcome call",
            "Kickoff",
            "Setup check",
            "First review",
        ]
        assert screen.query_one("#steps").cursor_row == 1
        assert "Kickoff — Thu 26 Nov, closing rep" in str(
            screen.query_one("#onboarding-preview").render()
        )
        assert _templates(db)["Standard"].steps[1].title == "Setup check"  # not saved yet

        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Onboarding template saved: Standard" in _notes(admin_app)
        await pilot.press("escape")  # nothing unsaved: leaves at once
        await settle(pilot)
        assert not isinstance(admin_app.screen, OnboardingTemplatesScreen)
    standard = _templates(db)["Standard"]
    assert [(s.title, s.offset_days) for s in standard.steps] == [
        ("Welcome call", 0),
        ("Kickoff", 1),
        ("Setup check", 2),
        ("First review", 10),
    ]
    assert standard.is_default


async def test_a_day_past_365_is_refused_and_nothing_saved(db, admin_app):
    async with admin_app.run_test(size=(120, 40)) as pilot:
        screen = await _open(admin_app, pilot)
        await _add_step(admin_app, pilot, "Yearly review", "400")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert _steps_shown(screen)[3][:3] == ["4", "400", "Yearly review"]
        await pilot.press("ctrl+s")
        await settle(pilot)
        message = "step 'Yearly review': the day must be between 0 and 365"
        assert str(screen.query_one("#onboarding-error").render()) == message
        assert message in _notes(admin_app)

        await pilot.press("escape")  # unsaved changes: the first escape only warns
        await settle(pilot)
        assert admin_app.screen is screen
        assert "Unsaved changes in Standard" in str(screen.query_one("#onboarding-error").render())
        await pilot.press("escape")
        await settle(pilot)
        assert admin_app.screen is not screen
    assert [s.title for s in _templates(db)["Standard"].steps] == STANDARD


async def test_a_new_default_template_with_a_named_owner(db, admin_app, seeded):
    maria = seeded["users"]["maria"]
    async with admin_app.run_test(size=(120, 40)) as pilot:
        screen = await _open(admin_app, pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"Big [red]deals[/]", "enter")
        await settle(pilot)
        assert admin_app.screen is screen and screen.query_one("#steps").row_count == 0
        modal = await _add_step(admin_app, pilot, "Kickoff with Maria", "0")
        await pilot.press("tab")
        modal.query_one("#step-owner").value = f"user:{maria.id}"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert _steps_shown(screen) == [["1", "0", "Kickoff with Maria", "Maria"]]
        await pilot.press("D", "ctrl+s")
        await settle(pilot)
        names = [str(screen.query_one("#templates").get_row_at(i)[0]) for i in range(2)]
        assert names == ["Standard", "Big [red]deals[/] ★ default"]
        await pilot.press("e")
        await settle(pilot)
        assert admin_app.screen.query_one("#step-owner").value == f"user:{maria.id}"
        await pilot.press("escape", "shift+tab", "up")  # the list of templates: Standard
        await settle(pilot)
        assert [row[2] for row in _steps_shown(screen)] == STANDARD
        await pilot.press("tab", "x", "delete")  # the first two steps go, unsaved
        await settle(pilot)
        assert [row[2] for row in _steps_shown(screen)] == ["First review"]
    templates = _templates(db)
    big = templates["Big [red]deals[/]"]
    assert big.is_default and not templates["Standard"].is_default
    assert [(s.title, s.owner, s.owner_user_id) for s in big.steps] == [
        ("Kickoff with Maria", StepOwner.USER, maria.id)
    ]


async def test_a_rep_is_refused(db, make_app):
    app = make_app("ana")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("O")
        await settle(pilot)
        assert not isinstance(app.screen, OnboardingTemplatesScreen)
        assert "only admins edit onboarding templates" in _notes(app)
