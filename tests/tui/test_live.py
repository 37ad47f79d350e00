"""Live updates in the TUI: what another terminal commits shows without a key press, keeping
the cursor and what is being typed; a rep hears of a lead given to them. Two apps on one
database, both engines."""

from datetime import timedelta

from sqlalchemy import select

from leadms_tui import bootstrap
from leadms_tui.app import LeadMSApp
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.leads.edits import change_lead
from leadms_tui.domain.models import CallOutcome, FollowUp, Lead, Role
from leadms_tui.domain.team.assignment import assign_lead
from leadms_tui.domain.team.settings import set_setting
from leadms_tui.domain.team.users import add_user
from leadms_tui.domain.work.calls import log_call
from leadms_tui.domain.work.followups import change_followup
from tests.tui.conftest import NOW, settle

PATIENCE = 8.0  # seconds: generous for a loaded CI machine; the benchmark measures the latency


async def _until(pilot, condition, what: str) -> None:
    """Wait, pressing no key, until `condition()` holds."""
    for _ in range(int(PATIENCE / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"not shown without a key press: {what}")


def _cells(table) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def test_a_call_another_terminal_logs_shows_with_the_cursor_kept(db, make_app, seeded):
    other_terminal = bootstrap.database(db.url)  # its own connections, as another process has
    ana = seeded["users"]["ana"]
    app = make_app("maria")  # the manager's day: every rep's new leads
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            new_leads = app.screen.query_one("#new-leads")
            assert new_leads.row_count >= 2
            new_leads.focus()
            await pilot.press("down")  # on the second new lead
            kept = _cells(new_leads)[1][1]
            calls = app.screen.query_one("#calls")
            assert calls.row_count == 0

            other_terminal.write(
                lambda s: log_call(s, seeded["fresh"].lead_id, CallOutcome.BUSY,
                                   actor=ana.actor, note="from the other desk")
            )  # fmt: skip
            await _until(pilot, lambda: calls.row_count == 1, "the call")
            assert "from the other desk" in _cells(calls)[0]
            assert app.screen.focused is new_leads
            assert _cells(new_leads)[new_leads.cursor_row][1] == kept
    finally:
        other_terminal.dispose()


async def test_typing_in_the_search_survives_a_live_update(db, make_app, seeded):
    other_terminal = bootstrap.database(db.url)
    ana = seeded["users"]["ana"]
    app = make_app("ana")
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.press("slash", *"0770")
            await settle(pilot)
            results = app.screen.query_one("#results")
            await _until(pilot, lambda: results.row_count == 3, "the search")
            await pilot.press("down", "down")  # into the results, second row
            row = results.cursor_row
            kept = _cells(results)[row][1]

            def rename(session):
                lead = session.get(Lead, seeded["due"].lead_id)
                change_lead(session, lead, ana.actor, NOW, name="Dora Dupont")

            other_terminal.write(rename)
            names = lambda: [cells[1] for cells in _cells(results)]  # noqa: E731
            await _until(pilot, lambda: "Dora Dupont" in names(), "the new name")
            assert app.screen.query_one("#search").value == "0770"
            assert results.cursor_row == row and _cells(results)[row][1] in (kept, "Dora Dupont")
    finally:
        other_terminal.dispose()


async def test_two_apps_a_rep_hears_of_a_lead_given_and_a_follow_up_moved(db, make_app, seeded):
    """Maria's TUI and Ana's TUI on one database: what Maria does reaches Ana's screen."""
    maria, ana = seeded["users"]["maria"], seeded["users"]["ana"]
    rep_app, manager_app = make_app("ana"), make_app("maria")
    async with rep_app.run_test(size=(120, 40)) as rep, manager_app.run_test(size=(120, 40)):
        await settle(rep)
        new_leads = rep_app.screen.query_one("#new-leads")
        assert "Otto Other" not in str(_cells(new_leads))

        manager_app.database.write(
            lambda s: assign_lead(s, seeded["other"].lead_id, "ana", actor=maria.actor)
        )
        toasts = lambda: [n.message for n in rep_app._notifications]  # noqa: E731
        assigned = f"{seeded['other'].number} Otto Other was assigned to you (by hand)"
        await _until(rep, lambda: any(m.startswith(assigned[:30]) for m in toasts()), "toast")
        await _until(rep, lambda: "Otto Other" in str(_cells(new_leads)), "the lead")

        with manager_app.database.reading() as session:
            followup = session.execute(
                select(FollowUp).where(FollowUp.owner_id == ana.id)
            ).scalar_one()
        manager_app.database.write(
            lambda s: change_followup(
                s, followup.id, actor=maria.actor, due_at=NOW + timedelta(days=1, hours=5)
            )
        )
        moved = f"{seeded['due'].number} Dora Due: follow-up moved to Thu 26 Nov 15:00 by maria"
        await _until(rep, lambda: moved in toasts(), "the moved follow-up")
        followups = rep_app.screen.query_one("#followups")
        await _until(rep, lambda: followups.row_count == 0, "the follow-up gone from today")


async def test_an_app_reloads_only_what_it_shows(db, make_app, seeded):
    """A change to a table the screen does not show does not reload it."""
    app: LeadMSApp = make_app("ana")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        loads = []
        screen = app.screen
        original = screen.reload
        screen.reload = lambda: (loads.append(1), original())  # type: ignore[method-assign]
        screen.data_changed(frozenset({"rules", "audit_events"}))
        screen.data_changed(frozenset({"calls"}))
        assert loads == [1]


async def test_a_timezone_change_redraws_every_open_screen_at_once(db, make_app, seeded):
    """Issue 24: an admin's new timezone reached a rep only on `r` or after 30 s."""
    other_terminal = bootstrap.database(db.url)
    app = make_app("ana")
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            day_view = app.screen
            followups = day_view.query_one("#followups")
            assert _cells(followups)[0][0] == "09:00"  # due 09:00 UTC: London in winter
            await pilot.press("slash")  # the lead list on top of the day view
            await settle(pilot)
            results = app.screen.query_one("#results")
            created = lambda: {row[1]: row[-1] for row in _cells(results)}["Nina New"]  # noqa: E731
            assert created() == "07:50"
            other_terminal.write(
                lambda s: set_setting(s, "timezone", "America/New_York", actor=SYSTEM)
            )
            await _until(
                pilot, lambda: app.settings.timezone == "America/New_York", "the new timezone"
            )
            await _until(pilot, lambda: created() == "02:50", "the lead list's times")
            await _until(pilot, lambda: _cells(followups)[0][0] == "04:00", "the day view's times")
    finally:
        other_terminal.dispose()


async def test_a_rep_added_in_another_terminal_is_in_the_rep_filter(db, make_app, seeded):
    other_terminal = bootstrap.database(db.url)
    app = make_app("maria")
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            rep_filter = app.screen.query_one("#rep-filter")
            shown = lambda: [str(prompt) for prompt, _ in rep_filter._options]  # noqa: E731
            assert "Zoe" not in shown()
            other_terminal.write(
                lambda s: add_user(
                    s, "zoe", role=Role.REP, actor=SYSTEM, password="secret", display_name="Zoe"
                )
            )
            await _until(pilot, lambda: "Zoe" in shown(), "the new rep in the `u` filter")
    finally:
        other_terminal.dispose()
