"""The reports screen (`R`), driven by key presses: the team's and each rep's numbers as the
coaching report computes them, the period keys, drilling into a rep and into their leads."""

from datetime import date, timedelta

from sqlalchemy import update

from leadms_tui.domain.models import (
    Call,
    CallOutcome,
    FollowUp,
    FollowUpState,
    Lead,
    LeadStatus,
    Meeting,
    MeetingOutcome,
)
from leadms_tui.domain.reports.coaching import TEAM, Period, coaching_report
from leadms_tui.domain.sales.conversion import ConversionRequest, convert_lead
from leadms_tui.screens.day_view import DayViewScreen
from leadms_tui.screens.lead_list import LeadListScreen
from leadms_tui.screens.modals.range_modal import RangeModal
from leadms_tui.screens.reports import ReportsScreen
from tests.tui.conftest import NOW, settle

WEEK = Period(date(2026, 11, 23), date(2026, 11, 29))  # NOW is Wednesday 25 Nov


def seed_activity(db, seeded) -> None:
    """This week: ana called Dora twice and Nina once, held a meeting and sold Dora; bruno
    called Otto once, missed Monday's follow-up, did Tuesday's and lost Otto. Last week ana
    missed one follow-up (her missed rate before), bruno did one."""
    users = seeded["users"]
    ana, bruno = users["ana"], users["bruno"]
    dora, nina, otto = seeded["due"].lead_id, seeded["fresh"].lead_id, seeded["other"].lead_id
    monday = NOW - timedelta(days=2)  # Mon 23 Nov, 10:00 London

    def calls(session):
        for lead, user, at, outcome in [
            (dora, ana.id, monday + timedelta(minutes=20), CallOutcome.NO_ANSWER),
            (dora, ana.id, monday + timedelta(days=1, hours=1), CallOutcome.INTERESTED),
            (nina, ana.id, NOW - timedelta(minutes=50), CallOutcome.CALLBACK_REQUESTED),
            (otto, bruno.id, NOW - timedelta(minutes=30), CallOutcome.BUSY),
        ]:
            session.add(Call(lead_id=lead, user_id=user, outcome=outcome, called_at=at))
        for lead, owner, due, missed in [
            (otto, bruno.id, monday - timedelta(hours=1), True),
            (otto, bruno.id, monday + timedelta(days=1), False),
            (dora, ana.id, monday - timedelta(days=6), True),
            (otto, bruno.id, monday - timedelta(days=13), False),
        ]:
            session.add(
                FollowUp(
                    lead_id=lead,
                    owner_id=owner,
                    reason="Call back",
                    due_at=due,
                    state=FollowUpState.MISSED if missed else FollowUpState.DONE,
                    missed_at=due + timedelta(hours=12) if missed else None,
                )
            )
        session.add(
            Meeting(
                lead_id=dora,
                owner_id=ana.id,
                starts_at=monday + timedelta(days=1, hours=4),
                outcome=MeetingOutcome.HELD,
                created_at=monday,
            )
        )
        session.execute(
            update(Lead)
            .where(Lead.id == otto)
            .values(status=LeadStatus.LOST, updated_at=NOW - timedelta(minutes=20))
        )
        convert_lead(session, dora, ConversionRequest(value="1200"), actor=ana.actor)

    db.write(calls)


def _report(db, period=WEEK, rep=None):
    with db.reading() as session:
        return {r.rep: r for r in coaching_report(session, period, rep=rep)}


def _title(app) -> str:
    return str(app.screen.query_one("#period-title").render())


def _table(app):
    return app.screen.query_one("#report")


def _rows(app) -> dict[str, list[str]]:
    table = _table(app)
    return {str(key.value): [cell.plain for cell in table.get_row(key)] for key in table.rows}


async def _open_reports(pilot) -> None:
    await settle(pilot)
    assert isinstance(pilot.app.screen, DayViewScreen)
    await pilot.press("R")
    await settle(pilot)
    assert isinstance(pilot.app.screen, ReportsScreen)


async def test_a_manager_sees_the_team_and_every_rep(db, make_app, seeded):
    seed_activity(db, seeded)
    expected = _report(db)
    app = make_app("maria")
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_reports(pilot)
        assert _title(app) == "Reports — week Mon 23 Nov to Sun 29 Nov 2026 (this week) — team"
        rows = _rows(app)
        assert list(rows) == ["rep:ana", "rep:bruno", "team"]
        columns = [str(c.label) for c in _table(app).columns.values()]
        for key, name in [("rep:ana", "ana"), ("rep:bruno", "bruno"), ("team", TEAM)]:
            report, row = expected[name], dict(zip(columns, rows[key], strict=True))
            assert row["Rep"] == name
            assert row["Recv"] == str(report.leads_received)
            assert row["Calls"] == str(report.calls)
            assert row["F/u due"] == str(report.followups_due)
            assert row["Missed"] == str(report.commitments_missed)
            assert row["Held"] == str(report.meetings_held)
            assert row["Won"] == str(report.conversions)
        # the same numbers, written out: what the seed did
        assert rows["rep:ana"][:7] == ["ana", "2", "15m", "50%", "3", "67%", "1"]
        assert rows["rep:bruno"][4:10] == ["1", "0%", "2", "1", "50%", "—"]
        assert rows["rep:ana"][7:] == ["0", "0%", "▼ 100.0", "1", "1", "100%", "1,200.00", "—"]
        assert rows["team"][4] == "4" and rows["team"][11:13] == ["1", "50%"]


