"""The admin's settings screen (`S`), driven by key presses against real databases."""

from decimal import Decimal

import pytest

from leadms_tui.app import LeadMSApp
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.fields.definitions import add_field, list_fields
from leadms_tui.domain.fields.values import context, set_fields, values_for
from leadms_tui.domain.models import FieldEntity, FieldKind, Role
from leadms_tui.domain.sales.commission import list_plans
from leadms_tui.domain.team.access import sign_in
from leadms_tui.domain.team.settings import load_settings
from leadms_tui.domain.team.users import add_user, get_user
from leadms_tui.domain.work.rules import list_rules
from leadms_tui.screens.modals.rule_modal import RuleModal
from leadms_tui.screens.settings import SettingsScreen
from leadms_tui.screens.settings.fields import FieldModal
from leadms_tui.screens.settings.team import SettingModal
from leadms_tui.screens.settings.users import PasswordModal, UserModal
from tests.tui.conftest import settle


@pytest.fixture
def admin_app(db, seeded):
    admin = db.write(lambda s: add_user(s, "ada", role=Role.ADMIN, actor=SYSTEM, password="secret"))
    return LeadMSApp(db, signed_in=admin)


def _notes(app) -> list[str]:
    return [n.message for n in app._notifications]


def _fields(db, include_retired=False):
    with db.reading() as session:
        return list_fields(session, FieldEntity.LEAD, include_retired=include_retired)


async def _open(app, pilot) -> SettingsScreen:
    await settle(pilot)
    await pilot.press("S")
    await settle(pilot)
    assert isinstance(app.screen, SettingsScreen)
    return app.screen


async def _type(pilot, field: str, text: str) -> None:
    widget = pilot.app.screen.query_one(f"#{field}")
    widget.focus()
    await pilot.pause()
    widget.clear()
    await pilot.press(*text)


def _rows(screen, table_id: str) -> list[list[str]]:
    table = screen.query_one(f"#{table_id}")
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def _preview(screen) -> str:
    return str(screen.query_one("#form-preview").render())


async def test_add_fields_see_them_in_the_preview_move_and_retire(db, admin_app):
    async with admin_app.run_test(size=(120, 40)) as pilot:
        screen = await _open(admin_app, pilot)
        assert _preview(screen) == "no fields yet: a adds one"

        await pilot.press("a")
        await settle(pilot)
        modal = admin_app.screen
        assert isinstance(modal, FieldModal)
        await pilot.press(*"budget", "tab", *"Budget")
        modal.query_one("#field-kind").value = "money"
        await settle(pilot)
        assert "an amount in USD" in str(modal.query_one("#field-preview").render())
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert admin_app.screen is screen
        assert "Field saved: lead budget" in _notes(admin_app)
        (budget,) = _fields(db)
        assert (budget.key, budget.label, budget.kind) == ("budget", "Budget", FieldKind.MONEY)

        await pilot.press("a")
        await settle(pilot)
        modal = admin_app.screen
        await pilot.press(*"plan")
        modal.query_one("#field-kind").value = "choice"
        await settle(pilot)  # the options field opens for choice types
        await _type(pilot, "field-options", "Gold, Silver")
        await _type(pilot, "field-help", "What they signed up for")
        await _type(pilot, "field-section", "Sale")
        modal.query_one("#field-required").focus()
        await pilot.press("space")
        await _type(pilot, "field-default", "Platinum")
        await settle(pilot)
        assert "The default: 'Platinum' is not one of" in str(
            modal.query_one("#field-preview").render()
        )
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert admin_app.screen is modal  # the domain said no: shown under the form
        assert "not one of" in str(modal.query_one("#form-error").render())
        await _type(pilot, "field-default", "gold")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert admin_app.screen is screen
        preview = _preview(screen).splitlines()
        assert preview == [
            "Details",
            "Budget",
            "  ▏an amount in USD",
            "",
            "Sale",
            "Plan *",
            "  ▏one of Gold / Silver (default Gold)",
            "  What they signed up for",
        ]
        assert screen.query_one("#fields").cursor_row == 1  # on the new field

        await pilot.press("K")  # plan first
        await settle(pilot)
        assert [f.key for f in _fields(db)] == ["plan", "budget"]
        assert screen.query_one("#fields").cursor_row == 0
        assert _preview(screen).splitlines()[:2] == ["Sale", "Plan *"]

        await pilot.press("j", "k", "x")  # j/k move here as in every list
        await settle(pilot)
        assert [f.key for f in _fields(db)] == ["budget"]
        assert "Field 'Plan' retired: x restores it" in _notes(admin_app)
        assert [(r[0], r[1], r[3]) for r in _rows(screen, "fields")] == [
            ("1", "budget", "money"),
            ("-", "plan", "choice (retired)"),
        ]
        assert "Plan" not in _preview(screen)
        assert screen.query_one("#fields").cursor_row == 1  # the cursor stays on it
    plan = next(f for f in _fields(db, include_retired=True) if f.key == "plan")
    assert (plan.active, plan.required, plan.options, plan.default) == (
        False,
        True,
        ["Gold", "Silver"],
        "Gold",
    )
    assert (plan.help_text, plan.section) == ("What they signed up for", "Sale")


