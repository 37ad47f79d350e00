"""Converting a lead (`v`) and the commission screen (`$`), driven by key presses."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from leadms_tui.domain.models import Client, Commission, Lead, Sale
from leadms_tui.domain.sales.commission import add_plan
from leadms_tui.domain.sales.conversion import ConversionRequest, convert_lead
from leadms_tui.screens.commissions import CommissionsScreen
from leadms_tui.screens.day_view import DayViewScreen
from leadms_tui.screens.lead_detail import LeadDetailScreen
from leadms_tui.screens.modals.convert_modal import ConvertModal
from tests.tui.conftest import settle


@pytest.fixture
def plan(db, seeded):
    """The team's one commission plan, added by the manager: 7.5% of the deal value."""
    maria = seeded["users"]["maria"].actor
    return db.write(lambda s: add_plan(s, "Standard", currency="USD", rate="7.5", actor=maria))


def _rows(db, model, **where):
    with db.reading() as session:
        return session.execute(select(model).filter_by(**where)).scalars().all()


def _preview(app) -> str:
    return str(app.screen.query_one("#preview").render())


def _convert(db, seeded, key: str, value: str, who: str = "ana") -> None:
    actor = seeded["users"][who].actor
    lead_id = seeded[key].lead_id
    db.write(lambda s: convert_lead(s, lead_id, ConversionRequest(value=value), actor=actor))


async def test_convert_from_the_day_view_with_a_live_preview(db, make_app, seeded, plan):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("v")  # on Dora, the follow-up under the cursor
        await settle(pilot)
        assert isinstance(app.screen, ConvertModal)
        assert _preview(app) == "Type the deal value to see the commission"
        await pilot.press(*"1234.50")
        await settle(pilot)
        assert _preview(app) == "Commission: Standard (7.5% of the value): 92.59 USD"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DayViewScreen)
        messages = [n.message for n in app._notifications]
        number = seeded["due"].number
        expected = f"{number} converted: client CL-000001, commission 92.59 USD, 3 onboarding tasks"
        assert expected in messages

        app.push_screen(LeadDetailScreen(seeded["due"].lead_id))
        await settle(pilot)
        assert "Client CL-000001" in str(app.screen.query_one("#contact").render())
        assert app.screen.check_action("convert", ()) is None  # greyed: converted already
    (sale,) = _rows(db, Sale, lead_id=seeded["due"].lead_id)
    (client,) = _rows(db, Client)
    assert (sale.client_id, sale.value, sale.commission_total) == (
        client.id,
        Decimal("1234.50"),
        Decimal("92.59"),
    )
    assert _rows(db, Lead, id=seeded["due"].lead_id)[0].status == "won"


async def test_a_bad_value_is_shown_inline_and_nothing_is_written(db, make_app, seeded, plan):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("v", *"12.345")
        await settle(pilot)
        assert isinstance(app.screen, ConvertModal)
        assert "more than 2 decimals" in _preview(app)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ConvertModal)  # the refusal stays in the modal
        assert "more than 2 decimals" in str(app.screen.query_one("#convert-status").render())
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DayViewScreen)
    assert _rows(db, Sale) == [] and _rows(db, Client) == []
    assert _rows(db, Lead, id=seeded["due"].lead_id)[0].status != "won"


async def test_a_manager_splits_the_commission_with_the_owner(db, make_app, seeded, plan):
    app = make_app("maria")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.push_screen(LeadDetailScreen(seeded["due"].lead_id))  # ana's lead
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        assert "Split with the owner ana" in str(app.screen.query_one("#split-hint").render())
        await pilot.press(*"100", "tab", "tab", "tab", "tab")  # past product, plan, template
        assert app.screen.focused.id == "split"
        await pilot.press(*"60/40", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, LeadDetailScreen)
    shares = sorted((c.user_id, c.share, c.amount) for c in _rows(db, Commission))
    ana, maria = seeded["users"]["ana"].id, seeded["users"]["maria"].id
    assert shares == sorted([(ana, 60, Decimal("4.50")), (maria, 40, Decimal("3.00"))])


async def test_a_manager_approves_and_pays_commissions(db, make_app, seeded, plan):
    _convert(db, seeded, "due", "1000")
    _convert(db, seeded, "fresh", "200")
    _convert(db, seeded, "other", "400", who="bruno")
    app = make_app("maria")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("dollar_sign")
        await settle(pilot)
        assert isinstance(app.screen, CommissionsScreen)
        table = app.screen.query_one("#commissions")
        assert [str(table.get_row_at(i)[0]) for i in range(3)] == ["ana", "ana", "bruno"]
        assert "November 2026: 120.00 USD" in str(app.screen.query_one("#month-total").render())
        await pilot.press("down", "a")  # the second row: ana's 200 sale; a first asks
        await settle(pilot)
        assert all(c.state == "pending" for c in _rows(db, Commission))
        assert any("a again approves" in n.message for n in app._notifications)
        await pilot.press("a")
        await settle(pilot)
        states = {c.amount: c.state for c in _rows(db, Commission)}
        assert [states[key] for key in sorted(states)] == ["approved", "pending", "pending"]
        assert table.cursor_row == 1  # kept after the reload
        await pilot.press("p", "p")
        await settle(pilot)
        await pilot.press("A", "A")  # every pending one of the month
        await settle(pilot)
        states = {c.amount: c.state for c in _rows(db, Commission)}
        assert states == {75: "approved", 15: "paid", 30: "approved"}
        await pilot.press("right_square_bracket")  # December: nothing sold yet
        await settle(pilot)
        assert table.row_count == 0
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DayViewScreen)


async def test_a_managers_split_of_anothers_lead_waits_for_a_second_manager(
    db, make_app, seeded, plan
):
    maria = seeded["users"]["maria"].actor
    lead_id = seeded["due"].lead_id  # ana's lead
    request = ConversionRequest(value="100", split="60/40")
    db.write(lambda s: convert_lead(s, lead_id, request, actor=maria))
    app = make_app("maria")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("dollar_sign")
        await settle(pilot)
        table = app.screen.query_one("#commissions")
        assert [str(table.get_row_at(i)[0]) for i in range(2)] == ["⚑ ana", "⚑ maria"]
        note = str(app.screen.query_one("#row-note").render())
        assert "your conversion of another's lead" in note
        assert app.screen.check_action("approve", ()) is None  # greyed, not hidden
        await pilot.press("a", "A", "down", "a")
        await settle(pilot)
        assert "is your own" in str(app.screen.query_one("#row-note").render())
    assert {c.state for c in _rows(db, Commission)} == {"pending"}


async def test_a_rep_is_refused_the_commission_screen(make_app, seeded):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("dollar_sign")
        await settle(pilot)
        assert isinstance(app.screen, DayViewScreen)
        messages = [n.message for n in app._notifications]
        assert "only managers and admins see commissions" in messages
