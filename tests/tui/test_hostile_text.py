"""Lead data is text, never markup or terminal control, on every screen and modal (issue 10).

One unauthenticated form post named `[/]` used to crash every rep's day view; names such as
`[@click=app.quit]` were live actions; escape sequences reached the terminal. Here hostile
names walk through every screen and modal: nothing crashes, the names read literally, and the
bytes the app would write to the terminal hold no escape but its own colour and cursor codes.
"""

import re
from datetime import timedelta

import pytest
from sqlalchemy import text

from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import FollowUp, Rule
from leadms_tui.domain.sales.commission import add_plan
from leadms_tui.domain.sales.conversion import ConversionRequest, convert_lead
from leadms_tui.domain.work.rules import save_rule
from leadms_tui.screens.commissions import CommissionsScreen
from leadms_tui.screens.day_view import DayViewScreen
from leadms_tui.screens.lead_detail import LeadDetailScreen
from leadms_tui.screens.lead_list import LeadListScreen
from leadms_tui.screens.modals.call_modal import CallModal
from leadms_tui.screens.modals.convert_modal import ConvertModal
from leadms_tui.screens.modals.date_modal import DateModal
from leadms_tui.screens.modals.edit_lead_modal import EditLeadModal
from leadms_tui.screens.modals.followup_modal import FollowUpModal
from leadms_tui.screens.modals.help_modal import HelpModal
from leadms_tui.screens.modals.meeting_modal import MeetingModal
from leadms_tui.screens.settings.rules import RulesScreen
from tests.tui.conftest import NOW, settle

HOSTILE_NAMES = [
    "[/]",
    "X [@click=app.quit]y[/]",
    "[@click=app.screenshot('f.svg','/tmp')]shot[/]",
    "[link=file:///etc/passwd]pw[/link]",
    "Eve \x1b]0;pwned\x07 Title",
    "Clear \x1b[2J me",
    "Clip \x1b]52;c;ZXZpbA==\x07 board",
    "C1 \x9b31m red",
    "Bidi \u202eevil\u202c name",
    "W" * 10_000,
]
# What Textual itself writes: colours and cursor moves (CSI ... letter). Anything else, such as
# an OSC (ESC ]: titles, clipboard, hyperlinks), a bell or a C1 control, came from data.
_OWN_CODES = re.compile(r"\x1b\[[0-9;?<>=]*[A-Za-z]")
_FOREIGN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def terminal_output(app) -> str:
    """What the app would write to the terminal for a full repaint of the current screen."""
    update = app.screen._compositor.render_full_update()
    return update.render_segments(app.console)


def assert_clean(app) -> str:
    """The repaint holds no foreign control code; returns its plain text."""
    out = terminal_output(app)
    plain = _OWN_CODES.sub("", out)
    assert not _FOREIGN.search(plain), repr(_FOREIGN.search(plain))
    return plain


@pytest.fixture
def db_url(sqlite_url):
    """What a screen shows does not depend on the engine (storage: tests/domain/test_text.py)."""
    return sqlite_url


@pytest.fixture
def hostile(db, seeded, frozen_clock):
    """Hostile leads of ana with follow-ups due today; one stored raw, as from an old version."""
    ana = seeded["users"]["ana"]
    ids = []
    for index, name in enumerate(HOSTILE_NAMES):
        result = create_lead(
            db,
            LeadCreate(
                name=name,
                phone=f"07700 90{index:04d}",
                channel="website",
                owner_id=ana.id,
                message=f"hello {name}\x1b[5m",
            ),
            actor=ana.actor,
            now=NOW - timedelta(hours=3),
        )
        ids.append(result.lead_id)

    def followups(session):
        for lead_id in ids:
            session.add(
                FollowUp(
                    lead_id=lead_id,
                    owner_id=ana.id,
                    reason="[b]call[/b] \x1b]0;x\x07",
                    due_at=NOW + timedelta(minutes=30),
                )
            )
        # A name written before names were cleaned: the screens must make it harmless too.
        session.execute(
            text("UPDATE leads SET name = :name WHERE id = :id"),
            {"name": "Raw \x1b]0;old\x07 [/] Name", "id": ids[0]},
        )

    db.write(followups)
    return ids


def test_every_write_path_stores_no_control_character(db, hostile):
    with db.reading() as session:
        rows = session.execute(text("SELECT name FROM leads WHERE id <> :id"), {"id": hostile[0]})
        names = [row.name for row in rows]
        messages = [m for (m,) in session.execute(text("SELECT message FROM inquiries"))]
        reasons = [r for (r,) in session.execute(text("SELECT reason FROM follow_ups"))]
    for value in filter(None, [*names, *messages, *reasons]):
        assert not _FOREIGN.search(value.replace("\n", "").replace("\t", "")), repr(value)
    assert "[@click=app.quit]" in " ".join(names)  # markup is kept, as the literal text it is


