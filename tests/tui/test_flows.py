"""The operator flows, driven by key presses against real databases."""

from datetime import timedelta

from sqlalchemy import select
from textual.widgets._footer import FooterKey

from leadms_tui.app import LeadMSApp
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.leads.edits import LeadUpdate, update_lead
from leadms_tui.domain.models import Call, FollowUp, Lead
from leadms_tui.domain.queries.lead_detail import load_lead_detail
from leadms_tui.domain.team.settings import set_setting
from leadms_tui.screens.day_view import DayViewScreen
from leadms_tui.screens.lead_detail import LeadDetailScreen
from leadms_tui.screens.lead_list import LeadListScreen
from leadms_tui.screens.login import LoginScreen
from leadms_tui.screens.modals.call_modal import CallModal
from leadms_tui.screens.modals.help_modal import HelpModal
from leadms_tui.widgets.key_footer import KeyFooter
from tests.tui.conftest import NOW, settle


def _rows(db, model, **where):
    with db.reading() as session:
        return session.execute(select(model).filter_by(**where)).scalars().all()


async def test_sign_in_wrong_then_right_password(db, seeded):
    app = LeadMSApp(db, username="ana")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        await pilot.press(*"nope", "enter")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert "wrong password" in str(app.screen.query_one("#login-error").render())
        await pilot.press(*"secret", "enter")
        await settle(pilot)
        assert isinstance(app.screen, DayViewScreen)
        assert app.sub_title.startswith("Ana (rep) · ")


async def test_day_view_shows_the_reps_own_day(make_app, seeded):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        followups = screen.query_one("#followups")
        new_leads = screen.query_one("#new-leads")
        assert followups.row_count == 1 and "1 overdue" in followups.border_title
        assert new_leads.row_count == 1  # Otto belongs to bruno
        # Nina came in at 07:50, before the 09:00 opening: an hour of business time used,
        # so her response clock is 45 minutes past the 15-minute target
        assert str(new_leads.get_row_at(0)[0]) == "over 45m"


async def test_no_answer_in_three_keystrokes(db, make_app, seeded):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, CallModal)
        await pilot.press("n", "enter")
        await settle(pilot)
        assert isinstance(app.screen, DayViewScreen)
        lead_id = seeded["due"].lead_id
        (call,) = _rows(db, Call, lead_id=lead_id)
        assert (call.outcome, call.user_id) == ("no_answer", seeded["users"]["ana"].id)
        followups = sorted(_rows(db, FollowUp, lead_id=lead_id), key=lambda f: f.id)
        assert [f.state for f in followups] == ["done", "open"]
        assert followups[1].due_at == NOW + timedelta(hours=4)
        assert app.screen.query_one("#calls").row_count == 1  # the view refreshed itself


async def test_enter_without_an_outcome_saves_nothing(db, make_app, seeded):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("c", "enter")
        await settle(pilot)
        assert isinstance(app.screen, CallModal)
        assert "Choose an outcome" in str(app.screen.query_one("#call-status").render())
        await pilot.press("escape")
        await settle(pilot)
    assert _rows(db, Call) == []


async def test_callback_with_note_and_edited_followup(db, make_app, seeded):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("c", "r", "tab")
        await pilot.press(*"wants a call after lunch", "tab")
        await pilot.press(*(["backspace"] * 16), *"2026-11-25 14:30", "enter")
        await settle(pilot)
    (call,) = _rows(db, Call)
    assert (call.outcome, call.note) == ("callback_requested", "wants a call after lunch")
    open_followup = [f for f in _rows(db, FollowUp) if f.state == "open"]
    assert open_followup[0].due_at == NOW + timedelta(hours=4, minutes=30)  # 14:30 GMT


async def test_search_by_national_phone_then_detail_shows_the_call(db, make_app, seeded):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("c", "b", "enter")  # busy, on Dora
        await settle(pilot)
        await pilot.press("slash")
        await settle(pilot)
        assert isinstance(app.screen, LeadListScreen)
        await pilot.press(*"07700 900111")
        await pilot.pause(0.3)
        await settle(pilot)
        results = app.screen.query_one("#results")
        assert results.row_count == 1 and str(results.get_row_at(0)[1]) == "Dora Due"
        await pilot.press("enter", "enter")  # to the results, then open
        await settle(pilot)
        assert isinstance(app.screen, LeadDetailScreen)
        timeline = app.screen.query_one("#timeline")
        titles = [str(timeline.get_row_at(i)[1]) for i in range(timeline.row_count)]
        assert titles[0].startswith("Call: busy by ana")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, LeadListScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DayViewScreen)


async def test_new_lead_that_is_a_repeat_says_so(db, make_app, seeded):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(
            *"Dora D", "tab", *"447700900111", "tab", "tab", "tab", *"again about prices", "enter"
        )
        await settle(pilot)
        assert isinstance(app.screen, DayViewScreen)
        messages = [n.message for n in app._notifications]
        assert any("REPEAT of " + seeded["due"].number in m for m in messages)
    newest = max(_rows(db, Lead), key=lambda lead: lead.id)
    assert (newest.name, newest.repeat_of_id, newest.owner_id) == (
        "Dora D",
        seeded["due"].lead_id,
        seeded["users"]["ana"].id,
    )


