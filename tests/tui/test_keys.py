"""Keys that could lose work or do nothing (issue 24): quitting over a half-typed form asks
first; a key that does nothing says why."""

from leadms_tui.domain.models import FollowUp
from leadms_tui.screens.day_view import DayViewScreen
from leadms_tui.screens.modals.new_lead_modal import NewLeadModal
from tests.tui.conftest import settle


def _notes(app) -> list[str]:
    return [n.message for n in app._notifications]


async def test_ctrl_q_over_a_half_typed_lead_asks_first_and_a_second_quits(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("n", *"Half Typed")
        await settle(pilot)
        assert isinstance(app.screen, NewLeadModal)
        await pilot.press("ctrl+q")
        await settle(pilot)
        assert app.is_running and isinstance(app.screen, NewLeadModal)
        assert any("unsaved input" in n.message for n in app._notifications)
        assert app.screen.query_one("#name").value == "Half Typed"
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert app._exit_renderables is not None or not app.is_running
    assert app.return_code == 0


async def test_ctrl_q_with_nothing_typed_quits_at_once(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert not any("unsaved input" in n.message for n in app._notifications)
    assert app.return_code == 0


async def test_keys_that_do_nothing_say_why(db, make_app, seeded):
    db.write(lambda s: s.execute(FollowUp.__table__.delete()))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.screen.query_one("#followups").focus()  # the empty list
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, DayViewScreen)
        assert "Follow-ups due is empty: tab goes to the next list" in _notes(app)
        await pilot.press("tab", "d")  # the new leads: d finishes onboarding tasks only
        await settle(pilot)
        assert "d / x finish an onboarding task: the cursor is not on one" in _notes(app)


async def test_the_call_modal_drops_an_error_once_its_cause_is_fixed(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("c", "enter")  # no outcome yet
        await settle(pilot)
        status = app.screen.query_one("#call-status")
        assert "Choose an outcome first" in str(status.render())
        await pilot.press("r")
        await settle(pilot)
        assert str(status.render()) == ""
        await pilot.press("tab", "tab", "ctrl+u", *"someday", "enter")
        await settle(pilot)
        assert str(status.render()).startswith("Next follow-up:")
        await pilot.press("backspace")
        await settle(pilot)
        assert str(status.render()) == ""


async def test_the_new_lead_form_warns_of_a_repeat_while_typing(db, make_app, seeded):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("n", *"Dora Again", "tab", *"+44 7700 900111")
        await settle(pilot)
        warning = str(app.screen.query_one("#repeat-warning").render())
        assert warning.startswith(f"Repeat: same phone as {seeded['due'].number} Dora Due")
        await pilot.press(*["backspace"] * 3)  # no longer that number
        await settle(pilot)
        assert str(app.screen.query_one("#repeat-warning").render()) == ""
