"""Saved lead-list filters (issue 30): ctrl+s saves the search and filters under a name (the
same name again asks first), ctrl+l recalls or deletes one; per user, audited."""

from sqlalchemy import select

from leadms_tui.domain.leads.saved_filters import FilterCriteria, list_saved_filters
from leadms_tui.domain.models import AuditEvent
from leadms_tui.screens.lead_list import LeadListScreen
from leadms_tui.screens.modals.save_filter_modal import SaveFilterModal
from leadms_tui.screens.modals.saved_filters_modal import SavedFiltersModal
from tests.tui.conftest import settle


def _saved(db, user) -> list:
    with db.reading() as session:
        return list_saved_filters(session=session, user_id=user.id)


def _names(results) -> list[str]:
    return sorted(str(results.get_row_at(i)[1]) for i in range(results.row_count))


async def _type(pilot, *keys: str) -> None:
    await pilot.press(*keys)
    await pilot.pause(0.2)
    await settle(pilot)


async def test_save_replace_recall_and_delete_a_filter(db, make_app, seeded):
    ana = seeded["users"]["ana"]
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await _type(pilot, "slash", *"Nina")
        results = app.screen.query_one("#results")
        assert _names(results) == ["Nina New"]
        await _type(pilot, "ctrl+s")
        assert isinstance(app.screen, SaveFilterModal)
        await _type(pilot, *"Nina's", "enter")
        assert isinstance(app.screen, LeadListScreen)
        saved = _saved(db, ana)
        assert [(f.name, f.criteria.text) for f in saved] == [("Nina's", "Nina")]

        # the same name again asks first; enter again replaces it
        await _type(pilot, "ctrl+u", *"Dora", "ctrl+s", *"Nina's", "enter")
        assert isinstance(app.screen, SaveFilterModal)
        error = str(app.screen.query_one("#save-filter-error").render())
        assert "saved already: enter again replaces it" in error
        assert _saved(db, ana)[0].criteria.text == "Nina"
        await _type(pilot, "enter")
        assert isinstance(app.screen, LeadListScreen)
        assert [f.criteria.text for f in _saved(db, ana)] == ["Dora"]

        # another one, then recall the first over an empty search
        await _type(pilot, "ctrl+u", *"Otto", "ctrl+s", *"Otto", "enter")
        await _type(pilot, "ctrl+u")
        assert len(_names(results)) == 3
        await _type(pilot, "ctrl+l")
        assert isinstance(app.screen, SavedFiltersModal)
        table = app.screen.query_one("#saved-filters")
        assert [str(table.get_row_at(i)[0]) for i in range(table.row_count)] == ["Nina's", "Otto"]
        await _type(pilot, "enter")  # the first: Nina's (now "Dora")
        assert isinstance(app.screen, LeadListScreen)
        assert app.screen.query_one("#search").value == "Dora"
        assert _names(results) == ["Dora Due"]

        # d twice deletes
        await _type(pilot, "ctrl+l", "j", "d")
        assert len(_saved(db, ana)) == 2  # asked first
        await _type(pilot, "d")
        assert [f.name for f in _saved(db, ana)] == ["Nina's"]
        await _type(pilot, "escape")
        assert isinstance(app.screen, LeadListScreen)
    with db.reading() as session:
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.entity == "saved_filter")
        ).all()
    assert sorted(actions) == [
        "saved_filter.create",
        "saved_filter.create",
        "saved_filter.delete",
        "saved_filter.replace",
    ]


async def test_a_recalled_filter_sets_the_filters_and_belongs_to_its_user(db, make_app, seeded):
    ana, bruno = seeded["users"]["ana"], seeded["users"]["bruno"]
    criteria = FilterCriteria(channel="whatsapp", owner_id=ana.id, date_from="-7")
    from leadms_tui.domain.leads.saved_filters import save_filter

    db.write(lambda s: save_filter(s, "Ana's chats", criteria, actor=ana.actor))
    assert _saved(db, bruno) == []
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await _type(pilot, "slash", "ctrl+l", "enter")
        screen = app.screen
        assert isinstance(screen, LeadListScreen)
        assert screen.query_one("#channel").value == "whatsapp"
        assert screen.query_one("#owner").value == ana.id
        assert screen.query_one("#date-from").value == "-7"
        assert _names(screen.query_one("#results")) == ["Nina New"]
    app = make_app("bruno")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await _type(pilot, "slash", "ctrl+l")
        assert app.screen.query_one("#saved-filters").row_count == 0
