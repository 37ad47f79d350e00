"""Column policy (issue 24 finding 2, issue 23): a value that identifies something (a lead
number, a phone, a rep) is never cut, at 80 and at 120 columns; what a narrow terminal cannot
hold leaves by priority, and anything else cut ends in `…`."""

from datetime import timedelta

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st
from phonenumbers import PhoneNumberType
from rich.console import Console
from sqlalchemy import update

from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.leads.phones import display_phone
from leadms_tui.domain.models import FollowUp, Lead
from leadms_tui.widgets.text_table import (
    LEAD_NUMBER_WIDTH,
    PHONE_WIDTH,
    Col,
    as_cell,
    fit,
    plan_widths,
)
from tests.tui.conftest import NOW, settle

SIZES = [(80, 24), (120, 40)]
EVERYDAY = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE)
EXAMPLES = sorted(
    (region, kind)
    for region in phonenumbers.SUPPORTED_REGIONS
    for kind in EVERYDAY
    if phonenumbers.example_number_for_type(region, kind) is not None
)


@given(st.sampled_from(EXAMPLES))
def test_a_phone_of_any_region_fits_the_phone_column(example):
    number = phonenumbers.example_number_for_type(*example)
    shown = display_phone(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    assert len(shown) <= PHONE_WIDTH, shown


NAMES = st.text(st.characters(codec="latin-1", categories=("L", "N", "Zs", "P")), max_size=60)


@given(NAMES, st.integers(3, 30))
def test_a_cut_value_ends_in_an_ellipsis(value, width):
    """As a DataTable draws a one-line cell: a value wider than its column ends in `…`."""
    console = Console(width=200)
    lines = console.render_lines(as_cell(value), console.options.update(width=width, no_wrap=True))
    line = "".join(segment.text for segment in lines[0])
    assert len(line) == width
    if len(value) > width:
        assert line.endswith("…")
    else:
        assert line.rstrip() == value.rstrip()


COLUMNS = [
    fit("Lead", 18), Col("Name", 20, floor=8), fit("Phone", 19), Col("Note", 24, drop=2),
    Col("Tries", 5, drop=3), fit("Rep", 10),
]  # fmt: skip


@given(st.integers(20, 200))
def test_fit_columns_keep_their_width_and_the_rest_gives_way(room):
    widths = plan_widths(COLUMNS, room)
    for column, width in zip(COLUMNS, widths, strict=True):
        if column.fit:
            assert width == column.width  # never narrowed, never dropped (no drop rank)
        elif width is not None:
            floor = min(column.width, max(column.floor, len(column.label)))
            assert floor <= width <= column.width
    needed_by_fit = sum(c.width + 2 for c in COLUMNS if c.fit)
    if room >= needed_by_fit + 2 * (8 + 2):
        assert sum(w + 2 for w in widths if w is not None) <= room
    if room >= sum(c.width + 2 for c in COLUMNS):
        assert widths == [c.width for c in COLUMNS]  # room for all: nothing changes


def _add_wide_leads(db, seeded):
    """A Brazilian mobile and a Spanish number, due today, one with a 4-digit day sequence."""
    ana = seeded["users"]["ana"]
    for name, phone, number in [
        ("Bruna Brasil", "+55 41 99494-4100", "LEAD-20261125-3076"),
        ("Pedro España", "+34 652 94 12 87", None),
    ]:
        created = create_lead(
            db,
            LeadCreate(name=name, phone=phone, channel="website", owner_id=ana.id),
            actor=ana.actor,
            now=NOW - timedelta(days=1),
        )

        def write(session, lead_id=created.lead_id, number=number):
            if number:
                session.execute(update(Lead).where(Lead.id == lead_id).values(number=number))
            session.add(
                FollowUp(lead_id=lead_id, owner_id=ana.id, reason="Call back " * 5,
                         due_at=NOW - timedelta(minutes=30))
            )  # fmt: skip

        db.write(write)


def _assert_identifying_values_whole(table, wanted: set[str]) -> None:
    """Every fit column the table shows is wide enough for its values, lies inside the
    visible width, and the wanted columns are among them."""
    shown = table.shown_columns()
    assert wanted <= set(shown), (table.id, shown)
    visible_width = table.scrollable_content_region.width
    x = 0
    for index, column in enumerate(table.ordered_columns):
        width = column.get_render_width(table)
        if getattr(column, "hidden", False):
            continue
        label = column.label.plain
        spec = table._policy[index]
        if spec.fit:
            longest = max(
                (len(table.get_row_at(r)[index].plain) for r in range(table.row_count)),
                default=0,
            )
            assert longest <= column.width, (table.id, label, longest, column.width)
            assert x + width <= visible_width, (table.id, label, "off-screen")
        x += width


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("who", ["ana", "maria"])
async def test_the_day_view_never_cuts_a_lead_number_phone_or_rep(db, make_app, seeded, who, size):
    _add_wide_leads(db, seeded)
    app = make_app(who)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        followups = app.screen.query_one("#followups")
        numbers = {str(followups.get_row_at(r)[1]) for r in range(followups.row_count)}
        assert "LEAD-20261125-3076" in numbers
        phones = {str(followups.get_row_at(r)[3]) for r in range(followups.row_count)}
        assert "+55 41 99494-4100" in phones
        wanted = {"Due", "Lead", "Name", "Phone"} | ({"Rep"} if who == "maria" else set())
        _assert_identifying_values_whole(followups, wanted)
        new_leads = app.screen.query_one("#new-leads")
        _assert_identifying_values_whole(
            new_leads, {"Lead", "Name", "Phone"} | ({"Rep"} if who == "maria" else set())
        )


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_the_lead_list_never_cuts_a_lead_number_or_phone(db, make_app, seeded, size):
    _add_wide_leads(db, seeded)
    app = make_app("maria")
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await settle(pilot)
        results = app.screen.query_one("#results")
        assert results.row_count >= 5
        _assert_identifying_values_whole(results, {"Lead", "Name", "Phone", "Status"})
        if size[0] >= 120:
            assert "Owner" in results.shown_columns()


def test_lead_numbers_of_four_digit_sequences_fit():
    assert len("LEAD-20261206-3076") <= LEAD_NUMBER_WIDTH


def _inside(widget, container) -> bool:
    region = widget.region
    return region.height > 0 and container.region.contains_region(region)


async def test_the_call_modal_keeps_what_will_happen_in_view_at_80x24(make_app):
    """Issue 24 finding 7: at 80x24 the `→ when` and `Rules:` lines were below the modal's
    edge, the lines that say what saving will do."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("c", "n")  # no answer: the rules propose a retry
        await settle(pilot)
        modal = app.screen
        box = modal.query_one("Vertical")
        when, effects = modal.query_one(".when-hint"), modal.query_one("#rule-effects")
        assert str(when.render()).startswith("→"), when.render()
        assert str(effects.render()).startswith("Rules:")
        assert _inside(when, box) and _inside(effects, box)
        assert box.region.bottom <= 24 - 1  # above the footer
        assert _inside(modal.query_one("#followup"), box)


async def test_the_reports_chart_stays_readable_at_80x24(db, make_app, seeded):
    from tests.tui.test_reports_screen import seed_activity

    seed_activity(db, seeded)
    app = make_app("maria")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("R")
        await settle(pilot)
        chart = app.screen.query_one("#calls-chart")
        assert chart.region.height >= 7, chart.region
        report = app.screen.query_one("#report")
        assert {"Rep", "Calls", "Missed", "Won", "Value"} <= set(report.shown_columns())
        assert report.virtual_size.width <= report.scrollable_content_region.width


async def test_the_footer_starts_with_the_keys_that_explain_the_rest(make_app):
    """Issue 24: at 120 columns `?`, `/` and `i` were cut off the footer's end."""
    from textual.widgets._footer import FooterKey

    app = make_app("maria")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        keys = list(app.screen.query(FooterKey))
        assert [key.description for key in keys[:3]] == ["Keys", "Search", "Inbox"]
        assert all(key.region.right <= 120 and key.region.width > 0 for key in keys[:3])


def _help_actions(app) -> set[str]:
    table = app.screen.query_one("DataTable")
    return {str(table.get_row_at(i)[1]) for i in range(table.row_count)}


@pytest.mark.parametrize(
    ("who", "has", "has_not"),
    [
        ("ana", {"Log call", "Search", "Keys"}, {"Commissions", "Settings", "Assign", "Rules"}),
        ("maria", {"Log call", "Commissions", "Assign", "Rep filter"}, {"Settings", "Rules"}),
    ],
)
async def test_help_lists_only_what_the_role_can_do(make_app, who, has, has_not):
    app = make_app(who)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)
        actions = _help_actions(app)
        assert has <= actions
        assert not actions & has_not
        assert not {"Cursor up", "Cursor down", "Page up", "Page down", ""} & actions  # Textual's


