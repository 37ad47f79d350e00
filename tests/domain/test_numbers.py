"""One parser for every amount a person types (domain/numbers.py): the team's format, read
strictly; what the other format would read is refused with that reading."""

from decimal import Decimal

import pytest
from babel.numbers import get_currency_precision
from hypothesis import given
from hypothesis import strategies as st

from leadms_tui.domain.errors import ValidationError
from leadms_tui.domain.numbers import (
    FORMATS,
    default_format,
    format_number,
    parse_format,
    parse_number,
)
from leadms_tui.domain.sales.money import minor_unit, parse_amount

amounts = st.decimals(
    min_value=Decimal("-999999999999"),
    max_value=Decimal("999999999999"),
    places=6,
    allow_nan=False,
    allow_infinity=False,
)
number_formats = st.sampled_from(sorted(FORMATS))


@given(amounts, number_formats, st.booleans())
def test_any_value_written_in_the_team_format_reads_back_the_same(value, number_format, grouped):
    typed = format_number(value, number_format, grouped=grouped)
    assert parse_number(typed, number_format) == value


@given(st.text(alphabet="0123456789.,-_ e\uff11", max_size=12), number_formats)
def test_nothing_is_read_as_another_value_than_its_digits_say(typed, number_format):
    """Whatever is accepted is the typed digits with the team's grouping dropped and its
    decimal mark as the point: never a reading of the other format, never `_` or `e`."""
    try:
        value = parse_number(typed, number_format)
    except ValidationError:
        return
    group, point = (",", ".") if number_format == "1,234.50" else (".", ",")
    plain = typed.strip().replace(group, "").replace(point, ".")
    assert set(plain) <= set("0123456789.-")
    assert value == Decimal(plain)


@given(amounts.filter(lambda v: v != v.to_integral_value() and v.as_tuple().exponent != -3))
def test_a_decimal_in_the_other_format_is_refused_with_its_reading(value):
    """1,5 in a 1,234.50 team (or 1.5 in a 1.234,50 one) never passes as 15: it is refused
    and the message gives the value in the team's own format."""
    for team, other in [("1,234.50", "1.234,50"), ("1.234,50", "1,234.50")]:
        typed = format_number(value, other)
        with pytest.raises(ValidationError, match="did you mean") as refused:
            parse_number(typed, team)
        reading = str(refused.value).rsplit("did you mean ", 1)[1].removesuffix("?")
        assert parse_number(reading, team) == value


@pytest.mark.parametrize(
    ("typed", "number_format", "said"),
    [
        ("1,5", "1,234.50", "did you mean 1.5?"),
        ("1,50", "1,234.50", "did you mean 1.50?"),
        ("1.234,50", "1,234.50", "did you mean 1,234.50?"),
        ("1.5", "1.234,50", "did you mean 1,5?"),
        ("1_000", "1,234.50", "not a number"),
        ("\uff11\uff12", "1,234.50", "not a number"),
        ("1e5", "1.234,50", "not a number"),
        ("NaN", "1,234.50", "not a number"),
        ("-5", "1,234.50", "cannot be negative"),
    ],
)
def test_the_findings(typed, number_format, said):
    with pytest.raises(ValidationError, match=said.replace("?", r"\?")):
        parse_number(typed, number_format, negative=False)


def test_the_same_text_reads_by_the_team_format():
    assert parse_number("1,5", "1.234,50") == Decimal("1.5")
    assert parse_number("1.234,50", "1.234,50") == Decimal("1234.50")
    assert parse_number("1,234.50", "1,234.50") == Decimal("1234.50")
    assert parse_amount("1,5", "EUR", number_format="1.234,50") == Decimal("1.50")


def test_the_default_format_follows_the_phone_region():
    assert [default_format(r) for r in ("US", "GB", "DE", "BR", "ES", "ZZ")] == [
        "1,234.50",
        "1,234.50",
        "1.234,50",
        "1.234,50",
        "1.234,50",
        "1,234.50",
    ]
    with pytest.raises(ValidationError, match=r"1,234\.50 or 1\.234,50"):
        parse_format("1 234,50")


@pytest.mark.parametrize(
    "currency",
    ["USD", "EUR", "JPY", "KWD", "BIF", "DJF", "GNF", "KMF", "VUV", "XPF", "UYI", "CLF", "UYW"],
)
def test_minor_units_are_babels(currency):
    assert minor_unit(currency) == get_currency_precision(currency)


def test_the_currencies_the_old_table_missed():
    zero = ["BIF", "DJF", "GNF", "KMF", "VUV", "XPF", "UYI"]
    assert [minor_unit(c) for c in zero] == [0] * len(zero)
    assert (minor_unit("CLF"), minor_unit("UYW")) == (4, 4)
    assert parse_amount("1.2345", "CLF") == Decimal("1.2345")
    with pytest.raises(ValidationError, match="more than 0 decimals for BIF"):
        parse_amount("10.5", "BIF")
