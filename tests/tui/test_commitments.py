"""Follow-up and meeting flows in the TUI, by key presses against real databases."""

from datetime import timedelta

from sqlalchemy import select

from leadms_tui.domain.models import FollowUp, Meeting, Notification
from leadms_tui.domain.work.meetings import schedule_meeting
from leadms_tui.domain.work.rules import sweep
from leadms_tui.screens.day_view import DayViewScreen
from leadms_tui.screens.lead_detail import LeadDetailScreen
from leadms_tui.screens.modals.followup_modal import FollowUpModal
from leadms_tui.screens.modals.inbox_modal import InboxModal
from leadms_tui.screens.modals.meeting_modal import MeetingModal, MeetingOutcomeModal
from tests.tui.conftest import NOW, settle


def _rows(db, model, **where):
    with db.reading() as session:
        return session.execute(select(model).filter_by(**where)).scalars().all()


async def test_followup_row_done_and_reschedule(db, make_app, seeded):
    lead_id = seeded["due"].lead_id
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, FollowUpModal) and app.screen.existing is not None
        await pilot.press(*(["backspace"] * 16), *"2026-11-26 15:30", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DayViewScreen)
        (followup,) = _rows(db, FollowUp, lead_id=lead_id)
        assert followup.due_at == NOW + timedelta(days=1, hours=5, minutes=30)
        await pilot.press("right_square_bracket", "f", "ctrl+d")  # on the 26th: done
        await settle(pilot)
    (followup,) = _rows(db, FollowUp, lead_id=lead_id)
    assert followup.state == "done"


async def test_new_followup_from_lead_detail(db, make_app, seeded):
    lead_id = seeded["fresh"].lead_id
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.push_screen(LeadDetailScreen(lead_id))
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        await pilot.press("tab", *"Send the price list", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, LeadDetailScreen)
        timeline = app.screen.query_one("#timeline")
        titles = [str(timeline.get_row_at(i)[1]) for i in range(timeline.row_count)]
        assert any("Send the price list" in t for t in titles)
    (followup,) = _rows(db, FollowUp, lead_id=lead_id)
    assert (followup.reason, followup.owner_id) == (
        "Send the price list",
        seeded["users"]["ana"].id,
    )


async def test_meeting_booking_warns_of_a_clash_and_outcome_is_recorded(db, make_app, seeded):
    ana = seeded["users"]["ana"]
    tomorrow_11 = NOW + timedelta(days=1, hours=1)  # the modal's default start
    db.write(
        lambda s: schedule_meeting(s, seeded["due"].lead_id, starts_at=tomorrow_11, actor=ana.actor)
    )
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.screen.query_one("#new-leads").focus()
        await pilot.press("m")
        await settle(pilot)
        assert isinstance(app.screen, MeetingModal)
        await pilot.press("ctrl+s")  # the clash shows before anything is booked
        await settle(pilot)
        assert "Clashes with" in str(app.screen.query_one("#meeting-status").render())
        assert _rows(db, Meeting, lead_id=seeded["fresh"].lead_id) == []
        await pilot.press("ctrl+s")  # again: booked anyway
        await settle(pilot)
        assert any(n.title == "Clash" for n in app._notifications)
        meetings = _rows(db, Meeting, lead_id=seeded["fresh"].lead_id)
        assert [m.starts_at for m in meetings] == [tomorrow_11]
        await pilot.press("right_square_bracket")
        await settle(pilot)
        app.screen.query_one("#meetings").focus()
        await pilot.press("o")
        await settle(pilot)
        assert isinstance(app.screen, MeetingOutcomeModal)
        await pilot.press("h")  # held, though it starts at 11:00: asked first
        await settle(pilot)
        assert "not yet" in str(app.screen.query_one("#outcome-status").render())
        assert {m.outcome for m in _rows(db, Meeting)} == {None}
        await pilot.press("n")
        await settle(pilot)
    outcomes = {m.lead_id: m.outcome for m in _rows(db, Meeting)}
    assert "no_show" in outcomes.values()


async def test_missed_followups_show_first_in_red_and_notifications_pop_up(db, make_app, seeded):
    sweep(db, now=NOW + timedelta(days=1))  # yesterday's follow-up was missed
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("right_square_bracket")  # the view of the 26th
        await settle(pilot)
        followups = app.screen.query_one("#followups")
        assert "1 missed" in followups.border_title
        first = followups.get_row_at(0)[0]
        assert str(first).startswith("MISSED") and "red" in str(first.style)
    maria = seeded["users"]["maria"].id  # the manager was told of the untouched new leads
    app = make_app("maria")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        mine = [n for n in _rows(db, Notification) if n.user_id == maria]
        assert mine and {n.message for n in mine} <= {t.message for t in app._notifications}
        assert all(n.read_at is None for n in mine)  # a toast that vanished is not read
        await pilot.press("i")  # the inbox: unread first
        await settle(pilot)
        assert isinstance(app.screen, InboxModal)
        inbox = app.screen.query_one("#inbox")
        assert inbox.row_count == len(mine) and str(inbox.get_row_at(0)[0]) == "●"
        await pilot.press("a")  # all read
        await settle(pilot)
        assert str(inbox.get_row_at(0)[0]) == ""
    assert all(n.read_at is not None for n in _rows(db, Notification) if n.user_id == maria)
