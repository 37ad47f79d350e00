"""No write path stores a control character, on either engine (issue 10).

A NUL byte made PostgreSQL refuse the whole lead and a lone surrogate made both engines fail;
escape sequences were stored as sent and replayed on every terminal that showed them.
"""

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text

from leadms_tui.domain import text as cleaning
from leadms_tui.domain.errors import ValidationError
from leadms_tui.domain.leads.checks import MAX_NAME_LENGTH
from leadms_tui.domain.leads.edits import LeadUpdate, update_lead
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import CallOutcome, Lead
from leadms_tui.domain.work.calls import log_call
from leadms_tui.domain.work.followups import add_followup

NASTY = "A\x00b\x1b]0;t\x07c\x1b[2Jd\x7fe\x85f\u202eg\ud800h\tline\r\nnext"
CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
FOREIGN = "\x00\x1b\x07\x7f\x85\u202e\ud800"


def _stored_text(db) -> list[str]:
    queries = [
        "SELECT name FROM leads",
        "SELECT first_message FROM leads",
        "SELECT message FROM inquiries",
        "SELECT note FROM calls",
        "SELECT reason FROM follow_ups",
        "SELECT CAST(changes AS TEXT) FROM audit_events",
        "SELECT CAST(personal AS TEXT) FROM audit_events",
        "SELECT CAST(attributes AS TEXT) FROM inquiries",
    ]
    with db.reading() as session:
        return [v for q in queries for (v,) in session.execute(text(q)) if v is not None]


def test_intake_edit_call_and_followup_store_clean_text(db, team):
    ana = team["ana"]
    result = create_lead(
        db,
        LeadCreate(
            name=NASTY,
            phone="07700 900123",
            channel="website",
            message=NASTY,
            attributes={"utm_source\x1b": NASTY},
            owner_id=ana.id,
        ),
        actor=ana.actor,
    )

    def work(session):
        lead = session.get(Lead, result.lead_id)
        update_lead(
            session,
            lead.id,
            LeadUpdate(name=f"Edited {NASTY}"),
            expected_version=lead.version,
            actor=ana.actor,
        )
        log_call(session, lead.id, CallOutcome.NO_ANSWER, actor=ana.actor, note=NASTY)
        add_followup(session, lead.id, due_at=lead.created_at, reason=NASTY, actor=ana.actor)

    db.write(work)
    stored = _stored_text(db)
    assert stored
    for value in stored:
        assert not any(char in value for char in FOREIGN), repr(value)
    with db.reading() as session:
        lead = session.get(Lead, result.lead_id)
        assert lead.name.startswith("Edited A\ufffdb\ufffd]0;t\ufffdc")  # visible, not dropped
        assert "\n" not in lead.name and "\t" not in lead.name
        assert lead.first_message.endswith("h\tline\nnext")  # lines kept in a message


def test_edits_have_the_name_cap_of_intake(db, team):
    ana = team["ana"]
    result = create_lead(
        db, LeadCreate(name="Short", phone="07700 900124", channel="phone"), actor=ana.actor
    )
    with pytest.raises(ValidationError, match=f"longer than {MAX_NAME_LENGTH}"):
        db.write(
            lambda s: update_lead(
                s,
                result.lead_id,
                LeadUpdate(name="N" * (MAX_NAME_LENGTH + 1)),
                expected_version=1,
                actor=ana.actor,
            )
        )


@given(st.text())
def test_cleaned_text_has_no_control_character_and_keeps_the_rest(value):
    line, lines = cleaning.clean_line(value), cleaning.clean_text(value)
    for cleaned in (line, lines):
        assert not CONTROLS.search(cleaned)
        cleaned.encode("utf-8")  # storable by every engine (a lone surrogate would raise)
    assert "\n" not in line and "\t" not in line and "\r" not in lines
    assert len(line) == len(value.replace("\r\n", "\n"))  # replaced one for one, never dropped
    assert cleaning.clean_line(line) == line  # idempotent


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(JSON_VALUES)
def test_json_cleaning_shortcut_agrees_with_cleaning_every_string(value):
    """`clean_data` skips values whose JSON shows nothing to clean; it must never skip dirt."""
    assert cleaning.clean_data(value) == cleaning._clean_parts(value)


# Text rich in what needs cleaning (and in what only looks like it: escapes, emoji, accents).
RISKY_TEXT = st.text(
    st.sampled_from("\x00\x01\x08\x0c\r\x1f\x7f\x80\x85\x9f\u202a\u202e\u2066\u2069\ud800\udfff")
    | st.sampled_from("\\u00\t\né😀\u2028ab")
    | st.characters()
)
RISKY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | RISKY_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(RISKY_TEXT, inner, max_size=4),
    max_leaves=12,
)


@given(RISKY_JSON)
def test_json_text_for_bulk_writes_is_what_a_json_column_would_store(value):
    """`clean_json` serializes once where it can; the text must equal the cleaned value's."""
    assert cleaning.clean_json(value) == json.dumps(cleaning._clean_parts(value))


@pytest.mark.parametrize(
    ("value", "cleaned"),
    [
        ({"name": "Ana \u202egnp.exe"}, {"name": "Ana \ufffdgnp.exe"}),  # a bidi override
        ({"note": ["a\ud800b", 7, None]}, {"note": ["a\ufffdb", 7, None]}),  # a lone surrogate
        ({"k\u2066ey": True}, {"k\ufffdey": True}),  # keys too
        ([{"x": "\x85\x00"}], [{"x": "\ufffd\ufffd"}]),  # C1 raw, C0 escaped in the JSON
        (("tab\tkept", "line\r\nend"), ["tab\tkept", "line\nend"]),  # a tuple: cleaned as a list
        (("a", "b"), ["a", "b"]),  # a clean tuple is a list too
        ({"clean": "é😀 \\u00e9"}, {"clean": "é😀 \\u00e9"}),  # escapes only look like dirt
    ],
)
def test_json_values_are_cleaned_inside(value, cleaned):
    assert cleaning.clean_data(value) == cleaned
    assert json.loads(cleaning.clean_json(value)) == json.loads(json.dumps(cleaned))


@given(RISKY_JSON)
def test_json_cleaning_shortcut_agrees_on_risky_text(value):
    assert cleaning.clean_data(value) == cleaning._clean_parts(value)


@pytest.mark.parametrize(
    ("value", "lines", "shown"),
    [
        (None, False, ""),
        (42, False, "42"),
        ("a\r\nb\tc", False, "a b c"),
        ("a\r\nb\tc", True, "a\nb\tc"),
        ("\x1b[31mred", False, "\ufffd[31mred"),  # an escape sequence is never sent as one
        ("lone \r", True, "lone \n"),
        ("Xavier XX-1", False, "Xavier XX-1"),  # ordinary letters are never touched
    ],
)
def test_visible_makes_any_value_safe_to_print(value, lines, shown):
    assert cleaning.visible(value, lines=lines) == shown


def test_visible_is_one_line_unless_asked():
    assert cleaning.visible("two\nlines") == "two lines"