async def test_a_type_change_that_would_lose_values_is_refused(db, admin_app, seeded):
    def define(session):
        add_field(session, FieldEntity.LEAD, "budget", FieldKind.TEXT, actor=SYSTEM,
                  ctx=context(session))  # fmt: skip
        set_fields(session, FieldEntity.LEAD, seeded["due"].lead_id, {"budget": "soon"},
                   actor=SYSTEM)  # fmt: skip

    db.write(define)
    async with admin_app.run_test(size=(120, 40)) as pilot:
        screen = await _open(admin_app, pilot)
        await pilot.press("]", "[")  # clients, then back to leads
        await settle(pilot)
        assert _rows(screen, "fields")[0][1] == "budget"
        await pilot.press("e")
        await settle(pilot)
        modal = admin_app.screen
        assert isinstance(modal, FieldModal) and modal.query_one("#field-key").disabled
        modal.query_one("#field-kind").value = "integer"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert admin_app.screen is modal
        error = str(modal.query_one("#form-error").render())
        assert error.startswith("1 value(s) would not convert to integer: 'soon'")
        await pilot.press("escape")
        await settle(pilot)
        assert admin_app.screen is screen
    (budget,) = _fields(db)
    assert budget.kind == FieldKind.TEXT
    with db.reading() as session:
        shown = values_for(session, FieldEntity.LEAD, [seeded["due"].lead_id])
    assert shown[seeded["due"].lead_id][0].text == "soon"


async def test_other_entities_have_their_own_fields(db, admin_app):
    async with admin_app.run_test(size=(120, 40)) as pilot:
        screen = await _open(admin_app, pilot)
        await pilot.press("]", "]")  # meetings
        await settle(pilot)
        assert screen.query_one("#field-entity").value == "meeting"
        await pilot.press("a")
        await settle(pilot)
        await pilot.press(*"room", "ctrl+s")
        await settle(pilot)
        assert _rows(screen, "fields")[0][1] == "room"
        assert "Form preview: meeting" in str(screen.query_one("#form-preview-box").border_title)
    with db.reading() as session:
        assert [f.key for f in list_fields(session, FieldEntity.MEETING)] == ["room"]
        assert list_fields(session, FieldEntity.LEAD) == []


async def test_users_tab_changes_capacity_and_password(db, admin_app):
    async with admin_app.run_test(size=(120, 40)) as pilot:
        screen = await _open(admin_app, pilot)
        await pilot.press("2")
        await settle(pilot)
        assert [row[0] for row in _rows(screen, "users")] == ["ada", "maria", "ana", "bruno"]
        await pilot.press("down", "down", "e")
        await settle(pilot)
        modal = admin_app.screen
        assert isinstance(modal, UserModal)
        await pilot.press("tab", "tab", *"40", "tab", *"en,es", "ctrl+s")
        await settle(pilot)
        assert admin_app.screen is screen
        assert _rows(screen, "users")[2][:6] == ["ana", "Ana", "rep", "yes", "40", "en,es"]
        assert screen.query_one("#users").cursor_row == 2

        await pilot.press("p")
        await settle(pilot)
        modal = admin_app.screen
        assert isinstance(modal, PasswordModal)
        await pilot.press(*"violet-harbour-42", "enter", *"violet-harbour-43", "enter")
        await settle(pilot)
        assert str(modal.query_one("#form-error").render()) == "The two passwords differ"
        await _type(pilot, "password-again", "violet-harbour-42")
        await pilot.press("enter")
        await settle(pilot)
        assert admin_app.screen is screen
        assert "Password of ana changed" in _notes(admin_app)
    with db.reading() as session:
        ana = get_user(session, "ana")
    assert (ana.capacity, ana.languages) == (40, ["en", "es"])
    assert db.write(lambda s: sign_in(s, "ana", "violet-harbour-42", terminal="t")).user


