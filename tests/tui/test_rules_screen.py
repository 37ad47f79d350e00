"""The admin's rules screen, driven by key presses against real databases."""

import pytest
from sqlalchemy import select

from leadms_tui.app import LeadMSApp
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.models import AuditEvent, Role, Rule
from leadms_tui.domain.team.users import add_user
from leadms_tui.domain.work.rules import list_rules
from leadms_tui.screens.modals.rule_modal import RuleModal
from leadms_tui.screens.settings.rules import RulesScreen
from tests.tui.conftest import settle


@pytest.fixture
def admin_app(db, seeded):
    admin = db.write(lambda s: add_user(s, "ada", role=Role.ADMIN, actor=SYSTEM, password="secret"))
    return LeadMSApp(db, signed_in=admin)


def _rules(db) -> list[Rule]:
    with db.reading() as session:
        return list_rules(session=session)


async def _open(app, pilot) -> RulesScreen:
    await settle(pilot)
    app.push_screen(RulesScreen())
    await settle(pilot)
    assert isinstance(app.screen, RulesScreen)
    return app.screen


async def _type(pilot, field: str, text: str) -> None:
    widget = pilot.app.screen.query_one(f"#{field}")
    widget.clear()
    widget.focus()
    await pilot.press(*text)


def _notes(app) -> list[str]:
    return [n.message for n in app._notifications]


async def test_lists_the_default_rules_in_order(db, admin_app):
    async with admin_app.run_test(size=(120, 40)) as pilot:
        screen = await _open(admin_app, pilot)
        table = screen.query_one("#rules")
        rows = [table.get_row_at(i) for i in range(table.row_count)]
    assert [str(row[1]) for row in rows] == [rule.name for rule in _rules(db)]
    assert len(rows) == 6 and all(str(row[0]) == "✓" for row in rows)
    assert str(rows[0][2]).startswith("when a call is no answer/busy/voicemail")


async def test_space_disables_the_rule_and_keeps_the_cursor(db, admin_app):
    async with admin_app.run_test(size=(120, 40)) as pilot:
        screen = await _open(admin_app, pilot)
        await pilot.press("down", "space")
        await settle(pilot)
        table = screen.query_one("#rules")
        assert table.cursor_row == 1 and str(table.get_row_at(1)[0]) == "·"
    assert [rule.enabled for rule in _rules(db)] == [True, False, True, True, True, True]


async def test_add_a_rule(db, admin_app):
    async with admin_app.run_test(size=(120, 40)) as pilot:
        screen = await _open(admin_app, pilot)
        await pilot.press("a")
        await settle(pilot)
        modal = admin_app.screen
        assert isinstance(modal, RuleModal)
        await pilot.press(*"Busy: retry soon")
        modal.query_one("#trigger").value = "call_outcome"
        await _type(pilot, "values", "busy")
        modal.query_one("#action").value = "create_followup"
        await _type(pilot, "delay", "30m")
        await _type(pilot, "message", "Retry: busy")
        await settle(pilot)
        preview = str(modal.query_one("#rule-preview").render())
        assert preview == "when a call is busy: follow-up in 30 min"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert admin_app.screen is screen
        assert screen.query_one("#rules").row_count == 7
    rule = _rules(db)[-1]
    assert (rule.name, rule.trigger, rule.trigger_values, rule.position) == (
        "Busy: retry soon",
        "call_outcome",
        ["busy"],
        7,
    )
    assert (rule.action, rule.action_params) == (
        "create_followup",
        {"after_minutes": 30, "reason": "Retry: busy"},
    )


async def test_edit_a_rule_keeps_what_was_not_changed(db, admin_app):
    before = _rules(db)[2]
    async with admin_app.run_test(size=(120, 40)) as pilot:
        await _open(admin_app, pilot)
        await pilot.press("down", "down", "e")
        await settle(pilot)
        assert admin_app.screen.query_one("#delay").value == "picked|1bd@10:00"
        await _type(pilot, "name", "Callback: when asked")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(admin_app.screen, RulesScreen)
    after = _rules(db)[2]
    assert (after.id, after.name, after.version) == (before.id, "Callback: when asked", 2)
    for key in ("trigger", "trigger_values", "conditions", "action", "action_params", "position"):
        assert getattr(after, key) == getattr(before, key)
    with db.reading() as session:
        events = session.execute(
            select(AuditEvent).filter_by(action="rule.save", entity_id=str(before.id))
        ).scalars()
        assert [event.actor for event in events] == ["ada"]


async def test_every_default_rule_reads_back_unchanged_in_the_form(db, admin_app):
    async with admin_app.run_test(size=(120, 40)) as pilot:
        await _open(admin_app, pilot)
        for rule in _rules(db):
            admin_app.push_screen(RuleModal(rule))
            await settle(pilot)
            typed = admin_app.screen.build_rule()
            for key in ("name", "trigger", "trigger_values", "trigger_hours", "business_time"):
                assert getattr(typed, key) == getattr(rule, key)
            assert (typed.conditions, typed.action_params) == (rule.conditions, rule.action_params)
            await pilot.press("escape")
            await settle(pilot)


async def test_time_rule_without_hours_is_refused_and_typing_kept(db, admin_app):
    async with admin_app.run_test(size=(120, 40)) as pilot:
        await _open(admin_app, pilot)
        await pilot.press("a")
        await settle(pilot)
        modal = admin_app.screen
        await pilot.press(*"Idle leads")
        modal.query_one("#trigger").value = "no_activity"
        modal.query_one("#action").value = "notify"
        await _type(pilot, "to", "managers")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert admin_app.screen is modal
        message = "a time rule needs a number of hours above 0"
        assert str(modal.query_one("#rule-error").render()) == message
        assert message in _notes(admin_app)
        assert modal.query_one("#name").value == "Idle leads"
        assert modal.query_one("#to").value == "managers"
    assert len(_rules(db)) == 6


async def test_p_previews_the_rule(admin_app):
    async with admin_app.run_test(size=(120, 40)) as pilot:
        screen = await _open(admin_app, pilot)
        await pilot.press("p")
        await settle(pilot)
        text = str(screen.query_one("#preview").render())
        assert "runs when the event happens" in text
        await pilot.press("down", "down", "down", "down", "p")
        await settle(pilot)
        text = str(screen.query_one("#preview").render())
        assert "untouched for 0.5 business hours" in text and "due now for " in text


async def test_a_rep_cannot_change_rules(db, make_app):
    app = make_app("ana")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open(app, pilot)
        bindings = screen.active_bindings
        assert [bindings[key].enabled for key in ("space", "a", "e", "p")] == [
            False,
            False,
            False,
            True,
        ]
        await pilot.press("space", "a")
        await settle(pilot)
        assert app.screen is screen
        screen.action_toggle_rule()  # forced past the greyed-out key
        await settle(pilot)
        assert "only an admin can change rules" in _notes(app)
    assert all(rule.enabled for rule in _rules(db))


async def test_j_k_home_end_move_and_space_says_what_it_did(db, admin_app):
    async with admin_app.run_test(size=(120, 40)) as pilot:
        screen = await _open(admin_app, pilot)
        table = screen.query_one("#rules")
        await pilot.press("j", "j", "k")
        assert table.cursor_row == 1
        await pilot.press("end")
        assert table.cursor_row == table.row_count - 1
        await pilot.press("home", "j", "space")
        await settle(pilot)
        name = _rules(db)[1].name
        assert f"Rule {name!r} disabled: space enables it again" in _notes(admin_app)
    assert [rule.enabled for rule in _rules(db)] == [True, False, True, True, True, True]
