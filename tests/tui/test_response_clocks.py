"""Speed to lead on screen: the day view's ticking response clocks, the header's count of leads
past the target, the managers' "breaching now" filter (key presses against real databases).

The seeded clock is Wednesday 10:00 in London (business hours 09:00-18:00, target 15
minutes): Nina (ana's, in at 07:50) and Otto (bruno's, 09:00) have used an hour each.
"""

from datetime import timedelta

import pytest
from sqlalchemy import event

from leadms_tui.domain import clock, recent
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import CallOutcome, Setting
from leadms_tui.domain.work.calls import log_call
from leadms_tui.screens.day_view import DayViewScreen
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
        assert "1 over the response target" in _title(screen)

        statements.clear()
        _set_clock(NOW + timedelta(minutes=2, seconds=30))
        await pilot.pause(1.3)  # a tick (every second)
        assert _clocks(screen)["Fay Fresh"] == ("10m left", "")
        _set_clock(NOW + timedelta(minutes=12))  # Fay is at 15 minutes: the target is reached
        await pilot.pause(1.3)
        assert _clocks(screen)["Fay Fresh"] == ("over 0m", "bold red")
        assert _clocks(screen)["Nina New"] == ("over 57m", "bold red")
        assert "2 over the response target" in _title(screen)
        assert statements == []  # every tick came from the loaded clocks


async def test_a_clock_pauses_outside_business_hours_and_runs_on_next_morning(
    db, make_app, seeded
):
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
    db.write(
        lambda s: log_call(s, called.lead_id, CallOutcome.NO_ANSWER, actor=ana.actor, now=NOW)
    )
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
        assert "over the response target" not in _title(pilot.app.screen)


async def test_managers_filter_the_new_leads_breaching_now_with_b(db, make_app, seeded):
    _new_lead(db, seeded, "Fay Fresh", "07700 900444", owner="bruno", at=NOW - timedelta(minutes=3))
    _new_lead(db, seeded, "Hal Half", "07700 900777", owner=None, at=NOW - timedelta(minutes=30))
    app = make_app("maria")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        # by time left: an hour used (Nina, Otto) before half an hour (Hal) before 3 minutes
        assert list(_clocks(screen)) == ["Nina New", "Otto Other", "Hal Half", "Fay Fresh"]
        assert "3 over the response target" in _title(screen)
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


async def test_a_rep_has_no_breaching_filter(make_app, seeded):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DayViewScreen) and not screen.breaching_only
        assert "breaching" not in screen.query_one("#new-leads").border_title
