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
