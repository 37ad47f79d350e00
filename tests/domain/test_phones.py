"""Phone normalization, including fuzzed input that must never raise."""

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadms_tui.domain.leads.phones import (
    display_phone,
    international_start,
    is_valid_region,
    normalize_phone,
)
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
        ("55 11 98765-4321", "GB", "+5511987654321"),  # the same with separators
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


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("07911 123456", "GB", "+447911123456"),  # in the team's region
        ("+34 612 34 56 78", "GB", "+34612345678"),  # outside it
        ("612 34 56 78", "ES", "+34612345678"),  # a region without a trunk prefix
    ],
)
def test_valid_numbers_carry_no_flag_and_are_usable(raw, region, e164):
    phone = normalize_phone(raw, region)
    assert (phone.e164, phone.flag, phone.usable) == (e164, None, True)


def test_an_unreadable_number_is_not_usable():
    assert normalize_phone("call me", "GB").usable is False


def test_the_reading_with_a_number_wins_over_an_unusable_one():
    """Digits without "+" are read nationally first; when that fails the international
    reading, not valid but possible, is kept (its E.164 form is what dedupe needs)."""
    phone = normalize_phone("447700900123", "US")
    assert (phone.e164, phone.flag) == ("+447700900123", PhoneFlag.NOT_VALID)


def test_display_phone_is_the_international_format():
    assert display_phone("+447911123456") == "+44 7911 123456"
    assert display_phone("not a number") == "not a number"


@pytest.mark.parametrize(
    ("digits", "region", "start"),
    [
        ("07700", "GB", "+447700"),
        ("07700", "gb", "+447700"),
        ("0", "GB", "+44"),
        ("7700", "GB", None),  # no trunk prefix: not a national number's start
        ("00447", "GB", None),  # an international call prefix, not the trunk
        ("612", "ES", None),  # Spain dials no trunk prefix
    ],
)
def test_international_start_of_national_digits(digits, region, start):
    assert international_start(digits, region) == start


def test_regions_are_the_ones_phonenumbers_knows():
    assert is_valid_region("GB") and is_valid_region("gb") and is_valid_region("BR")
    assert not is_valid_region("XX") and not is_valid_region("")


def test_digits_valid_both_ways_are_national_unless_marked_international():
    """3213035586 is a Florida number in the US and a Belgian one with "+" in front."""
    assert normalize_phone("3213035586", "US").e164 == "+13213035586"
    assert normalize_phone("3213035586", "US", international=True).e164 == "+3213035586"


def test_the_meta_prefix_is_dropped_before_bare_digits_are_read():
    assert normalize_phone("p:447911123456", "US").e164 == "+447911123456"


def test_a_normalized_phone_cannot_be_changed():
    """Results are cached and shared: one caller must not change another's."""
    phone = normalize_phone("07911 123456", "GB")
    with pytest.raises(dataclasses.FrozenInstanceError):
        phone.e164 = None  # type: ignore[misc]


def test_when_no_reading_is_valid_the_first_with_a_number_is_kept():
    """Not valid read nationally (+44) nor internationally (+31): the national reading,
    tried first, stays."""
    phone = normalize_phone("3127928479", "GB")
    assert (phone.e164, phone.flag) == ("+443127928479", PhoneFlag.NOT_VALID)
    phone = normalize_phone("3127928479", "GB", international=True)
    assert (phone.e164, phone.flag) == ("+3127928479", PhoneFlag.NOT_VALID)


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("+44 (0)20 7946 0958", "+442079460958"),  # dialled only nationally: dropped
        ("+49 (0)30 901820", "+4930901820"),
        ("+33 (0)1 42 68 53 00", "+33142685300"),
        ("+39 (0)6 1234 5678", "+390612345678"),  # Italian numbers keep their 0
    ],
)
def test_a_bracketed_trunk_zero_is_dropped_only_where_it_is_not_part_of_the_number(raw, e164):
    phone = normalize_phone(raw, "GB")
    assert (phone.e164, phone.flag) == (e164, None)
