"""Snapshots of the main screens at 80x24 and 120x40 (update with --snapshot-update)."""

import pytest

from leadms_tui.app import LeadMSApp
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.models import Role
from leadms_tui.domain.team.users import add_user
from leadms_tui.screens.lead_detail import LeadDetailScreen
from leadms_tui.screens.settings.rules import RulesScreen
from tests.tui.conftest import settle

SIZES = [(80, 24), (120, 40)]


@pytest.fixture
def db_url(sqlite_url):
    """Snapshots are about the screen, not the engine: SQLite only."""
    return sqlite_url


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_login(snap_compare, db, seeded, size):
    async def ready(pilot):
        await settle(pilot)

    assert snap_compare(LeadMSApp(db, username="ana"), terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_day_view(snap_compare, make_app, size):
    async def ready(pilot):
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_call_modal(snap_compare, make_app, size):
    async def ready(pilot):
        await settle(pilot)
        await pilot.press("c", "n")
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_lead_detail(snap_compare, make_app, seeded, size):
    async def ready(pilot):
        await settle(pilot)
        await pilot.press("c", "b", "enter")
        await settle(pilot)
        pilot.app.push_screen(LeadDetailScreen(seeded["due"].lead_id))
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=size, run_before=ready)


def _steps(*steps):
    """A `run_before` that settles, then for each step presses keys or calls a function."""

    async def ready(pilot):
        await settle(pilot)
        for step in steps:
            if callable(step):
                step(pilot.app)
            else:
                await pilot.press(*step)
            await settle(pilot)

    return ready