async def test_users_tab_keeps_the_last_admin_and_adds_a_user(db, admin_app):
    async with admin_app.run_test(size=(120, 40)) as pilot:
        screen = await _open(admin_app, pilot)
        await pilot.press("2", "e")  # ada, the only admin
        await settle(pilot)
        modal = admin_app.screen
        modal.query_one("#user-active").value = False
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert admin_app.screen is modal
        error = str(modal.query_one("#form-error").render())
        assert error == "ada is the last active admin: make another admin first"
        await pilot.press("escape", "a")
        await settle(pilot)
        await pilot.press(*"carla", "tab", *"Carla Díaz", "tab", "tab", *"carla", "ctrl+s")
        await settle(pilot)
        error = str(admin_app.screen.query_one("#form-error").render())
        assert error == "a password needs at least 10 characters"
        await _type(pilot, "user-password", "silver birch 77")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert admin_app.screen is screen
        assert screen.query_one("#users").cursor_row == 4  # on carla, after the other reps
    with db.reading() as session:
        carla = get_user(session, "carla")
        assert get_user(session, "ada").active
    assert (carla.display_name, carla.role) == ("Carla Díaz", Role.REP)


async def test_team_tab_sets_the_currency_and_shows_a_bad_timezone_inline(db, admin_app):
    async with admin_app.run_test(size=(120, 40)) as pilot:
        screen = await _open(admin_app, pilot)
        await pilot.press("3")
        await settle(pilot)
        keys = [row[0] for row in _rows(screen, "team")]
        assert keys[:2] == ["timezone", "phone_region"] and "currency" in keys
        await pilot.press(*["down"] * keys.index("currency"), "enter")
        await settle(pilot)
        assert isinstance(admin_app.screen, SettingModal)
        await pilot.press(*"eur", "enter")
        await settle(pilot)
        assert admin_app.screen is screen
        assert _rows(screen, "team")[keys.index("currency")][1] == "EUR"
        assert admin_app.settings.currency == "EUR"

        await pilot.press("ctrl+home", "e")
        await settle(pilot)
        modal = admin_app.screen
        await pilot.press(*"Mars/Olympus", "enter")
        await settle(pilot)
        assert admin_app.screen is modal
        error = str(modal.query_one("#form-error").render())
        assert error.startswith("unknown timezone 'Mars/Olympus': use an IANA name")
        await pilot.press("escape")
        await settle(pilot)
        assert admin_app.screen is screen
    with db.reading() as session:
        settings = load_settings(session)
    assert (settings.currency, settings.timezone) == ("EUR", "Europe/London")


async def test_team_tab_sets_the_holiday_region_and_the_day_view_names_the_holiday(db, admin_app):
    """An unknown region is refused in the form with the reason; a known one closes its
    holidays, which the day view names (Wednesday 25 Nov 2026: Thanksgiving is tomorrow)."""
    async with admin_app.run_test(size=(120, 40)) as pilot:
        day_view = admin_app.screen
        screen = await _open(admin_app, pilot)
        await pilot.press("3")
        await settle(pilot)
        keys = [row[0] for row in _rows(screen, "team")]
        await pilot.press(*["down"] * keys.index("holiday_region"), "enter")
        await settle(pilot)
        modal = admin_app.screen
        assert isinstance(modal, SettingModal)
        await pilot.press(*"US-XX", "enter")
        await settle(pilot)
        assert admin_app.screen is modal
        error = str(modal.query_one("#form-error").render())
        assert error.startswith("unknown holiday region 'US-XX': US's subdivisions are AK, AL")
        await pilot.press(*["backspace"] * 3, "enter")  # "US": the federal holidays
        await settle(pilot)
        assert admin_app.screen is screen
        assert _rows(screen, "team")[keys.index("holiday_region")][1] == "US"
        assert admin_app.settings.holiday_region == "US"
        await pilot.press("escape")
        await settle(pilot)
        assert admin_app.screen is day_view
        title = day_view.query_one("#day-title")
        assert "closed" not in str(title.render())
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert "(+1 day) · closed: Thanksgiving Day" in str(title.render())


async def test_rules_onboarding_and_commission_tabs(db, admin_app):
    async with admin_app.run_test(size=(120, 40)) as pilot:
        screen = await _open(admin_app, pilot)
        await pilot.press("4")
        await settle(pilot)
        assert screen.query_one("#rules").row_count == 6 and screen.query_one("#rules").has_focus
        await pilot.press("down", "space")
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(admin_app.screen, RuleModal)
        await pilot.press("escape", "5")
        await settle(pilot)
        assert screen.query_one("#steps").has_focus
        assert _rows(screen, "steps")[0][2] == "Welcome call"

        await pilot.press("6")
        await settle(pilot)
        assert "none yet" in str(screen.query_one("#plans").border_title)
        await pilot.press("a")
        await settle(pilot)
        await pilot.press(*"Standard", "tab", "tab", *"7.5", "tab", *"300", "ctrl+s")
        await settle(pilot)
        assert admin_app.screen is screen
        assert _rows(screen, "plans") == [
            ["Standard", "7.5% of the value, capped at 300.00 USD", "any product", "★ default"]
        ]
    with db.reading() as session:
        assert [rule.enabled for rule in list_rules(session=session)][:2] == [True, False]
        (plan,) = list_plans(session)
    assert (plan.name, plan.rate, plan.cap, plan.is_default) == (
        "Standard",
        Decimal("7.5"),
        Decimal(300),
        True,
    )


