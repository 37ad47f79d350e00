"""The README's "A rep's first hour", row by row, by the keys it lists (issue 24)."""

from datetime import timedelta

from sqlalchemy import select

from leadms_tui.app import LeadMSApp
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import Call, FollowUp, Lead, Meeting
from leadms_tui.screens.day_view import DayViewScreen
from leadms_tui.screens.lead_list import LeadListScreen
from leadms_tui.screens.login import LoginScreen
from leadms_tui.screens.modals.help_modal import HelpModal
from leadms_tui.screens.modals.inbox_modal import InboxModal
from tests.tui.conftest import NOW, settle

# Besides Dora Due (due an hour ago), four more of ana's leads due this morning, in order.
CALLERS = [("Ben Busy", "07700 900123"), ("Cara Callback", "07700 900124"),
           ("Ida Interested", "07700 900125"), ("Lou Later", "07700 900126")]  # fmt: skip


def _due_today(db, seeded):
    ana = seeded["users"]["ana"]
    for minutes, (name, phone) in zip((50, 40, 30, 20), CALLERS, strict=True):
        lead = create_lead(
            db,
            LeadCreate(name=name, phone=phone, channel="phone", owner_id=ana.id),
            actor=ana.actor,
            now=NOW - timedelta(days=1),
        )
        due = NOW - timedelta(minutes=minutes)
        db.write(
            lambda s, lead=lead, due=due: s.add(
                FollowUp(lead_id=lead.lead_id, owner_id=ana.id, reason="Call", due_at=due)
            )
        )


def _under_cursor(app) -> str:
    table = app.screen.focused
    return str(table.get_row_at(table.cursor_row)[2])


def _lead_id(db, name: str) -> int:
    with db.reading() as session:
        return session.execute(select(Lead.id).where(Lead.name == name)).scalar_one()


async def test_a_reps_first_hour_by_the_readme(db, seeded):
    _due_today(db, seeded)
    app = LeadMSApp(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        # sign in: type the username, tab, the password, enter
        await pilot.press(*"ana", "tab", *"secret", "enter")
        await settle(pilot)
        assert isinstance(app.screen, DayViewScreen)
        assert _under_cursor(app) == "Dora Due"

        # call the first lead due; no answer: c n enter, the cursor is then on the next lead
        await pilot.press("c", "n", "enter")
        await settle(pilot)
        assert _under_cursor(app) == "Ben Busy"

        # the next one is busy: same again
        await pilot.press("c", "b", "enter")
        await settle(pilot)
        assert _under_cursor(app) == "Cara Callback"

        # a callback tomorrow at three
        await pilot.press("c", "r", "tab", "tab", *"tomorrow 3pm", "enter")
        await settle(pilot)
        with db.reading() as session:
            due = session.execute(
                select(FollowUp.due_at).where(
                    FollowUp.lead_id == _lead_id(db, "Cara Callback"), FollowUp.state == "open"
                )
            ).scalar_one()
        assert due == NOW + timedelta(days=1, hours=5)

        # oops, wrong outcome: ctrl+z within a minute, then c again (on the same lead)
        await pilot.press("ctrl+z")
        await settle(pilot)
        assert _under_cursor(app) == "Cara Callback"
        await pilot.press("c", "r", "enter")
        await settle(pilot)

        # the cursor stayed on Cara: her row under Calls logged; tab goes back to the follow-ups
        assert (app.screen.focused.id, _under_cursor(app)) == ("calls", "Cara Callback")
        await pilot.press("tab")
        assert app.screen.focused.id == "followups"

        # interested: book a demo on Friday 10:00, for the lead who said yes
        for _ in range(5):
            if _under_cursor(app) == "Ida Interested":
                break
            await pilot.press("j")
        assert _under_cursor(app) == "Ida Interested"
        await pilot.press("c", "i", "tab", *"wants a demo", "enter")
        await settle(pilot)
        assert _under_cursor(app) == "Ida Interested"  # the next step is about her
        await pilot.press("m")
        await settle(pilot)
        assert "Ida Interested" in str(app.screen.query_one("Label").render())
        await pilot.press("tab", *"fri 10:00", "ctrl+s")
        await settle(pilot)
        with db.reading() as session:
            meeting = session.execute(select(Meeting)).scalar_one()
            open_followups = session.execute(
                select(FollowUp.id).where(
                    FollowUp.lead_id == meeting.lead_id, FollowUp.state == "open"
                )
            ).all()
        assert meeting.lead_id == _lead_id(db, "Ida Interested")
        assert meeting.starts_at.replace(tzinfo=None) == NOW.replace(tzinfo=None) + timedelta(
            days=2
        )  # Friday 27 Nov 10:00 in London (UTC in November)
        assert open_followups == []  # the "book a meeting" follow-up is closed

        # look up a caller by phone (any format)
        await pilot.press("slash", *"07700900123", "enter")
        await settle(pilot)
        assert isinstance(app.screen, LeadListScreen)
        results = app.screen.query_one("DataTable")
        assert results.row_count == 1
        assert "Ben Busy" in map(str, results.get_row_at(0))
        assert "1 lead shown, newest first" in str(app.screen.query_one("#result-count").render())
        await pilot.press("escape")
        await settle(pilot)

        # what did the toasts say? i
        await pilot.press("i")
        await settle(pilot)
        assert isinstance(app.screen, InboxModal)
        await pilot.press("escape")
        await settle(pilot)

        # tomorrow's list: ] (back with t)
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert "(+1 day)" in str(app.screen.query_one("#day-title").render())
        await pilot.press("t")
        await settle(pilot)
        assert "(today)" in str(app.screen.query_one("#day-title").render())

        # every key of the screen: ?
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpModal)
    with db.reading() as session:
        calls = session.execute(select(Call.outcome).order_by(Call.id)).scalars().all()
    assert calls == ["no_answer", "busy", "callback_requested", "interested"]


async def test_a_burst_goes_on_to_the_next_section_when_a_list_empties(db, make_app, seeded):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert _under_cursor(app) == "Dora Due"  # the one follow-up due
        # not interested closes Dora: her list empties; typed as one burst
        await pilot.press("c", "x", "enter", "c", "n", "enter")
        await settle(pilot)
        assert isinstance(app.screen, DayViewScreen)  # no New lead modal from a stray `n`
    with db.reading() as session:
        called = session.execute(
            select(Lead.name).join(Call, Call.lead_id == Lead.id).order_by(Call.id)
        ).scalars()
        assert list(called) == ["Dora Due", "Nina New"]


async def test_the_day_view_opens_in_the_first_section_with_leads(db, make_app, seeded):
    db.write(lambda s: s.execute(FollowUp.__table__.delete()))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.screen.focused.id == "new-leads"
        assert _under_cursor(app) == "Dora Due"  # not called yet: a new lead too
