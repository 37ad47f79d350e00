"""Issue 23: before sign-in nothing but the sign-in: no command palette, whatever opens it."""

from textual.command import CommandPalette

from leadms_tui.app import LeadMSApp
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.models import Role
from leadms_tui.domain.team.users import add_user
from leadms_tui.screens.login import LoginScreen
from leadms_tui.widgets.key_footer import KeyFooter
from tests.tui.conftest import settle

PASSWORD = "tangerine rooftop 42"


async def test_no_command_palette_before_sign_in_and_one_after(db):
    db.write(lambda s: add_user(s, "ana", role=Role.REP, actor=SYSTEM, password=PASSWORD))
    app = LeadMSApp(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        footer = app.screen.query_one(KeyFooter)
        assert "palette" not in " ".join(str(key.description) for key in footer.children)
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert not CommandPalette.is_open(app)
        await pilot.click("HeaderIcon")  # the header's icon runs the same action
        await settle(pilot)
        assert not CommandPalette.is_open(app)
        assert isinstance(app.screen, LoginScreen)

        await pilot.press(*"ana", "enter", *PASSWORD, "enter")
        await settle(pilot)
        assert app.user is not None
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert CommandPalette.is_open(app)  # signed in: the palette is back