async def test_hostile_names_on_every_screen_and_modal(db, make_app, seeded, hostile):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, DayViewScreen)
        plain = assert_clean(app)
        assert "X [@click=app.qu" in plain and "[link=file:///etc" in plain  # (cut to the column)
        followups = app.screen.query_one("#followups")
        names = {str(followups.get_row_at(i)[2]) for i in range(followups.row_count)}
        assert "X [@click=app.quit]y[/]" in names
        assert "Raw \ufffd]0;old\ufffd [/] Name" in names  # stored raw, shown harmless

        modals = [("c", CallModal), ("f", FollowUpModal), ("m", MeetingModal), ("v", ConvertModal)]
        for key, modal in modals:
            for _ in range(followups.row_count):  # each hostile lead's modal in turn
                await pilot.press(key)
                await settle(pilot)
                assert isinstance(app.screen, modal)
                assert_clean(app)
                await pilot.press("escape", "down")
                await settle(pilot)
            await pilot.press("home")

        for lead_id in hostile:
            app.push_screen(LeadDetailScreen(lead_id))
            await settle(pilot)
            assert_clean(app)
            contact = str(app.screen.query_one("#contact").render())
            assert "hello" in contact and "[5m" in contact  # the message, literally
            if lead_id == hostile[0]:
                assert "Raw \ufffd]0;old\ufffd [/] Name" in contact
            await pilot.press("escape")
            await settle(pilot)
        app.push_screen(LeadDetailScreen(hostile[1]))
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, EditLeadModal)
        assert_clean(app)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpModal)
        assert_clean(app)
        await pilot.press("escape", "escape")
        await settle(pilot)

        await pilot.press("slash")  # search for every name, each matching hostile leads
        await settle(pilot)
        assert isinstance(app.screen, LeadListScreen)
        for query in ["[/]", "[", "click", "Eve", "W" * 50, "\u202e"]:
            app.screen.query_one("#search").value = query  # as pasted
            await pilot.pause(0.3)
            await settle(pilot)
            assert isinstance(app.screen, LeadListScreen)
            assert_clean(app)
        assert app.return_code is None  # still running: nothing crashed


async def test_a_manager_walks_the_team_view_and_the_rules(db, make_app, seeded, hostile):
    db.write(
        lambda s: save_rule(
            s,
            Rule(
                name="[/] \x1b]0;rule\x07 [@click=app.quit]q[/]",
                trigger="call_outcome",
                trigger_values=["no_answer"],
                action="notify",
            ),
            actor=SYSTEM,
        )
    )
    maria = seeded["users"]["maria"].actor
    hostile_product = ConversionRequest(value="10", product="[/] \x1b]0;p\x07 [b]Gold")
    db.write(lambda s: add_plan(s, "Standard", currency="USD", rate="10", actor=maria))
    db.write(lambda s: convert_lead(s, hostile[1], hostile_product, actor=maria))
    app = make_app("maria")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "X [@click=app.qu" in assert_clean(app)
        app.push_screen(RulesScreen())
        await settle(pilot)
        assert "[@click=app.quit]q[/]" in assert_clean(app)
        app.push_screen(CommissionsScreen())
        await settle(pilot)
        assert "[/] \ufffd]0;p\ufffd" in assert_clean(app)  # the product, cut to its column
        assert app.return_code is None


async def test_toasts_show_data_literally(make_app, seeded):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.notify("Saved [/] \x1b]0;t\x07 [@click=app.quit]x[/]", title="[b]\x1b[2J")
        await pilot.pause()
        (toast,) = app._notifications
        assert toast.message == "Saved [/] \ufffd]0;t\ufffd [@click=app.quit]x[/]"
        assert not toast.markup
        assert_clean(app)


async def test_a_date_past_the_calendar_is_an_error_not_a_crash(make_app, seeded):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        for typed in ("+99999999", "-99999999", "[/]"):
            await pilot.press("g", "end", *["backspace"] * 12, *typed, "enter")
            await settle(pilot)
            assert isinstance(app.screen, DateModal)
            assert "too far" in str(app.screen.query_one("#date-error").render()) or typed == "[/]"
            await pilot.press("escape")
            await settle(pilot)
        assert isinstance(app.screen, DayViewScreen) and app.return_code is None


async def test_hostile_names_in_duplicates_merge_and_saved_filters(db, make_app, seeded, hostile):
    from leadms_tui.domain.leads.saved_filters import FilterCriteria, save_filter
    from leadms_tui.screens.duplicates import DuplicatesScreen
    from leadms_tui.screens.merge import MergeScreen
    from leadms_tui.screens.modals.saved_filters_modal import SavedFiltersModal

    maria = seeded["users"]["maria"]
    for index, name in enumerate(HOSTILE_NAMES[:4]):  # again, another phone: the same name
        create_lead(db, LeadCreate(name=name, phone=f"07700 91{index:04d}", channel="website"),
                    actor=maria.actor, now=NOW)  # fmt: skip
    criteria = FilterCriteria(text="[/]", fields="notes~\x1b]0;x\x07")
    db.write(lambda s: save_filter(s, "[@click=app.quit]q[/] \x1b]0;f\x07", criteria,
                                   actor=maria.actor))  # fmt: skip
    app = make_app("maria")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("D")
        await settle(pilot)
        assert isinstance(app.screen, DuplicatesScreen)
        assert app.screen.query_one("#pairs").row_count >= 1
        assert "X [@click=app.quit]y[/]" in assert_clean(app)
        await pilot.press("m")
        await settle(pilot)
        assert isinstance(app.screen, MergeScreen)
        assert_clean(app)
        await pilot.press("escape", "escape", "slash", "ctrl+l")
        await settle(pilot)
        assert isinstance(app.screen, SavedFiltersModal)
        assert "[@click=app.quit]q[/]" in assert_clean(app)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, LeadListScreen)
        assert_clean(app)
        assert app.return_code is None
