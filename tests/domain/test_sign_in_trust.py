"""Issue 23: the password policy means something, and a failing source locks only itself."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadms_tui.domain.errors import ValidationError
from leadms_tui.domain.team.access import check_password_policy

# Common passwords of 10+ characters the old 99-entry list let through.
COMMON = ["iloveyou2024", "Password2024", "qwertyuiop1", "football12345", "letmein12345",
          "monkey123456", "Summer2024!", "1q2w3e4r5t6y"]  # fmt: skip
STRONG = ["purple monkey dishwasher", "tangerine rooftop 42", "violet-harbour-42"]


@pytest.mark.parametrize("password", COMMON)
def test_common_passwords_are_refused_with_zxcvbns_advice(password):
    with pytest.raises(ValidationError) as refused:
        check_password_policy("ana", password)
    message = str(refused.value)
    assert message.startswith("that password is too easy to guess: ") and "\n" not in message


@pytest.mark.parametrize("password", STRONG)
def test_a_strong_password_is_accepted(password):
    check_password_policy("ana", password)


@settings(max_examples=40, deadline=None)
@given(st.text(min_size=0, max_size=300))
def test_any_text_is_accepted_or_refused_in_one_line(password):
    """Long, odd or empty: a verdict, never an exception from the estimator."""
    try:
        check_password_policy("ana", password)
    except ValidationError as exc:
        assert "\n" not in str(exc)
