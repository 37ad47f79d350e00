"""Sign-in, driven by key presses against a real database."""

from leadms_tui.app import LeadMSApp
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.intake import LeadCreate, create_lead
from leadms_tui.domain.models import Role
from leadms_tui.domain.users import add_user
from leadms_tui.screens.home import HomeScreen
from leadms_tui.screens.login import LoginScreen


def _seed(db):
    db.write(
        lambda s: add_user(
            s, "ana", role=Role.REP, actor=SYSTEM, password="s3cret", display_name="Ana Ruiz"
        )
    )
    create_lead(
        db, LeadCreate(name="Bruno Lima", phone="+5511987654321", channel="whatsapp"), actor=SYSTEM
    )


async def test_wrong_password_then_right_one(db):
    _seed(db)
    app = LeadMSApp(db, username="ana")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, LoginScreen)
        await pilot.press(*"nope", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, LoginScreen)
        assert "wrong password" in str(app.screen.query_one("#login-error").render())
        await pilot.press(*"s3cret", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        assert app.user is not None and app.user.username == "ana"
        assert "Ana Ruiz" in app.sub_title and "rep" in app.sub_title
        await app.workers.wait_for_complete()
        await pilot.pause()
        table = app.screen.query_one("DataTable")
        assert table.row_count == 1
