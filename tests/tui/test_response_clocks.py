"""Speed to lead on screen: the day view's ticking response clocks, the header's count of leads
past the target, the managers' "breaching now" filter (key presses against real databases).

The seeded clock is Wednesday 10:00 in London (business hours 09:00-18:00, target 15
minutes): Nina (ana's, in at 07:50) and Otto (bruno's, 09:00) have used an hour each.
"""

from datetime import timedelta

import pytest
from sqlalchemy import event, select

from leadms_tui.domain import clock, recent
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import CallOutcome, Setting
from leadms_tui.domain.work.calls import log_call
from leadms_tui.screens.day_view import DayViewScreen
from leadms_tui.screens.lead_detail import LeadDetailScreen
from tests.tui.conftest import NOW, settle


def _new_lead(db, seeded, name, phone, *, owner="ana", at=NOW):
    owner_id = seeded["users"][owner].id if owner else None
    return create_lead(
        db,
        LeadCreate(name=name, phone=phone, channel="website", owner_id=owner_id),
        actor=seeded["users"]["maria"].actor,
        now=at,
    )


def _clocks(screen) -> dict[str, tuple[str, str]]:
    """Name → (the Waiting cell's words, its style), in the order shown."""
    table = screen.query_one("#new-leads")
    return {
        str(row[2]): (str(row[0]), str(row[0].style))
        for row in (table.get_row_at(i) for i in range(table.row_count))
    }


def _title(screen) -> str:
    return str(screen.query_one("#day-title").render())


def _set_clock(moment):
    clock.set_clock(lambda: moment)  # the frozen_clock fixture puts the real one back


@pytest.fixture
def statements(db):
    """Every SQL statement the app runs from now on (a tick must run none)."""
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    yield seen
    event.remove(db.engine, "before_cursor_execute", record)


async def test_the_reps_clocks_tick_on_screen_without_reading_the_database(
    db, make_app, seeded, statements
):
    _new_lead(db, seeded, "Fay Fresh", "07700 900444", at=NOW - timedelta(minutes=3))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        clocks = _clocks(screen)
        assert list(clocks) == ["Nina New", "Fay Fresh"]  # most over first
        assert clocks["Nina New"] == ("over 45m", "bold red")
        assert clocks["Fay Fresh"] == ("12m left", "")
        assert "1 over target" in _title(screen)

        statements.clear()
        _set_clock(NOW + timedelta(minutes=2, seconds=30))
        await pilot.pause(1.3)  # a tick (every second)
        assert _clocks(screen)["Fay Fresh"] == ("10m left", "")
        _set_clock(NOW + timedelta(minutes=12))  # Fay is at 15 minutes: the target is reached
        await pilot.pause(1.3)
        assert _clocks(screen)["Fay Fresh"] == ("over 0m", "bold red")
        assert _clocks(screen)["Nina New"] == ("over 57m", "bold red")
        assert "2 over target" in _title(screen)
        assert statements == []  # every tick came from the loaded clocks


async def test_a_clock_pauses_outside_business_hours_and_runs_on_next_morning(db, make_app, seeded):
    evening = NOW.replace(hour=17, minute=55)  # Wednesday 17:55 in London (GMT)
    _new_lead(db, seeded, "Eve Late", "07700 900555", at=evening)
    _set_clock(evening + timedelta(minutes=35))  # 18:30: closed since 18:00
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert _clocks(app.screen)["Eve Late"] == ("10m left", "dim")
        _set_clock(evening + timedelta(hours=12))  # Thursday 05:55: still closed
        await pilot.pause(1.3)
        assert _clocks(app.screen)["Eve Late"] == ("10m left", "dim")
        _set_clock(evening + timedelta(hours=15, minutes=8))  # Thursday 09:03
        await pilot.pause(1.3)
        assert _clocks(app.screen)["Eve Late"] == ("7m left", "")


async def test_touched_leads_and_leads_from_before_clocks_show_their_age(db, make_app, seeded):
    called = _new_lead(db, seeded, "Cal Called", "07700 900666", at=NOW - timedelta(minutes=5))
    ana = seeded["users"]["ana"]
    db.write(lambda s: log_call(s, called.lead_id, CallOutcome.NO_ANSWER, actor=ana.actor, now=NOW))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        # a no-answer call leaves the lead new, with a follow-up due: it is listed there now,
        # and its clock stopped either way
        assert "Cal Called" not in _clocks(app.screen)
        assert _clocks(app.screen)["Nina New"][0] == "over 45m"

    def mark(session):  # what migration 0012 stores on a database that had leads
        session.add(Setting(key="response_clock_since", value=NOW.isoformat()))
        recent.forget(session)  # settings are remembered for a moment

    db.write(mark)
    async with make_app().run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        clocks = _clocks(pilot.app.screen)
        assert clocks["Nina New"] == ("2h 10m", "")  # taken in before clocks existed: its age
        assert "over target" not in _title(pilot.app.screen)


