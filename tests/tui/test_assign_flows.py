"""Assigning a lead (`a`): ranked suggestions, a manager's enter, a rep's read-only look."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import AuditEvent, Lead, Notification, User
from leadms_tui.screens.day_view import DayViewScreen
from leadms_tui.screens.lead_detail import LeadDetailScreen
from leadms_tui.screens.lead_list import LeadListScreen
from leadms_tui.screens.modals.assign_modal import ONLY_MANAGERS, AssignModal
from tests.tui.conftest import NOW, settle

SPANISH = "Hola, quisiera saber el precio de sus servicios para mi empresa, gracias"


def _rows(db, model, **where):
    with db.reading() as session:
        return session.execute(select(model).filter_by(**where)).scalars().all()


@pytest.fixture
def pia(db, seeded):
    """A new lead nobody owns, the newest of the day (oldest-first would show it last)."""
    data = LeadCreate(name="Pia Pending", phone="07700 900444", channel="whatsapp", message=SPANISH)
    return create_lead(
        db, data, actor=seeded["users"]["maria"].actor, now=NOW - timedelta(minutes=30)
    )


def _table(app):
    table = app.screen.query_one("#assign-reps")
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def _text(app, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


def _assignments(db, lead_id):
    return _rows(db, AuditEvent, action="lead.assign", entity_id=str(lead_id))


async def _cursor_to(pilot, table, row_key: str) -> None:
    """`j` down the list to the row (new leads are ordered by their response clocks)."""
    for _ in range(table.row_count):
        if table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value == row_key:
            return
        await pilot.press("j")
        await settle(pilot)
    raise AssertionError(f"no row {row_key}")


async def test_a_manager_assigns_the_top_rep_from_the_day_view(db, make_app, seeded, pia):
    bruno = seeded["users"]["bruno"]
    app = make_app("maria")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("tab")  # from the follow-ups to the new leads
        new_leads = app.screen.query_one("#new-leads")
        assert app.screen.focused is new_leads
        await _cursor_to(pilot, new_leads, f"l{pia.lead_id}")  # the newest: most time left
        first = [str(cell) for cell in new_leads.get_row_at(new_leads.cursor_row)]
        assert first[1:3] == [pia.number, "Pia Pending"] and first[-1] == "unassigned"
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, AssignModal)
        assert "Language: es" in _text(app, "#assign-about")
        assert "Owner: unassigned" in _text(app, "#assign-about")
        rows = _table(app)
        assert [row[:2] for row in rows] == [["1", "bruno"], ["2", "ana"]]
        assert rows[0][2].endswith("%") and rows[0][3]  # a score and a reason
        detail = _text(app, "#assign-detail")
        assert detail.startswith("bruno")
        workload = next(line for line in detail.splitlines() if line.startswith("workload"))
        assert " x " in workload and " = " in workload and "█" in workload
        assert "1/25 open, 0 due today, 0 overdue" in detail  # the signal's why
        await pilot.press("j")  # the detail follows the cursor
        await settle(pilot)
        assert _text(app, "#assign-detail").startswith("ana")
        assert "1 due today" in _text(app, "#assign-detail")
        await pilot.press("k", "enter")
        await settle(pilot)
        assert isinstance(app.screen, DayViewScreen)
        assert f"{pia.number} assigned to bruno" in [n.message for n in app._notifications]
        row = [
            str(cell) for cell in new_leads.get_row_at(new_leads.get_row_index(f"l{pia.lead_id}"))
        ]
        assert row[-1] == "bruno"  # reloaded
    (lead,) = _rows(db, Lead, id=pia.lead_id)
    assert lead.owner_id == bruno.id
    (event,) = _assignments(db, pia.lead_id)
    assert (event.actor, event.changes["owner"]) == ("maria", [None, "bruno"])
    assert set(event.changes["signals"][1]) == {"workload", "performance", "fit", "fairness"}
    (note,) = _rows(db, Notification, user_id=bruno.id, lead_id=pia.lead_id)
    assert "was assigned to you" in note.message


async def test_a_rep_sees_the_suggestions_but_does_not_assign(db, make_app, seeded, pia):
    app = make_app()  # ana
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("tab", "down")  # Nina (ana's), then Pia (nobody's): oldest first
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, AssignModal)
        shown = [str(label.render()) for label in app.screen.query("Label")]
        assert any(line.startswith(ONLY_MANAGERS) for line in shown)
        assert [row[1] for row in _table(app)] == ["bruno", "ana"]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AssignModal)  # stays: nothing to wait for
        assert f"{ONLY_MANAGERS}: ask your manager" in [n.message for n in app._notifications]
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DayViewScreen)
    (lead,) = _rows(db, Lead, id=pia.lead_id)
    assert lead.owner_id is None
    assert _assignments(db, pia.lead_id) == []


async def test_an_excluded_rep_takes_a_second_enter(db, make_app, seeded, pia):
    db.write(
        lambda s: s.execute(update(User).where(User.username == "bruno").values(availability="off"))
    )
    bruno = seeded["users"]["bruno"]
    app = make_app("maria")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("tab")
        await _cursor_to(pilot, app.screen.query_one("#new-leads"), f"l{pia.lead_id}")
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, AssignModal)
        assert _table(app) == [_table(app)[0], ["—", "bruno", "—", "off"]]
        assert _table(app)[0][1] == "ana"
        await pilot.press("down")
        await settle(pilot)
        assert _text(app, "#assign-detail").startswith("bruno is excluded: off")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AssignModal)
        assert _text(app, "#assign-status") == "bruno is off — assign anyway? enter confirms"
        assert _assignments(db, pia.lead_id) == []
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DayViewScreen)
        assert f"{pia.number} assigned to bruno" in [n.message for n in app._notifications]
    (lead,) = _rows(db, Lead, id=pia.lead_id)
    assert lead.owner_id == bruno.id
    (event,) = _assignments(db, pia.lead_id)
    assert event.changes["owner"] == [None, "bruno"] and "score" not in event.changes  # unscored


async def test_moving_off_an_excluded_rep_forgets_the_confirmation(db, make_app, seeded, pia):
    db.write(
        lambda s: s.execute(update(User).where(User.username == "bruno").values(availability="off"))
    )
    app = make_app("maria")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("tab", "a")
        await settle(pilot)
        await pilot.press("down", "enter", "up", "down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, AssignModal)  # asked again, not assigned
        assert "assign anyway?" in _text(app, "#assign-status")
        await pilot.press("escape")
        await settle(pilot)
    assert _assignments(db, pia.lead_id) == []


async def test_assign_from_the_lead_detail_and_the_lead_list(db, make_app, seeded, pia):
    app = make_app("maria")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.push_screen(LeadDetailScreen(pia.lead_id))
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, AssignModal) and app.screen.lead_id == pia.lead_id
        await pilot.press("escape", "escape")
        await settle(pilot)
        assert isinstance(app.screen, DayViewScreen)
        await pilot.press("slash")
        await settle(pilot)
        assert isinstance(app.screen, LeadListScreen)
        await pilot.press(*"07700 900444")
        await pilot.pause(0.3)
        await settle(pilot)
        await pilot.press("down", "a")  # to the results, then assign
        await settle(pilot)
        assert isinstance(app.screen, AssignModal) and app.screen.lead_id == pia.lead_id
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, LeadListScreen)
    assert _assignments(db, pia.lead_id) == []


async def test_assign_is_greyed_out_without_a_lead(make_app):
    app = make_app("maria")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.screen.query_one("#meetings").focus()  # no meetings today
        await settle(pilot)
        assert app.screen.check_action("assign", ()) is None
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, DayViewScreen)
