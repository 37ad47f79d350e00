"""Phone normalization, including fuzzed input that must never raise."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadms_tui.domain.leads.phones import normalize_phone
from leadms_tui.domain.models import PhoneFlag


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("07700 900123", "GB", "+447700900123"),
        ("+44 (0)7700 900123", "US", "+447700900123"),
        ("0044 7700 900123", "US", "+447700900123"),
        ("p:+447700900456", "US", "+447700900456"),
        ("+1 (202) 555-0143", "GB", "+12025550143"),
        ("202.555.0143", "US", "+12025550143"),
        ("+55 11 98765-4321", "GB", "+5511987654321"),
        ("5511987654321", "GB", "+5511987654321"),  # bare international digits
    ],
)
def test_formats_normalize_to_e164(raw, region, e164):
    assert normalize_phone(raw, region).e164 == e164


def test_whatsapp_ids_are_international_without_plus():
    assert normalize_phone("12025550143", "GB", international=True).e164 == "+12025550143"


def test_possible_but_not_valid_is_kept_and_flagged():
    phone = normalize_phone("07700 900123", "GB")  # Ofcom's drama range: not in the plan
    assert (phone.e164, phone.flag) == ("+447700900123", PhoneFlag.NOT_VALID)


@pytest.mark.parametrize("raw", ["call me", "0770", "12", "+", "()"])
def test_unreadable_numbers_are_flagged_unusable(raw):
    phone = normalize_phone(raw, "GB")
    assert (phone.e164, phone.flag, phone.raw) == (None, PhoneFlag.UNUSABLE, raw.strip())


@given(st.text(max_size=40), st.sampled_from(["GB", "US", "BR", "ES"]), st.booleans())
def test_any_text_normalizes_without_raising(raw, region, international):
    phone = normalize_phone(raw, region, international=international)
    assert phone.e164 is None or phone.e164.startswith("+")


def test_a_national_number_on_whatsapp_still_uses_the_region():
    assert normalize_phone("07700 900222", "GB", international=True).e164 == "+447700900222"