EVERY_SCREEN = {
    "followup_modal": (["f"],),
    "followup_error": (["f"], ["end", *["backspace"] * 16, *"2026-13-45 25:00", "ctrl+s"]),
    "meeting_modal": (lambda app: app.screen.query_one("#new-leads").focus(), ["m"]),
    "meeting_error": (
        lambda app: app.screen.query_one("#new-leads").focus(),
        ["m"],
        ["tab", "end", *["backspace"] * 16, *"tomorrow-ish", "ctrl+s"],
    ),
    "new_lead_error": (["n"], ["ctrl+s"]),
    "edit_lead": (["enter"], ["e"]),
    "lead_list": (["slash"], [*"07700"], lambda app: None),
    "help": (["f1"],),
    "date_error": (["g"], ["end", *["backspace"] * 10, *"someday", "enter"]),
    "call_modal_error": (["c"], ["enter"]),
    "inbox": (["i"],),
    "meeting_outcome_early": (
        lambda app: app.screen.query_one("#new-leads").focus(),
        ["m"],
        ["ctrl+s"],
        ["right_square_bracket"],
        lambda app: app.screen.query_one("#meetings").focus(),
        ["o"],
        ["h"],
    ),
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("name", EVERY_SCREEN)
def test_every_screen_and_modal(snap_compare, make_app, name, size):
    ready = _steps(*EVERY_SCREEN[name])
    assert snap_compare(make_app(), terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("then", [(), (["a"], ["ctrl+s"])], ids=["rules", "rule_modal_error"])
def test_manager_day_and_rules(snap_compare, db, seeded, size, then):
    admin = db.write(lambda s: add_user(s, "ada", role=Role.ADMIN, actor=SYSTEM))
    ready = _steps(lambda app: app.push_screen(RulesScreen()), *then)
    assert snap_compare(LeadMSApp(db, signed_in=admin), terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize(
    "then", [(), (["a"],)], ids=["onboarding_templates", "onboarding_step_modal"]
)
def test_onboarding_templates(snap_compare, db, seeded, size, then):
    admin = db.write(lambda s: add_user(s, "ada", role=Role.ADMIN, actor=SYSTEM))
    ready = _steps(["O"], *then)
    assert snap_compare(LeadMSApp(db, signed_in=admin), terminal_size=size, run_before=ready)


def test_day_view_and_call_modal_in_the_light_theme(snap_compare, make_app):
    """Every text stays readable in Textual's light theme too."""

    def light(app):
        app.theme = "textual-light"

    ready = _steps(light, ["c", "n"])
    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=ready)


CLIENT_SCREENS = {
    "day_onboarding": (),
    "client_list": (["C"],),
    "client_detail": (["C"], [*"dora", "enter"]),
    "client_status": (["C"], [*"dora", "enter"], ["s"]),
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("name", CLIENT_SCREENS)
def test_client_screens(snap_compare, db, make_app, seeded, name, size):
    """Dora was sold on Monday (10% plan): Monday's welcome call is missed, today's is due."""
    from datetime import timedelta

    from leadms_tui.domain.sales import commission, onboarding
    from leadms_tui.domain.sales.conversion import ConversionRequest, convert_lead
    from tests.tui.conftest import NOW

    maria, ana = seeded["users"]["maria"].actor, seeded["users"]["ana"].actor
    monday = NOW - timedelta(days=2, hours=-1)

    def sell(session):
        commission.add_plan(session, "Standard", currency="USD", rate="10", actor=maria)
        request = ConversionRequest(value="1250", product="Gold")
        convert_lead(session, seeded["due"].lead_id, request, actor=ana, now=monday)
        onboarding.mark_missed_tasks(session, NOW.date(), NOW)

    db.write(sell)
    ready = _steps(*CLIENT_SCREENS[name])
    assert snap_compare(make_app(), terminal_size=size, run_before=ready)


SALES_SCREENS = {  # (user, steps): the conversion modal with a preview, and payroll's month
    "convert_modal": ("ana", (["v"], [*"1234.50"])),
    "convert_error": ("ana", (["v"], [*"12.345"], ["ctrl+s"])),
    "commissions": ("maria", (["dollar_sign"],)),
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("name", SALES_SCREENS)
def test_sales_screens(snap_compare, db, make_app, seeded, name, size):
    """A 7.5% plan; Otto (bruno's) and Nina (ana's, 60/40 with maria) sold, one approved."""
    from leadms_tui.domain.models import CommissionState
    from leadms_tui.domain.sales import commission
    from leadms_tui.domain.sales.conversion import ConversionRequest, convert_lead

    users = seeded["users"]
    maria = users["maria"].actor

    def sell(session):
        commission.add_plan(session, "Standard", currency="USD", rate="7.5", actor=maria)
        otto = ConversionRequest(value="2400", product="Gold")
        convert_lead(session, seeded["other"].lead_id, otto, actor=users["bruno"].actor)
        nina = ConversionRequest(value="1234.50", product="Silver", split="60/40")
        convert_lead(session, seeded["fresh"].lead_id, nina, actor=maria)
        commission.move_commissions(session, [1], CommissionState.APPROVED, actor=maria)  # bruno's

    db.write(sell)
    user, steps = SALES_SCREENS[name]
    ready = _steps(*steps)
    assert snap_compare(make_app(user), terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_assign_modal(snap_compare, db, make_app, seeded, size):
    """Maria's day: Pia (Spanish, nobody's) first; bruno speaks Spanish, carla is off."""
    from datetime import timedelta

    from sqlalchemy import update

    from leadms_tui.domain.leads.intake import LeadCreate, create_lead
    from leadms_tui.domain.models import User
    from tests.tui.conftest import NOW

    def team(session):
        add_user(session, "carla", role=Role.REP, actor=SYSTEM)
        session.flush()
        session.execute(update(User).where(User.username == "carla").values(availability="off"))
        session.execute(update(User).where(User.username == "bruno").values(languages="es"))

    db.write(team)
    message = "Hola, quisiera saber el precio de sus servicios para mi empresa, gracias"
    pia = LeadCreate(name="Pia Pending", phone="07700 900444", channel="whatsapp", message=message)
    create_lead(db, pia, actor=seeded["users"]["maria"].actor, now=NOW - timedelta(minutes=30))
    ready = _steps(["tab"], ["a"])
    assert snap_compare(make_app("maria"), terminal_size=size, run_before=ready)


FIELD_SCREENS = {  # Dora has lead fields (and a photo); sold, her client has client fields
    "lead_detail_fields": (lambda app: app.push_screen(LeadDetailScreen(1)),),
    "edit_lead_fields": (lambda app: app.push_screen(LeadDetailScreen(1)), ["e"]),
    "client_detail_fields": (["C"], [*"dora", "enter"]),
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("name", FIELD_SCREENS)
def test_field_screens(snap_compare, db, make_app, seeded, name, size):
    from leadms_tui.domain.fields.values import set_fields
    from leadms_tui.domain.models import FieldEntity, FieldKind
    from leadms_tui.domain.queries.sales import client_id_by_number
    from leadms_tui.domain.sales.conversion import ConversionRequest, convert_lead
    from tests.tui.test_field_flows import LEAD_FIELDS, attach, define, png, set_values

    dora = seeded["due"].lead_id
    times = ("times", FieldKind.MULTI_CHOICE, "Preferred times", ["Mornings", "Evenings"], False)
    define(db, FieldEntity.LEAD, [*LEAD_FIELDS, times])
    define(
        db,
        FieldEntity.CLIENT,
        [
            ("membership", FieldKind.CHOICE, "Membership", ["Standard", "Premium"], True),
            ("renewal", FieldKind.DATE, "Renewal date", [], False),
        ],
    )
    values = {"goal": "Strength", "budget": "1250", "times": "Mornings, Evenings"}
    set_values(db, FieldEntity.LEAD, dora, values)
    attach(db, FieldEntity.LEAD, dora, "photo", png("teal"), "front.png")
    if name == "client_detail_fields":

        def sell(session):
            ana = seeded["users"]["ana"].actor
            convert_lead(session, dora, ConversionRequest(value="1250", product="Gold"), actor=ana)
            client_id = client_id_by_number(session=session, number="CL-000001")
            raw = {"membership": "Premium", "renewal": "2027-11-25"}
            set_fields(session, FieldEntity.CLIENT, client_id, raw, actor=SYSTEM)

        db.write(sell)
    ready = _steps(*FIELD_SCREENS[name])
    assert snap_compare(make_app(), terminal_size=size, run_before=ready)


SETTINGS_TABS = {"settings_fields": (), "settings_users": (["2"],)}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("name", SETTINGS_TABS)
def test_settings_screen(snap_compare, db, seeded, name, size):
    """`S` as an admin: the Fields tab with three lead fields (one retired), the Users tab."""
    from leadms_tui.domain.fields.definitions import add_field, retire_field
    from leadms_tui.domain.fields.values import context
    from leadms_tui.domain.models import FieldEntity, FieldKind
    from tests.tui.conftest import NOW

    def define(session):
        ctx, lead = context(session), FieldEntity.LEAD
        add_field(session, lead, "budget", FieldKind.MONEY, required=True, actor=SYSTEM, ctx=ctx,
                  help_text="What they can spend this year")  # fmt: skip
        add_field(session, lead, "plan", FieldKind.CHOICE, options=["Gold", "Silver"],
                  default="Gold", section="Sale", actor=SYSTEM, ctx=ctx)  # fmt: skip
        add_field(session, lead, "visit", FieldKind.DATE, actor=SYSTEM, ctx=ctx)
        retire_field(session, lead, "visit", actor=SYSTEM, now=NOW)
        return add_user(session, "ada", role=Role.ADMIN, actor=SYSTEM, display_name="Ada")

    admin = db.write(define)
    ready = _steps(["S"], *SETTINGS_TABS[name])
    assert snap_compare(LeadMSApp(db, signed_in=admin), terminal_size=size, run_before=ready)


REPORT_SCREENS = {  # maria's team this week (calls chart); bruno drilled into, responses chart
    "reports_team": (["R"],),
    "reports_rep": (["R"], ["j", "enter"], ["2"]),
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("name", REPORT_SCREENS)
def test_reports_screens(snap_compare, db, make_app, seeded, name, size):
    from tests.tui.test_reports_screen import seed_activity

    seed_activity(db, seeded)
    ready = _steps(*REPORT_SCREENS[name])
    assert snap_compare(make_app("maria"), terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_first_run(snap_compare, db, monkeypatch, size):
    """An empty database: its first admin and the team's basics (the zone detected from TZ)."""
    monkeypatch.setenv("TZ", "Europe/Lisbon")
    assert snap_compare(LeadMSApp(db), terminal_size=size, run_before=_steps())


WIDE_VALUE_SCREENS = {  # issue 24: a Brazilian mobile, a 4-digit day sequence, long reasons
    "manager_day_view": ("maria", ()),
    "manager_lead_list": ("maria", (["slash"],)),
    "rep_day_view_wide_values": ("ana", ()),
    "manager_help": ("maria", (["f1"],)),
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("name", WIDE_VALUE_SCREENS)
def test_wide_values(snap_compare, db, make_app, seeded, name, size):
    """Phones, lead numbers and reps whole at 80x24 and 120x40; what gives way, by priority."""
    from tests.tui.test_layout_widths import _add_wide_leads

    _add_wide_leads(db, seeded)
    who, steps = WIDE_VALUE_SCREENS[name]
    assert snap_compare(make_app(who), terminal_size=size, run_before=_steps(*steps))