async def test_a_toast_lasts_a_few_seconds_at_most(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.notify("a long story", timeout=90)
        app.notify("the default")
        await pilot.pause()
        assert all(n.timeout <= 8 for n in app._notifications)


async def test_a_hint_wraps_instead_of_ending_mid_word(make_app):
    """Issue 24: `… press h again to recor` at 80 columns."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.screen.query_one("#new-leads").focus()
        for keys in (["m"], ["ctrl+s"], ["right_square_bracket"]):
            await pilot.press(*keys)
            await settle(pilot)
        app.screen.query_one("#meetings").focus()
        for keys in (["o"], ["h"]):
            await pilot.press(*keys)
            await settle(pilot)
        status = app.screen.query_one("#outcome-status")
        assert "press h again to record it as held" in str(status.render())
        box = status.parent
        assert status.region.height >= 2  # wrapped onto a second line
        assert box.region.contains_region(status.region)


async def test_edit_fields_keep_their_names_and_ticks_show_by_mark(db, make_app, seeded):
    """Issue 24: filled fields lost their labels (placeholders); multi-choice was colour only."""
    from leadms_tui.domain.models import FieldEntity, FieldKind
    from leadms_tui.screens.lead_detail import LeadDetailScreen
    from tests.tui.test_field_flows import define, set_values

    times = ("times", FieldKind.MULTI_CHOICE, "Preferred times", ["Mornings", "Evenings"], False)
    define(db, FieldEntity.LEAD, [times])
    set_values(db, FieldEntity.LEAD, seeded["due"].lead_id, {"times": "Evenings"})
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(LeadDetailScreen(seeded["due"].lead_id))
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        name = app.screen.query_one("#name")
        assert name.value == "Dora Due" and name.border_title == "Name"
        assert app.screen.query_one("#phone").border_title == "Phone"
        ticks = app.screen.query_one("#field-times")
        lines = ["".join(s.text for s in ticks.render_line(y)) for y in range(2)]
        assert lines[0].split() == ["☐", "Mornings"] and lines[1].split() == ["☑", "Evenings"]
