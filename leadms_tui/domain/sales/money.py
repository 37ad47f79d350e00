"""Money: exact decimals in the team currency, parsed strictly and rounded half-up to the
currency's minor unit. No float ever touches an amount."""

from decimal import ROUND_HALF_UP, Decimal

from leadms_tui.domain.errors import ValidationError
from leadms_tui.domain.numbers import DEFAULT_FORMAT, minor_units, parse_number

MAX_AMOUNT = Decimal("999999999999")  # what the columns hold with room to spare


def minor_unit(currency: str) -> int:
    """Decimal places of `currency`: 2 for USD, 0 for JPY, 3 for KWD, 4 for CLF (Babel's)."""
    return minor_units(currency)


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_unit(currency))


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Half-up to the minor unit: 0.125 USD is 0.13, 0.124 is 0.12."""
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_UP)


def parse_amount(
    text: str | Decimal,
    currency: str,
    *,
    number_format: str = DEFAULT_FORMAT,
    what: str = "value",
) -> Decimal:
    """A positive amount in the team's number format with no more decimals than the
    currency has, or a ValidationError."""
    places = minor_unit(currency)
    amount = parse_number(text, number_format, what=what)  # below 0: "more than 0" below
    if amount <= 0:
        raise ValidationError(f"{what} must be more than 0, got {str(text).strip()!r}")
    if amount > MAX_AMOUNT:
        raise ValidationError(f"{what} {str(text).strip()!r} is too large")
    if -amount.as_tuple().exponent > places:  # type: ignore[operator]
        raise ValidationError(
            f"{what} {str(text).strip()!r} has more than {places} decimals for {currency.upper()}"
        )
    return amount.quantize(quantum(currency))


def parse_percent(
    text: str | Decimal, *, number_format: str = DEFAULT_FORMAT, what: str = "rate"
) -> Decimal:
    """A percentage in (0, 100] with at most 4 decimals, in the team's number format."""
    typed = text if isinstance(text, Decimal) else str(text).strip().removesuffix("%").strip()
    value = parse_number(typed, number_format, what=what, negative=False)
    if not 0 < value <= 100:
        raise ValidationError(f"{what} must be more than 0 and at most 100, got {str(text)!r}")
    if -value.as_tuple().exponent > 4:  # type: ignore[operator]
        raise ValidationError(f"{what} {str(text)!r} has more than 4 decimals")
    return value


def format_money(amount: Decimal | None, currency: str) -> str:
    """1,234.50 USD; an empty string for None."""
    if amount is None:
        return ""
    return f"{round_money(amount, currency):,} {currency.upper()}"