async def test_concurrent_edit_is_refused_and_typing_is_kept(db, make_app, seeded):
    app = make_app()
    lead_id = seeded["fresh"].lead_id
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.push_screen(LeadDetailScreen(lead_id))
        await settle(pilot)
        maria = seeded["users"]["maria"].actor
        db.write(
            lambda s: update_lead(
                s, lead_id, LeadUpdate(name="Nina Changed"), expected_version=1, actor=maria
            )
        )
        await pilot.press("e")
        await settle(pilot)
        await pilot.press(*" Smith", "ctrl+s")
        await settle(pilot)
        refusal = str(app.screen.query_one("#edit-status").render())
        assert "changed by maria" in refusal
        assert "escape closes this form; r on the lead reloads it" in refusal  # the key named
        assert app.screen.query_one("#name").value == "Nina New Smith"  # kept
    (lead,) = _rows(db, Lead, id=lead_id)
    assert lead.name == "Nina Changed"


async def test_status_change_to_lost_from_detail(db, make_app, seeded):
    app = make_app()
    lead_id = seeded["fresh"].lead_id
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.push_screen(LeadDetailScreen(lead_id))
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        app.screen.query_one("#status").value = "lost"
        app.screen.query_one("#lost-reason").value = "price"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, LeadDetailScreen)
        assert "lost — price" in str(app.screen.query_one("#contact").render())
    (lead,) = _rows(db, Lead, id=lead_id)
    assert (lead.status, lead.lost_reason) == ("lost", "price")


async def test_day_keys_move_between_days(make_app, seeded):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert str(screen.day) == "2026-11-24"
        assert screen.query_one("#followups").row_count == 0  # not due yet on the 24th
        await pilot.press("right_square_bracket", "right_square_bracket")
        await settle(pilot)
        assert str(screen.day) == "2026-11-26"
        await pilot.press("t")
        await settle(pilot)
        assert str(screen.day) == "2026-11-25"
        await pilot.press("g")
        await settle(pilot)
        await pilot.press(*(["backspace"] * 10), *"2026-12-01", "enter")
        await settle(pilot)
        assert str(screen.day) == "2026-12-01"
        assert "2026" in str(screen.query_one("#day-title").render())


async def test_manager_sees_the_team_and_filters_by_rep(make_app, seeded):
    app = make_app("maria")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert screen.query_one("#new-leads").row_count == 2  # Nina (ana) and Otto (bruno)
        screen.query_one("#rep-filter").value = seeded["users"]["bruno"].id
        await settle(pilot)
        assert screen.query_one("#new-leads").row_count == 1
        assert screen.query_one("#followups").row_count == 0


async def test_question_mark_lists_the_keys(make_app, seeded):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpModal)
        table = app.screen.query_one("DataTable")
        actions = {str(table.get_row_at(i)[1]) for i in range(table.row_count)}
        assert {
            "Log call",
            "New lead",
            "Prev day",
            "Next day",
            "Today",
            "Go to date",
            "Search",
        } <= actions
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DayViewScreen)


async def test_lost_database_connection_notifies_and_keeps_the_modal(db, db_url, make_app):
    """The database disappears under an open call modal: a notification, nothing lost."""
    if db_url.startswith("sqlite"):
        import pytest

        pytest.skip("a SQLite file cannot be taken away from an open connection")
    import psycopg

    from tests.conftest import _pg_admin

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("c", "n", "tab", *"left a message")
        await settle(pilot)
        name = psycopg.conninfo.conninfo_to_dict(db_url)["dbname"]
        with _pg_admin() as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CallModal)
        assert app.screen.query_one("#note").value == "left a message"
        assert "Not saved" in str(app.screen.query_one("#call-status").render())
        print(
            [(n.message, n.severity) for n in app._notifications],
            [(w.name, w.state, w.error) for w in app.workers],
        )
        assert any(n.severity == "error" for n in app._notifications)


async def test_command_palette_offers_the_screens_actions(make_app, seeded):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        titles = {command.title for command in app.get_system_commands(app.screen)}
        assert {"Log call", "New lead", "Next day", "Go to date", "Search", "Quit"} <= titles
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"next day")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await settle(pilot)
        assert str(app.screen.day) == "2026-11-26"


async def test_footer_rebuilds_only_when_its_keys_change(make_app, seeded):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        footer = app.screen.query_one(KeyFooter)
        keys_before = list(footer.children)
        await pilot.press("r", "j", "k")
        await settle(pilot)
        assert list(footer.children) == keys_before  # same widgets: nothing was rebuilt

        await pilot.press("left_square_bracket")  # the 24th: no follow-up to call
        await settle(pilot)
        assert app.screen.focused.id == "new-leads"  # the cursor left the emptied list
        app.screen.query_one("#followups").focus()  # back on it: nothing to call there
        await settle(pilot)
        log_call = next(k for k in footer.query(FooterKey) if k.action == "log_call")
        assert log_call.has_class("-disabled")
        assert list(footer.children) != keys_before


async def test_reps_see_own_hides_and_refuses_another_reps_lead(db, make_app, seeded):
    db.write(lambda s: set_setting(s, "reps_see", "own", actor=SYSTEM))
    other = seeded["other"].lead_id
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await settle(pilot)
        await pilot.press(*"07700 900333")  # bruno's lead, by its phone
        await pilot.pause(0.3)
        await settle(pilot)
        assert app.screen.query_one("#results").row_count == 0
        list_screen = app.screen
        app.push_screen(LeadDetailScreen(other))  # as from a repeat row
        await settle(pilot)
        assert app.screen is list_screen  # refused: back where she was
        assert any("belongs to another rep" in str(n.message) for n in app._notifications)
    with db.reading() as session:  # a manager still opens it
        viewer = seeded["users"]["maria"].actor
        assert load_lead_detail(session=session, lead_id=other, viewer=viewer).owner == "bruno"
