"""Every variant table covers its enum exactly: a call outcome or field type added to the enum
but missing from a table fails here, not on a screen once such a call or field exists."""

from enum import StrEnum

import pytest

from leadms_tui import looks
from leadms_tui.domain.fields import kinds
from leadms_tui.domain.models import (
    Call,
    CallOutcome,
    FieldDefinition,
    FieldKind,
    FieldValue,
    MessageState,
)
from leadms_tui.domain.work import outcomes

TABLES = [
    (outcomes.MEANINGS, CallOutcome),
    (looks.OUTCOME_LOOKS, CallOutcome),
    (kinds.KINDS, FieldKind),
    (looks.KIND_LOOKS, FieldKind),
    (looks.MESSAGE_LOOKS, MessageState),
]
NAMES = ["outcome meanings", "outcome looks", "field kinds", "field kind looks", "message looks"]


def _check_covers(table: dict, enum: type[StrEnum]) -> None:
    missing = [member.value for member in enum if member not in table]
    extra = [key for key in table if not isinstance(key, enum)]
    assert not missing and not extra, f"{enum.__name__}: missing {missing}, extra {extra}"
    assert list(table) == list(enum), "in the enum's order (the call modal lists them so)"


@pytest.mark.parametrize(("table", "enum"), TABLES, ids=NAMES)
def test_each_table_covers_its_enum_exactly(table, enum):
    _check_covers(table, enum)


@pytest.mark.parametrize(("table", "enum"), TABLES, ids=NAMES)
def test_a_table_missing_an_entry_is_caught(table, enum):
    for member in enum:
        short = {key: value for key, value in table.items() if key != member}
        with pytest.raises(AssertionError, match=member.value):
            _check_covers(short, enum)


def test_values_fit_the_text_columns_that_store_them():
    # Stored as plain text (no CHECK, no enum type): the column's length is the only limit.
    assert all(len(o.value) <= Call.__table__.c.outcome.type.length for o in CallOutcome)
    assert all(len(k.value) <= FieldDefinition.__table__.c.kind.type.length for k in FieldKind)


def test_outcome_keys_are_distinct_letters_and_colours_terminal_colours():
    keys = [look.key for look in looks.OUTCOME_LOOKS.values()]
    assert len(set(keys)) == len(keys) and all(len(k) == 1 and k.islower() for k in keys)
    assert "d" not in keys  # the call modal's Dial
    colours = [look.colour for look in looks.OUTCOME_LOOKS.values()]
    assert len(set(colours)) == len(colours) and all(0 <= c <= 15 for c in colours)


def test_outcome_meanings_agree_with_each_other():
    for outcome, meaning in outcomes.MEANINGS.items():
        assert meaning.words, outcome
        assert not (meaning.closes_as and meaning.followup), outcome  # a closed lead waits for none
        assert not (meaning.unanswered and meaning.connected), outcome
        assert not meaning.closes_as or meaning.ends_attempt, outcome


def test_each_kind_filters_on_a_real_column_and_files_alone_parse_nothing():
    columns = set(FieldValue.__table__.c.keys())
    words = [rules.words for rules in kinds.KINDS.values()]
    assert len(set(words)) == len(words)
    for kind, rules in kinds.KINDS.items():
        assert rules.column in columns, kind
        assert (rules.parse is None) == (rules.column == "file_id"), kind


def test_each_kind_look_has_the_input_its_rules_need_and_hints_that_fill_in():
    for kind, look in looks.KIND_LOOKS.items():
        assert (look.entry == looks.Entry.FILE) == (kind in kinds.FILE_KINDS), kind
        takes_options = look.entry in (looks.Entry.PICK, looks.Entry.TICKS)
        assert takes_options == kinds.KINDS[kind].options, kind
        for template in (look.asks, look.placeholder):
            said = looks.say(template, currency="EUR", options=["Gold", "Silver"])
            assert "{" not in said, (kind, said)
    assert looks.say(looks.KIND_LOOKS[FieldKind.MONEY].placeholder, currency="EUR") == (
        "amount in EUR, e.g. 1,250.00"
    )
