"""Money: exact decimals in the team currency, parsed strictly and rounded half-up to the
currency's minor unit. No float ever touches an amount."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from leadms_tui.domain.errors import ValidationError

# ISO 4217 currencies whose minor unit is not the cent; every other code has two decimals.
_MINOR_UNITS = {
    **dict.fromkeys(["JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF", "PYG", "RWF"], 0),
    **dict.fromkeys(["BHD", "KWD", "OMR", "JOD", "IQD", "LYD", "TND"], 3),
}
MAX_AMOUNT = Decimal("999999999999")  # what the columns hold with room to spare


def minor_unit(currency: str) -> int:
    """Decimal places of `currency`: 2 for USD, 0 for JPY, 3 for KWD."""
    return _MINOR_UNITS.get(currency.upper(), 2)


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_unit(currency))


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Half-up to the minor unit: 0.125 USD is 0.13, 0.124 is 0.12."""
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_UP)


def parse_amount(text: str | Decimal, currency: str, *, what: str = "value") -> Decimal:
    """A positive amount with no more decimals than the currency has, or a ValidationError."""
    raw = str(text).strip().replace(",", "") if not isinstance(text, Decimal) else text
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        raise ValidationError(f"{what} {str(text)!r} is not a number") from None
    if not amount.is_finite():
        raise ValidationError(f"{what} {str(text)!r} is not a number")
    if amount <= 0:
        raise ValidationError(f"{what} must be more than 0, got {str(text)!r}")
    if amount > MAX_AMOUNT:
        raise ValidationError(f"{what} {str(text)!r} is too large")
    places = minor_unit(currency)
    if -amount.as_tuple().exponent > places:  # type: ignore[operator]
        raise ValidationError(
            f"{what} {str(text)!r} has more than {places} decimals for {currency.upper()}"
        )
    return amount.quantize(quantum(currency))


def parse_percent(text: str | Decimal, *, what: str = "rate") -> Decimal:
    """A percentage in (0, 100] with at most 4 decimals."""
    try:
        value = Decimal(str(text).strip().rstrip("%"))
    except InvalidOperation:
        raise ValidationError(f"{what} {str(text)!r} is not a number") from None
    if not value.is_finite() or not 0 < value <= 100:
        raise ValidationError(f"{what} must be more than 0 and at most 100, got {str(text)!r}")
    if -value.as_tuple().exponent > 4:  # type: ignore[operator]
        raise ValidationError(f"{what} {str(text)!r} has more than 4 decimals")
    return value


def format_money(amount: Decimal | None, currency: str) -> str:
    """1,234.50 USD; an empty string for None."""
    if amount is None:
        return ""
    return f"{round_money(amount, currency):,} {currency.upper()}"