async def test_escape_warns_about_unsaved_onboarding_steps(db, admin_app):
    async with admin_app.run_test(size=(120, 40)) as pilot:
        screen = await _open(admin_app, pilot)
        await pilot.press("5", "x", "1", "escape")  # a step removed, unsaved; then Fields
        await settle(pilot)
        assert admin_app.screen is screen
        assert "Unsaved changes in Standard" in _notes(admin_app)[-1]
        assert screen.tab == "onboarding-tab"  # where the unsaved changes are
        assert "Unsaved changes" in str(screen.query_one("#onboarding-error").render())
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(admin_app.screen, SettingsScreen)


async def test_a_click_on_a_tab_shows_it_and_its_keys_work(db, admin_app):
    async with admin_app.run_test(size=(120, 40)) as pilot:
        screen = await _open(admin_app, pilot)
        await pilot.click("#--content-tab-team-tab")
        await settle(pilot)
        assert screen.tab == "team-tab" and screen.query_one("#team").has_focus
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(admin_app.screen, SettingModal)


async def test_a_rep_is_refused(make_app):
    app = make_app("ana")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("S")
        await settle(pilot)
        assert not isinstance(app.screen, SettingsScreen)
        assert "only admins open settings" in _notes(app)


def _user_row(db, username: str):
    from sqlmodel import select

    from leadms_tui.domain.models import User

    with db.reading() as session:
        return session.exec(select(User).where(User.username == username)).one()


async def test_users_tab_sets_a_rep_away_with_channels(db, admin_app):
    from datetime import UTC, datetime

    from leadms_tui.domain.models import Availability

    async with admin_app.run_test(size=(120, 40)) as pilot:
        screen = await _open(admin_app, pilot)
        await pilot.press("2")
        await settle(pilot)
        assert _rows(screen, "users")[2][6:] == ["available", "all", "team"]
        await pilot.press("down", "down", "e")  # ana
        await settle(pilot)
        modal = admin_app.screen
        assert isinstance(modal, UserModal)
        assert modal.query_one("#user-away-until").disabled  # only when away
        await pilot.press("tab", "tab", "tab", "tab", *"whatsapp")  # name, role, capacity, ...
        await pilot.press("tab", "enter", "down", "enter")  # availability: available → away
        await settle(pilot)
        assert modal.query_one("#user-availability").value == "away"
        assert not modal.query_one("#user-away-until").disabled
        await pilot.press("ctrl+s")  # away, but until when?
        await settle(pilot)
        assert admin_app.screen is modal
        assert str(modal.query_one("#form-error").render()).startswith("Away until when?")
        assert modal.query_one("#user-away-until").has_focus
        await pilot.press(*"fri 09:00", "ctrl+s")
        await settle(pilot)
        assert admin_app.screen is screen
        assert "User saved: ana" in _notes(admin_app)
        assert _rows(screen, "users")[2][6:] == ["away until Fri 27 Nov 09:00", "whatsapp", "team"]
    ana = _user_row(db, "ana")
    assert (ana.availability, ana.channels, ana.working_hours) == (
        Availability.AWAY,
        "whatsapp",
        "",
    )
    until = ana.away_until if ana.away_until.tzinfo else ana.away_until.replace(tzinfo=UTC)
    assert until == datetime(2026, 11, 27, 9, 0, tzinfo=UTC)  # London is on GMT in November


async def test_users_tab_shows_bad_working_hours_in_the_form_and_saves_nothing(db, admin_app):
    async with admin_app.run_test(size=(120, 40)) as pilot:
        screen = await _open(admin_app, pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("down", "down", "e")  # ana
        await settle(pilot)
        modal = admin_app.screen
        assert isinstance(modal, UserModal)
        await pilot.press("tab", "tab", *"40", "tab", "tab", *"website")  # capacity, channels
        await pilot.press("tab", "tab", *"25:00-26:00", "ctrl+s")  # availability, hours
        await settle(pilot)
        assert admin_app.screen is modal
        assert modal.query_one("#user-hours").value == "25:00-26:00"
        error = str(modal.query_one("#form-error").render())
        assert error.startswith("working hours '25:00-26:00'")
        await pilot.press("escape")
        await settle(pilot)
        assert admin_app.screen is screen
        assert _rows(screen, "users")[2][4:] == ["25", "—", "available", "all", "team"]
    ana = _user_row(db, "ana")
    assert (ana.capacity, ana.channels, ana.working_hours) == (25, "", "")