async def test_period_keys_change_the_period(db, make_app, seeded):
    seed_activity(db, seeded)
    app = make_app("maria")
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_reports(pilot)
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert _title(app).startswith("Reports — week Mon 16 Nov to Sun 22 Nov 2026 — ")
        last_week = _report(db, Period(date(2026, 11, 16), date(2026, 11, 22)))
        assert _rows(app)["rep:ana"][7] == str(last_week["ana"].commitments_missed) == "1"
        await pilot.press("m")
        await settle(pilot)
        assert _title(app) == "Reports — November 2026 — team"
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert _title(app) == "Reports — December 2026 — team"
        assert _rows(app)["team"][4] == "0"  # no calls yet in December
        await pilot.press("w")
        await settle(pilot)
        assert "(this week)" in _title(app)
        assert _rows(app)["team"][4] == "4"


async def test_a_custom_range_with_an_inline_error(db, make_app, seeded):
    seed_activity(db, seeded)
    app = make_app("maria")
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_reports(pilot)
        await pilot.press("g")
        await settle(pilot)
        assert isinstance(app.screen, RangeModal)
        await pilot.press(*"2026-11-24", "enter", *"2026-11-2", "enter")
        await settle(pilot)
        assert isinstance(app.screen, RangeModal)  # the refusal stays in the modal
        assert "not a day I can read" in str(app.screen.query_one("#range-error").render())
        await pilot.press("end", "backspace", *"25", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ReportsScreen)
        assert _title(app) == "Reports — 2026-11-24 to 2026-11-25 (2 days) — team"
        assert _rows(app)["team"][4] == "3"  # Monday's call is outside the range
        await pilot.press("left_square_bracket")  # the two days before
        await settle(pilot)
        assert _title(app) == "Reports — 2026-11-22 to 2026-11-23 (2 days) — team"
        assert _rows(app)["team"][4] == "1"


async def test_enter_drills_into_a_rep_and_escape_goes_back(db, make_app, seeded):
    seed_activity(db, seeded)
    app = make_app("maria")
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_reports(pilot)
        await pilot.press("j")  # from ana to bruno
        await pilot.press("enter")
        await settle(pilot)
        assert _title(app).endswith("— bruno")
        assert list(_rows(app)) == ["rep:bruno"]
        bruno = _report(db, rep="bruno")["bruno"]
        assert _rows(app)["rep:bruno"][4] == str(bruno.calls) == "1"
        assert "(1 call)" in app.screen.query_one("#calls-chart").render().plain  # bruno's
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ReportsScreen)
        assert list(_rows(app)) == ["rep:ana", "rep:bruno", "team"]
        assert _table(app).cursor_row == 1  # still on bruno
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DayViewScreen)


async def test_l_opens_the_rep_s_leads_received_in_the_period(db, make_app, seeded):
    seed_activity(db, seeded)
    app = make_app("maria")
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_reports(pilot)
        await pilot.press("l")  # on ana
        await settle(pilot)
        assert isinstance(app.screen, LeadListScreen)
        names = sorted(row.name for row in app.screen._rows.values())
        assert names == ["Dora Due", "Nina New"]
        assert app.screen.query_one("#owner").value == seeded["users"]["ana"].id
        assert app.screen.query_one("#date-from").value == "2026-11-23"
        assert app.screen.query_one("#date-to").value == "2026-11-29"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ReportsScreen)


async def test_a_rep_sees_only_their_own_report(db, make_app, seeded):
    seed_activity(db, seeded)
    mine = _report(db, rep="ana")["ana"]
    app = make_app("ana")
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_reports(pilot)
        assert _title(app).endswith("— ana")
        assert list(_rows(app)) == ["rep:ana"]
        assert _rows(app)["rep:ana"][4] == str(mine.calls) == "3"
        assert app.screen.check_action("drill_in", ()) is False
        await pilot.press("enter")
        await settle(pilot)
        assert list(_rows(app)) == ["rep:ana"]
        await pilot.press("l")
        await settle(pilot)
        names = sorted(row.name for row in app.screen._rows.values())
        assert names == ["Dora Due", "Nina New"]
