"""Keys typed faster than screens open are never lost (issue 11 §1)."""

from sqlalchemy import select
from textual import events

from leadms_tui.domain.models import Call
from leadms_tui.screens.day_view import DayViewScreen
from tests.tui.conftest import settle


def burst(app, keys: str | list[str]) -> None:
    """Post keys the way the terminal driver does: all at once, no waiting in between."""
    for key in keys:
        if key == " ":
            key = "space"
        char = key if len(key) == 1 else {"slash": "/", "space": " "}.get(key)
        app.post_message(events.Key(key, char))


async def test_c_n_enter_as_one_burst_saves_the_call(db, make_app, seeded):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        burst(app, ["c", "n", "enter"])
        await settle(pilot)
        await settle(pilot)
        assert isinstance(app.screen, DayViewScreen), app.screen
    with db.reading() as session:
        calls = session.execute(select(Call.outcome)).scalars().all()
    assert calls == ["no_answer"]


async def test_a_twenty_key_burst_with_a_note_arrives_in_order(db, make_app, seeded):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        burst(app, ["c", "b", "tab", *"left a message", "enter"])  # 18 keys
        await settle(pilot)
        await settle(pilot)
        assert isinstance(app.screen, DayViewScreen), app.screen
    with db.reading() as session:
        calls = session.execute(select(Call.outcome, Call.note)).all()
    assert [tuple(c) for c in calls] == [("busy", "left a message")]


async def test_typing_into_the_search_right_after_slash_keeps_every_letter(make_app, seeded):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        burst(app, ["slash", *"Dora"])
        await settle(pilot)
        await pilot.pause(0.3)
        await settle(pilot)
        assert app.screen.query_one("#search").value == "Dora"
        assert app.screen.query_one("#results").row_count == 1
