"""Numbers a person types: one strict parser for every amount and decimal (deal values,
money and decimal fields, imports, commission plans), in the team's number format.

Babel's strict `parse_decimal` checks the grouping in the team's locale; around it, only
ASCII digits, the format's two symbols and a leading minus pass (Python's Decimal would
read `1_000`, full-width digits and `1e5`). What is not well formed in the team's format but
is in the other one is refused with that reading: "1,5: did you mean 1.5?"."""

from decimal import Decimal

from babel.languages import get_official_languages
from babel.numbers import (
    NumberFormatError,
    get_currency_precision,
    get_decimal_symbol,
    get_group_symbol,
    parse_decimal,
)

from leadms_tui.domain.errors import ValidationError

# The formats a team may choose, as they write one thousand two hundred thirty-four and a
# half, and the locale whose grammar Babel checks them by.
FORMATS = {"1,234.50": "en_US", "1.234,50": "de_DE"}
DEFAULT_FORMAT = "1,234.50"
MAX_DIGITS = 20  # more digits than any column holds: refused before Decimal works on them


def default_format(phone_region: str) -> str:
    """The format the region's main language writes: 1.234,50 for DE, BR or ES, 1,234.50
    for US, GB or anywhere unknown."""
    for language in get_official_languages(phone_region.upper(), de_facto=True)[:1]:
        try:
            symbol = get_decimal_symbol(f"{language}_{phone_region.upper()}")
        except (ValueError, LookupError):  # a language Babel has no data for
            break
        if symbol == ",":
            return "1.234,50"
    return DEFAULT_FORMAT


def parse_format(value: str) -> str:
    """A team's number_format setting: one of FORMATS."""
    text = value.strip()
    if text not in FORMATS:
        raise ValidationError(
            f"number format {value!r}: use {' or '.join(FORMATS)} "
            "(how the team writes one thousand two hundred thirty-four and a half)"
        )
    return text


def _symbols(number_format: str) -> tuple[str, str]:
    """(group, decimal) of a format: (',', '.') or ('.', ',')."""
    locale = FORMATS[number_format]
    return get_group_symbol(locale), get_decimal_symbol(locale)


def _other(number_format: str) -> str:
    return next(f for f in FORMATS if f != number_format)


def format_number(value: Decimal, number_format: str, *, grouped: bool = False) -> str:
    """`value` as a person of the team types it: 1234.5 → '1234,5' in 1.234,50; every digit
    kept, so parse_number reads it back as the same value."""
    group, point = _symbols(number_format)
    text = f"{value:,f}" if grouped else f"{value:f}"
    return text.translate(str.maketrans({",": group, ".": point}))


def _read(text: str, number_format: str) -> Decimal | None:
    """The value `text` is in `number_format` by Babel's strict grammar, or None."""
    group, point = _symbols(number_format)
    if not text or any(not (ch.isascii() and ch.isdigit()) and ch not in (group, point)
                       for ch in text.removeprefix("-")):  # fmt: skip
        return None
    if sum(ch.isdigit() for ch in text) > MAX_DIGITS or not any(ch.isdigit() for ch in text):
        return None
    try:
        return parse_decimal(text, FORMATS[number_format], strict=True)
    except NumberFormatError:
        return None


def parse_number(
    text: str | Decimal,
    number_format: str,
    *,
    what: str = "value",
    places: int | None = None,
    negative: bool = True,
) -> Decimal:
    """The exact value of `text` in the team's format, or a ValidationError that names it
    and, when the other format reads it, that reading in the team's format. `places` caps
    the decimals; `negative=False` refuses values below zero (money, shares, rates)."""
    if isinstance(text, Decimal):  # a value already read (a script, a stored amount)
        value = text
        if not value.is_finite():
            raise ValidationError(f"{_named(what, str(text))} is not a number")
    else:
        typed = text.strip()
        read = _read(typed, number_format)
        if read is None:
            raise ValidationError(_not_a_number(typed, number_format, what))
        value = read
    if not negative and value < 0:
        raise ValidationError(f"{_named(what, str(text).strip())} cannot be negative")
    if places is not None and -value.as_tuple().exponent > places:  # type: ignore[operator]
        raise ValidationError(f"{_named(what, str(text).strip())} has more than {places} decimals")
    return value


def _named(what: str, typed: str) -> str:
    """ "value '1,5'", or "'1,5'" where the caller already names the field."""
    return f"{what} {typed!r}" if what else repr(typed)


def _not_a_number(typed: str, number_format: str, what: str) -> str:
    if not typed:
        return f"{what or 'a number'} is empty"
    other = _read(typed, _other(number_format))
    if other is not None:
        reading = format_number(other, number_format, grouped=True)
        return (
            f"{_named(what, typed)} is not how the team writes numbers ({number_format}): "
            f"did you mean {reading}?"
        )
    return f"{_named(what, typed)} is not a number (the team writes {number_format})"


def minor_units(currency: str) -> int:
    """Decimal places of `currency` by ISO 4217 as CLDR (Babel) keeps it: 2 for USD, 0 for
    JPY and BIF, 3 for KWD, 4 for CLF; 2 for a code Babel does not know."""
    return get_currency_precision(currency.upper())
