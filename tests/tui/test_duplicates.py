"""The managers' duplicates screen and the side-by-side merge (issue 30), driven by keys."""

from datetime import timedelta

from sqlalchemy import select

from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import DuplicateDismissal, Lead, LeadMerge
from leadms_tui.screens.day_view import DayViewScreen
from leadms_tui.screens.duplicates import DuplicatesScreen
from leadms_tui.screens.merge import MergeScreen
from tests.tui.conftest import NOW, settle


def near_duplicates(db, seeded) -> dict[str, str]:
    """Dora again with another phone (same name); Ana twice by one Gmail address."""
    maria = seeded["users"]["maria"]

    def lead(name, at, **values):
        data = LeadCreate(name=name, channel="website", **values)
        return create_lead(db, data, actor=maria.actor, now=at).number

    return {
        "dora2": lead("Dora Due", NOW - timedelta(hours=3), phone="07700 900999"),
        "ana1": lead("Ana Lima", NOW - timedelta(days=5), email="ana.lima+promo@gmail.com",
                     phone="07700 900444"),
        "ana2": lead("ana lima", NOW - timedelta(hours=4), email="analima@googlemail.com"),
    }  # fmt: skip


def _cells(table, row: int) -> list[str]:
    return [str(cell) for cell in table.get_row_at(row)]


async def test_a_manager_dismisses_one_pair_and_merges_another(db, make_app, seeded):
    made = near_duplicates(db, seeded)
    app = make_app("maria")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("D")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DuplicatesScreen)
        pairs = screen.query_one("#pairs")
        assert pairs.row_count == 2
        best = _cells(pairs, 0)  # Ana: same email ignoring dots and +tags, same name
        assert best[1:5] == [made["ana1"], "Ana Lima", made["ana2"], "ana lima"]
        assert best[0] == "90%" and "same email" in best[5]
        pane = str(screen.query_one("#pair").render())
        assert "ana.lima+promo@gmail.com" in pane and "+44 7700 900444" in pane

        await pilot.press("j", "x")  # Dora's pair: two people
        await settle(pilot)
        assert pairs.row_count == 1
        with db.reading() as s:
            assert len(s.execute(select(DuplicateDismissal)).all()) == 1

        await pilot.press("m")
        await settle(pilot)
        merge = app.screen
        assert isinstance(merge, MergeScreen)
        fields = merge.query_one("#merge-fields")
        labels = [str(c.label) for c in fields.columns.values()]
        assert labels[1].endswith("★ survives") and labels[1].startswith(made["ana1"])
        rows = {str(fields.get_row_at(i)[0]).strip(): _cells(fields, i)
                for i in range(fields.row_count)}  # fmt: skip
        assert rows["≠ Name"][1:] == ["● Ana Lima", "ana lima"]
        assert rows["≠ Email"][1:] == ["● ana.lima+promo@gmail.com", "analima@googlemail.com"]
        assert rows["Phone"][1:] == ["● +44 7700 900444", "—"]
        assert rows["Created"][1:] == ["2026-11-20 10:00", "2026-11-25 06:00"]  # London, GMT
        dry = str(merge.query_one("#merge-dry-run").render())
        assert f"{made['ana2']} into {made['ana1']} would move 1 inquiries" in dry

        await pilot.press("j", "j", "l")  # the email: take the right one
        await settle(pilot)
        assert _cells(fields, 2)[1:] == ["ana.lima+promo@gmail.com", "● analima@googlemail.com"]
        assert "from " + made["ana2"] + ": email" in str(merge.query_one("#merge-dry-run").render())
        await pilot.press("s", "s")  # the survivor swapped, and back
        await settle(pilot)
        assert str(list(fields.columns.values())[1].label).endswith("★ survives")

        await pilot.press("M")
        await settle(pilot)
        assert isinstance(app.screen, DuplicatesScreen)
        with db.reading() as s:
            merged = s.execute(select(LeadMerge)).scalar_one()
            survivor = s.execute(select(Lead).where(Lead.number == made["ana1"])).scalar_one()
            other = s.execute(select(Lead).where(Lead.number == made["ana2"])).scalar_one()
        assert other.merged_into_id == survivor.id and survivor.email == "analima@googlemail.com"
        assert any(f"merge {merged.id}" in n.message and "unmerge" in n.message
                   for n in app._notifications)  # fmt: skip
        assert pairs.row_count == 0
        assert "No likely duplicates" in str(app.screen.query_one("#pairs-count").render())


async def test_a_refused_merge_says_why_and_merges_nothing(db, make_app, seeded):
    made = near_duplicates(db, seeded)
    app = make_app("maria")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.push_screen(MergeScreen(made["ana1"], made["ana1"]))
        await settle(pilot)
        status = str(app.screen.query_one("#merge-status").render())
        assert status == "Cannot merge: a lead cannot be merged with itself"
        await pilot.press("M")
        await settle(pilot)
        assert isinstance(app.screen, MergeScreen)
    with db.reading() as s:
        assert s.execute(select(LeadMerge)).first() is None


async def test_a_rep_cannot_open_the_duplicates(db, make_app, seeded):
    near_duplicates(db, seeded)
    app = make_app("ana")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("D")
        await settle(pilot)
        assert isinstance(app.screen, DayViewScreen)
        assert any("only managers and admins" in n.message for n in app._notifications)
        app.push_screen(DuplicatesScreen())  # reached anyhow: the domain refuses the rows
        await settle(pilot)
        assert app.screen.query_one("#pairs").row_count == 0
        assert any("only a manager or an admin" in n.message for n in app._notifications)


async def test_the_palette_offers_duplicates_to_managers_only(db, make_app, seeded):
    for username, offered in (("maria", True), ("ana", False)):
        app = make_app(username)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            titles = {command.title for command in app.get_system_commands(app.screen)}
            assert ("Duplicates" in titles) is offered
            assert "Log call" in titles  # the screen's own keys stay


async def test_pairs_come_a_page_at_a_time(db, make_app, seeded, monkeypatch):
    import leadms_tui.screens.duplicates as screen_module

    near_duplicates(db, seeded)
    monkeypatch.setattr(screen_module, "PAGE_SIZE", 1)
    monkeypatch.setattr(screen_module, "LOAD_MORE_WITHIN", 1)
    app = make_app("maria")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("D")
        await settle(pilot)
        pairs = app.screen.query_one("#pairs")
        assert pairs.row_count == 2  # the first page's last row asked for the next
        assert str(app.screen.query_one("#pairs-count").render()) == "2 pairs"
