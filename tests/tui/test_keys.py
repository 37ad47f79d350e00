"""Keys that could lose work or do nothing (issue 24): quitting over a half-typed form asks
first; a key that does nothing says why."""

from leadms_tui.screens.new_lead import NewLeadModal
from tests.tui.conftest import settle


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
