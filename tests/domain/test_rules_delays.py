"""The follow-up delay a person types for a rule, shared by the rules editor and the CLI."""

import pytest

from leadms_tui.domain.errors import ValidationError
from leadms_tui.domain.work.rules.delays import format_delay, parse_delay


@pytest.mark.parametrize(
    ("text", "params"),
    [
        ("30m", {"after_minutes": 30}),
        ("4bh", {"after_business_hours": 4}),
        ("1.5bh", {"after_business_hours": 1.5}),
        ("2bd@10:00", {"after_business_days": 2, "at": "10:00"}),
        ("picked", {"at_picked_time": True}),
        ("picked|1bd@9:30", {"at_picked_time": True, "after_business_days": 1, "at": "09:30"}),
        (" 2 BD @ 10:00 ", {"after_business_days": 2, "at": "10:00"}),
        ("", {}),
    ],
)
def test_follow_up_delay_language(text, params):
    assert parse_delay(text) == params
    assert parse_delay(format_delay(params)) == params


@pytest.mark.parametrize("text", ["soon", "30", "2h", "4bh@10:00", "30m@9:00", "1bd@", "-1bd"])
def test_a_delay_outside_the_language_is_refused_with_its_grammar(text):
    with pytest.raises(ValidationError, match="use 30m, 4bh, 2bd@10:00"):
        parse_delay(text)


@pytest.mark.parametrize(
    ("params", "text"),
    [
        ({"after_minutes": 30}, "30m"),
        ({"after_business_hours": 4.0}, "4bh"),
        ({"after_business_hours": 1.5}, "1.5bh"),
        ({"after_business_days": 2, "at": "10:00"}, "2bd@10:00"),
        ({"at": "09:30"}, "1bd@09:30"),  # days default to one
        ({"after_minutes": 30, "at": "09:30"}, "30m"),  # a time of day only after days
        ({"at_picked_time": True}, "picked"),
        ({"at_picked_time": False, "after_minutes": 5}, "5m"),
        ({"at_picked_time": True, "after_business_days": 1, "at": "09:30"}, "picked|1bd@09:30"),
        ({}, ""),
    ],
)
def test_a_delay_is_shown_as_typed(params, text):
    assert format_delay(params) == text


def test_a_refused_delay_quotes_what_was_left_of_it():
    with pytest.raises(ValidationError) as refused:
        parse_delay("Picked| 2 H")
    assert str(refused.value) == (
        "follow-up delay '2h': use 30m, 4bh, 2bd@10:00, picked or picked|1bd@10:00"
    )
