"""A calling shift without the mouse (issue 11): times in the team's zone, keys that agree."""

from datetime import timedelta

from sqlalchemy import select, update

from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import Call, FollowUp, Lead
from leadms_tui.domain.team.settings import set_setting
from leadms_tui.screens.lead_detail import LeadDetailScreen
from tests.tui.conftest import NOW, settle


async def test_every_time_a_person_reads_is_in_the_team_timezone(db, make_app, seeded):
    db.write(lambda s: set_setting(s, "timezone", "America/New_York", actor=SYSTEM))
    due = NOW + timedelta(days=6, hours=4, minutes=45)  # Tue 1 Dec 14:45 UTC = 09:45 in NY
    db.write(lambda s: s.execute(update(FollowUp).values(due_at=due)))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.push_screen(LeadDetailScreen(seeded["due"].lead_id))
        await settle(pilot)
        timeline = app.screen.query_one("#timeline")
        rows = [str(timeline.get_row_at(i)[1]) for i in range(timeline.row_count)]
        assert any("due Tue 09:45" in row for row in rows), rows
        assert not any("UTC" in row for row in rows)
        assert "America/New_York" in str(timeline.border_subtitle)


async def test_save_and_next_a_calling_shift_without_arrows(db, make_app, seeded):
    ana = seeded["users"]["ana"]
    for index, name in enumerate(["Second Sam", "Third Tia"], start=1):
        lead = create_lead(
            db,
            LeadCreate(name=name, phone=f"07700 90050{index}", channel="phone", owner_id=ana.id),
            actor=ana.actor,
            now=NOW - timedelta(days=1),
        )
        due = NOW + timedelta(hours=4 + index)  # after the 4-business-hour retry of a no-answer
        db.write(
            lambda s, lead=lead, due=due: s.add(
                FollowUp(lead_id=lead.lead_id, owner_id=ana.id, reason="Call", due_at=due)
            )
        )
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        followups = app.screen.query_one("#followups")
        order = [str(followups.get_row_at(i)[2]) for i in range(followups.row_count)]
        assert order == ["Dora Due", "Second Sam", "Third Tia"]
        called = []
        for _ in range(3):
            called.append(str(followups.get_row_at(followups.cursor_row)[2]))
            await pilot.press("c", "n", "enter")
            await settle(pilot)
    # each call moved on to the next lead, though the retry of the last came back to the top
    assert called == ["Dora Due", "Second Sam", "Third Tia"]


async def test_dates_as_people_say_them_are_read_back_before_saving(db, make_app, seeded):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f", "end", *["backspace"] * 16, *"tomorrow 3pm")
        await settle(pilot)
        hint = str(app.screen.query_one(".when-hint").render())
        assert "Thu 26 Nov 15:00 (tomorrow, Europe/London)" in hint
        await pilot.press("enter")  # enter saves, as ctrl+s does
        await settle(pilot)
    with db.reading() as session:
        (due,) = session.execute(select(FollowUp.due_at)).scalars().all()
    assert due == NOW + timedelta(days=1, hours=5)


async def test_the_call_modal_shows_the_number_and_d_dials_it(
    db, make_app, seeded, tmp_path, monkeypatch
):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert app.screen.phone == "+447700900111"
        await pilot.press("d")  # no dial command here: copied, and shown as a tel: link
        await settle(pilot)
        assert app.clipboard == "+447700900111"
        assert "tel:+447700900111" in str(app.screen.query_one("#dial-hint").render())

        dialled = tmp_path / "dialled.txt"
        script = tmp_path / "dialer.sh"
        script.write_text(f'#!/bin/sh\necho "$1" > {dialled}\n')
        script.chmod(0o755)
        monkeypatch.setenv("LEADMS_DIAL_COMMAND", f"{script} {{phone}}")
        await pilot.press("d")
        await settle(pilot)
        for _ in range(100):
            if dialled.exists():
                break
            await pilot.pause(0.05)
    assert dialled.read_text().strip() == "+447700900111"


async def test_ctrl_z_undoes_the_last_call(db, make_app, seeded):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("c", "b", "enter")
        await settle(pilot)
        with db.reading() as session:
            assert session.execute(select(Call.id)).scalars().all() != []
        await pilot.press("ctrl+z")
        await settle(pilot)
        assert any(n.title == "Undone" for n in app._notifications)
    with db.reading() as session:
        assert session.execute(select(Call.id)).scalars().all() == []
        states = session.execute(select(FollowUp.state)).scalars().all()
    assert "open" in states  # the follow-up the call answered is open again


async def test_a_callback_tomorrow_at_three_as_the_readme_says(db, make_app, seeded):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("c", "r")
        await settle(pilot)  # the rules prefill the next follow-up
        await pilot.press("tab", "tab", *"tomorrow 3pm", "enter")
        await settle(pilot)
    with db.reading() as session:
        due = session.execute(select(FollowUp.due_at).where(FollowUp.state == "open")).scalar_one()
    assert due == NOW + timedelta(days=1, hours=5)


async def test_a_chat_only_lead_gets_a_chat_contact_then_is_marked_unreachable(
    db, make_app, seeded
):
    ana = seeded["users"]["ana"]
    chat = create_lead(
        db,
        LeadCreate(name="Mia Messenger", external_id="psid-1", channel="messenger",
                   owner_id=ana.id),
        actor=ana.actor,
    )  # fmt: skip
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.push_screen(LeadDetailScreen(chat.lead_id))
        await settle(pilot)
        assert "Sender   psid-1" in str(app.screen.query_one("#contact").render())  # who wrote
        await pilot.press("c")
        await settle(pilot)
        assert "t logs a chat contact" in str(app.screen.query_one("#dial-hint").render())
        await pilot.press("t", "enter")
        await settle(pilot)
        await pilot.press("c", "u", "enter")
        await settle(pilot)
    with db.reading() as session:
        outcomes = (
            session.execute(
                select(Call.outcome).where(Call.lead_id == chat.lead_id).order_by(Call.id)
            )
            .scalars()
            .all()
        )
        lead = session.get(Lead, chat.lead_id)
    assert outcomes == ["chat", "unreachable"]
    assert (lead.status, lead.lost_reason) == ("lost", "unreachable")