async def test_managers_filter_the_new_leads_breaching_now_with_b(db, make_app, seeded):
    _new_lead(db, seeded, "Fay Fresh", "07700 900444", owner="bruno", at=NOW - timedelta(minutes=3))
    _new_lead(db, seeded, "Hal Half", "07700 900777", owner=None, at=NOW - timedelta(minutes=30))
    app = make_app("maria")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        # by time left: an hour used (Nina, Otto) before half an hour (Hal) before 3 minutes
        assert list(_clocks(screen)) == ["Nina New", "Otto Other", "Hal Half", "Fay Fresh"]
        assert "3 over target" in _title(screen)
        await pilot.press("b")
        await settle(pilot)
        table = screen.query_one("#new-leads")
        assert list(_clocks(screen)) == ["Nina New", "Otto Other", "Hal Half"]
        assert "breaching now" in table.border_title and app.focused is table
        _set_clock(NOW + timedelta(minutes=12))  # Fay reaches the target: she joins
        await pilot.pause(1.3)
        assert list(_clocks(screen))[-1] == "Fay Fresh"
        await pilot.press("b")  # all the new leads again
        await settle(pilot)
        assert "breaching now" not in table.border_title
        assert table.row_count == 4


async def test_at_80_columns_the_day_is_shortened_and_the_over_count_is_never_cut(make_app, seeded):
    app = make_app("maria")  # a manager: the rep filter takes 30 columns of the bar
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        label = app.screen.query_one("#day-title")
        shown = str(label.render())
        assert shown.startswith("Wed ") and shown.endswith(" · 2 over target")
        assert len(shown) <= label.size.width
        await pilot.resize_terminal(160, 24)
        await settle(pilot)
        assert str(label.render()).startswith("Wednesday ")


async def test_a_rep_has_no_breaching_filter(make_app, seeded):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DayViewScreen) and not screen.breaching_only
        assert "breaching" not in screen.query_one("#new-leads").border_title


def _contact(screen) -> str:
    return str(screen.query_one("#contact").render())


async def test_the_lead_detail_says_when_the_clock_started_paused_and_stopped(db, make_app, seeded):
    tuesday_evening = NOW - timedelta(days=1) + timedelta(hours=7, minutes=55)  # Tue 17:55
    late = _new_lead(db, seeded, "Lou Late", "07700 900888", at=tuesday_evening)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        # the untouched lead: Nina, in at 07:50 before opening, an hour used at 10:00
        await pilot.press("tab")  # from the follow-ups to the new leads
        await settle(pilot)
        assert str(app.focused.get_row_at(app.focused.cursor_row)[2]) == "Lou Late"
        await pilot.press("down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, LeadDetailScreen)
        contact = _contact(app.screen)
        assert "Clock    over 45m of 15m" in contact
        assert "07:50   0m started" in contact and "09:00   0m resumed" in contact
        await pilot.press("escape")
        await settle(pilot)

        # Lou, in at 17:55 yesterday: 5 minutes, paused at 18:00, on again at 09:00; a call
        # now stops the clock after 65 business minutes
        await pilot.press("home", "c", "n", "enter")  # Lou, first (most over)
        await settle(pilot)
        app.push_screen(LeadDetailScreen(late.lead_id))
        await settle(pilot)
        contact = _contact(app.screen)
        assert "Clock    stopped after 65m (call)" in contact
        lines = [line.strip() for line in contact.splitlines()]
        assert lines[lines.index("Clock    stopped after 65m (call)") + 1 :][:4] == [
            "Tue 17:55   0m started",
            "Tue 18:00   5m paused",
            "09:00   5m resumed",
            "10:00  65m stopped: call by ana",
        ]


def _team_rows(screen) -> dict[str, str]:
    table = screen.query_one("#team")
    return {str(r[0]): str(r[1]) for r in (table.get_row_at(i) for i in range(table.row_count))}


async def test_admins_edit_the_ladder_read_back_in_words_and_refused_with_the_reason(db, seeded):
    from leadms_tui.app import LeadMSApp
    from leadms_tui.domain.audit import SYSTEM
    from leadms_tui.domain.models import AuditEvent, Role
    from leadms_tui.domain.team.settings import load_settings
    from leadms_tui.domain.team.users import add_user
    from leadms_tui.screens.settings.ladder import LadderModal

    admin = db.write(lambda s: add_user(s, "ada", role=Role.ADMIN, actor=SYSTEM, password="secret"))
    app = LeadMSApp(db, signed_in=admin)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("S", "3")
        await settle(pilot)
        settings_screen = app.screen
        keys = list(_team_rows(settings_screen))
        await pilot.press(*["down"] * keys.index("response_ladder"), "enter")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, LadderModal)

        def shown(selector):
            return str(modal.query_one(selector).render())

        assert "at   20 business minutes untouched: reassigned to them" in shown("#ladder-preview")
        refusals = {
            "10:owner,5:managers": "step 5:managers comes after 10:owner: minutes must increase",
            "5:owner,1500:reassign": "minutes must be 1..1440 (no step past a day)",
            "5:owner,10:boss": "unknown action 'boss' (use owner, managers, offer, reassign)",
        }
        for typed, reason in refusals.items():
            modal.query_one("#ladder-value").clear()
            await pilot.press(*typed)  # read while typing: nothing saved
            await settle(pilot)
            assert reason in shown("#form-error") and shown("#ladder-preview") == ""
        await pilot.press("enter")  # the last one, saved anyway: refused by the domain
        await settle(pilot)
        assert app.screen is modal and "unknown action 'boss'" in shown("#form-error")

        modal.query_one("#ladder-value").clear()
        await pilot.press(*"3:owner, 30:REASSIGN")
        await settle(pilot)
        assert shown("#form-error") == ""
        assert (
            shown("#ladder-preview")
            .splitlines()[-1]
            .endswith("30 business minutes untouched: reassigned to them")
        )
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is settings_screen
        assert _team_rows(settings_screen)["response_ladder"] == "3:owner,30:reassign"
    with db.reading() as session:
        assert load_settings(session).text["response_ladder"] == "3:owner,30:reassign"
        (audited,) = session.execute(
            select(AuditEvent.changes).where(
                AuditEvent.action == "setting.set",
                AuditEvent.entity_id == "response_ladder",
                AuditEvent.actor_id == admin.id,
            )
        ).one()
    assert audited["value"][1] == "3:owner,30:reassign"


async def test_the_reports_speed_to_lead_tab_shows_a_heat_map_by_hour(db, make_app, seeded):
    """Dora (ana's, in Monday 10:00) called at 10:04; Otto (bruno's, 09:00 today) called at
    09:40; Bea (bruno's, Tuesday 09:10) at 09:15; Nina (ana's, 07:50) never: the sweep at 10:00
    moved her to bruno after 20 business minutes."""
    from leadms_tui.domain.models import Call
    from leadms_tui.domain.work.response_clock import sweep_ladder
    from leadms_tui.screens.reports import ReportsScreen

    users = seeded["users"]
    ana, bruno = users["ana"], users["bruno"]
    bea = _new_lead(
        db,
        seeded,
        "Bea Brisk",
        "07700 900999",
        owner="bruno",
        at=NOW - timedelta(hours=24, minutes=50),
    )

    def calls(session):
        for lead, user, at in [
            (seeded["due"].lead_id, ana.id, NOW - timedelta(days=2) + timedelta(minutes=4)),
            (seeded["other"].lead_id, bruno.id, NOW - timedelta(minutes=20)),
            (bea.lead_id, bruno.id, NOW - timedelta(hours=24, minutes=45)),
        ]:
            session.add(Call(lead_id=lead, user_id=user, outcome=CallOutcome.BUSY, called_at=at))

    db.write(calls)
    assert sweep_ladder(db, now=NOW) == 4  # Nina: owner, managers, offer, reassign
    app = make_app("maria")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("R")
        await settle(pilot)
        assert isinstance(app.screen, ReportsScreen)
        await pilot.press("4")
        await settle(pilot)
        table = app.screen.query_one("#speed-table")
        assert table.visible
        columns = [str(c.label) for c in table.columns.values()]
        rows = {
            str(row[0]): dict(zip(columns, (str(cell) for cell in row), strict=True))
            for row in (table.get_row_at(i) for i in range(table.row_count))
        }
        assert list(rows) == ["ana", "bruno", "TEAM"]
        assert columns[7:] == ["07", "09", "10"]  # the hours any lead came in
        assert [rows["ana"][k] for k in ("Recv", "In tgt", "Med", "Away", "To", "10")] == [
            "1", "100%", "4m", "1", "0", "100",
        ]  # fmt: skip
        # bruno: Bea within target at 09, Otto 40 minutes; Nina (07, now his) untouched
        assert [rows["bruno"][k] for k in ("Recv", "In tgt", "07", "09", "10")] == [
            "3", "33%", "  0", " 50", "·",
        ]  # fmt: skip
        assert (rows["bruno"]["Away"], rows["bruno"]["To"]) == ("0", "1")
        assert [rows["TEAM"][k] for k in ("Recv", "07", "09", "10")] == ["4", "  0", " 50", "100"]
        cell_style = str(table.get_row_at(2)[columns.index("10")].style)
        assert cell_style == "black on green"
        assert "the % touched within 15m" in str(app.screen.query_one("#speed-note").render())
