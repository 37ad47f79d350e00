"""What each field type accepts and how a value is stored, shown and exported: the one
place a type's rules live, used by every path (TUI, CLI, import, intake).

`KINDS` is the table a new type is added to, next to its enum in `models.py` and its looks
(input widget, hints) in `leadms_tui/looks.py`; `tests/test_variants.py` checks that both
cover `FieldKind` exactly. The database stores the type as text (`field_definitions.kind`,
16 characters, no CHECK), so a new type needs no migration."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import urlsplit

from leadms_tui.domain import clock
from leadms_tui.domain.errors import ValidationError
from leadms_tui.domain.leads.checks import validated_email
from leadms_tui.domain.leads.phones import normalize_phone
from leadms_tui.domain.models import FieldKind, fold
from leadms_tui.domain.numbers import DEFAULT_FORMAT, format_number, parse_number
from leadms_tui.domain.sales.money import minor_unit
from leadms_tui.domain.spoken_dates import parse_day, parse_when
from leadms_tui.domain.text import clean_line, clean_text

MAX_TEXT = 500
MAX_LONG_TEXT = 10_000
MAX_NUMBER = Decimal("1e13")
_YES = {"yes", "y", "true", "1", "on", "si", "sí", "oui", "ja"}
_NO = {"no", "n", "false", "0", "off", "non", "nein"}


@dataclass(frozen=True)
class Upload:
    """A file already stored (see files.store_file), given as a field's value."""

    file_id: int
    name: str


@dataclass(frozen=True)
class Item:
    """One stored value: the columns of a field_values row."""

    text: str | None = None
    key: str | None = None
    number: Decimal | None = None
    day: date | None = None
    moment: datetime | None = None
    flag: bool | None = None
    file_id: int | None = None


@dataclass(frozen=True)
class Context:
    """What parsing needs from the team: its timezone, phone region, currency, now, and
    how it writes numbers."""

    timezone: str
    phone_region: str
    currency: str
    now: datetime
    number_format: str = DEFAULT_FORMAT


def parse(
    kind: FieldKind, raw: "str | Upload | None", options: list[str], ctx: Context
) -> list[Item]:
    """The items `raw` stores as, [] for a blank (clears the field), or a ValidationError
    whose message says what is wrong in a few words."""
    if isinstance(raw, Upload):
        if kind not in FILE_KINDS:
            raise ValidationError("a file goes in an image or document field")
        return [Item(text=clean_line(raw.name)[:255], file_id=raw.file_id)]
    text = (raw or "").strip()
    if not text:
        return []
    parser = KINDS[kind].parse
    if parser is None:
        raise ValidationError("give a file (KEY=@path)")
    return parser(text, options, ctx)


def _text(text: str, options: list[str], ctx: Context) -> list[Item]:
    line = clean_line(text)
    if len(line) > MAX_TEXT:
        raise ValidationError(f"longer than {MAX_TEXT} characters")
    return [Item(text=line, key=fold(line)[:200])]


def _long_text(text: str, options: list[str], ctx: Context) -> list[Item]:
    body = clean_text(text)
    if len(body) > MAX_LONG_TEXT:
        raise ValidationError(f"longer than {MAX_LONG_TEXT} characters")
    return [Item(text=body, key=fold(body)[:200])]


def _decimal(text: str, places: int, ctx: Context, *, negative: bool = True) -> Decimal:
    """Read by the team's number format (domain/numbers.py), the one parser of amounts."""
    value = parse_number(text, ctx.number_format, what="", places=places, negative=negative)
    if abs(value) >= MAX_NUMBER:
        raise ValidationError(f"{text!r} is too large")
    return value


def _integer(text: str, options: list[str], ctx: Context) -> list[Item]:
    value = _decimal(text, 0, ctx)
    return [Item(text=str(value), number=value)]


def _decimal_item(text: str, options: list[str], ctx: Context) -> list[Item]:
    value = _decimal(text, 6, ctx)
    return [Item(text=f"{value:f}", number=value)]


def _money(text: str, options: list[str], ctx: Context) -> list[Item]:
    currency = ctx.currency.upper()
    amount = text[: -len(currency)].strip() if text.upper().endswith(currency) else text
    value = _decimal(amount, minor_unit(ctx.currency), ctx, negative=False)  # no negative money
    return [Item(text=f"{value:f}", number=value)]


def _date(text: str, options: list[str], ctx: Context) -> list[Item]:
    # "2026-12-01", "tomorrow", "fri": as every date is typed; a birthday may be long ago.
    today = clock.business_date(ctx.now, ctx.timezone)
    try:
        day = parse_day(text, today, window=clock.historic_day)
    except ValidationError as not_a_day:
        try:  # a date and time ("fri 15:00", a date-time field converted to a date): its day
            moment = parse_when(text, now=ctx.now, timezone=ctx.timezone)
        except ValidationError:
            raise not_a_day from None
        day = clock.historic_day(clock.business_date(moment, ctx.timezone), "date")
    return [Item(text=day.isoformat(), day=day)]


def _datetime(text: str, options: list[str], ctx: Context) -> list[Item]:
    moment = parse_when(text, now=ctx.now, timezone=ctx.timezone)
    clock.historic(moment, "date-time")
    return [Item(text=moment.isoformat(), moment=moment)]


def _yes_no(text: str, options: list[str], ctx: Context) -> list[Item]:
    word = text.lower()
    if word in _YES:
        return [Item(text="yes", flag=True)]
    if word in _NO:
        return [Item(text="no", flag=False)]
    raise ValidationError(f"{text!r} is not yes or no")


def _option(text: str, options: list[str]) -> str:
    for option in options:
        if fold(option) == fold(text):
            return option
    shown = ", ".join(options) or "none defined"
    raise ValidationError(f"{text!r} is not one of the options ({shown})")


def _choice(text: str, options: list[str], ctx: Context) -> list[Item]:
    option = _option(text, options)
    return [Item(text=option, key=option)]


def _multi_choice(text: str, options: list[str], ctx: Context) -> list[Item]:
    chosen = dict.fromkeys(
        _option(part.strip(), options) for part in text.split(",") if part.strip()
    )
    return [Item(text=option, key=option) for option in chosen]


_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def _link(text: str, options: list[str], ctx: Context) -> list[Item]:
    url = text if _SCHEME.match(text) else f"https://{text}"
    try:  # `[b]` reads as an IPv6 host and a bad port as a port: both raise ValueError
        parts = urlsplit(url)
        host, _port = parts.hostname, parts.port
    except ValueError:
        raise ValidationError(f"{text!r} is not a web address") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ValidationError("only http and https links are allowed")
    if not host or any(ch.isspace() for ch in url) or len(url) > MAX_TEXT:
        raise ValidationError(f"{text!r} is not a web address")
    return [Item(text=url, key=url.lower()[:200])]


def _email(text: str, options: list[str], ctx: Context) -> list[Item]:
    email = validated_email(text)
    return [Item(text=email, key=email.lower()[:200])] if email else []


def _phone(text: str, options: list[str], ctx: Context) -> list[Item]:
    phone = normalize_phone(text, ctx.phone_region)
    if not phone.usable or not phone.e164:
        raise ValidationError(f"{text!r} is not a phone number")
    return [Item(text=phone.raw, key=phone.e164)]


Parser = Callable[[str, list[str], Context], list[Item]]


@dataclass(frozen=True)
class Kind:
    words: str  # how forms, lists and help call it
    parse: Parser | None  # typed text into stored items; None: a file, given as an Upload
    column: str  # the `field_values` column its filters compare (numbers as numbers)
    options: bool = False  # takes a list of choices


KINDS: dict[FieldKind, Kind] = {
    FieldKind.TEXT: Kind("text", _text, "value_key"),
    FieldKind.LONG_TEXT: Kind("long text", _long_text, "value_key"),
    FieldKind.INTEGER: Kind("whole number", _integer, "value_number"),
    FieldKind.DECIMAL: Kind("decimal number", _decimal_item, "value_number"),
    FieldKind.MONEY: Kind("money", _money, "value_number"),
    FieldKind.DATE: Kind("date", _date, "value_date"),
    FieldKind.DATETIME: Kind("date and time", _datetime, "value_datetime"),
    FieldKind.YES_NO: Kind("yes/no", _yes_no, "value_bool"),
    FieldKind.CHOICE: Kind("choice", _choice, "value_key", options=True),
    FieldKind.MULTI_CHOICE: Kind("multiple choice", _multi_choice, "value_key", options=True),
    FieldKind.LINK: Kind("link", _link, "value_key"),
    FieldKind.EMAIL: Kind("email", _email, "value_key"),
    FieldKind.PHONE: Kind("phone", _phone, "value_key"),
    FieldKind.IMAGE: Kind("image", None, "file_id"),
    FieldKind.DOCUMENT: Kind("document", None, "file_id"),
}
FILE_KINDS = tuple(kind for kind, rules in KINDS.items() if rules.parse is None)
CHOICE_KINDS = tuple(kind for kind, rules in KINDS.items() if rules.options)
NUMBER_KINDS = tuple(kind for kind, rules in KINDS.items() if rules.column == "value_number")


def as_json(kind: FieldKind, items: list[Item], file_info: dict[int, dict] | None = None):  # type: ignore[no-untyped-def]
    """A typed JSON value: numbers as strings of exact decimals, dates ISO, files as objects."""
    if not items:
        return [] if kind == FieldKind.MULTI_CHOICE else None
    first = items[0]
    if kind == FieldKind.MULTI_CHOICE:
        return [item.text for item in items]
    if kind == FieldKind.INTEGER:
        return int(first.number)  # type: ignore[arg-type]
    if kind in (FieldKind.DECIMAL, FieldKind.MONEY):
        return f"{first.number.normalize():f}" if first.number is not None else None
    if kind == FieldKind.YES_NO:
        return first.flag
    if kind == FieldKind.PHONE:
        return first.key
    if kind in FILE_KINDS:
        info = (file_info or {}).get(first.file_id, {})  # type: ignore[arg-type]
        return {"id": first.file_id, "name": first.text, **info}
    return first.text


def as_text(kind: FieldKind, items: list[Item], *, currency: str, timezone: str) -> str:
    """How a value reads on screen and in a CSV cell."""
    if not items:
        return ""
    first = items[0]
    if kind == FieldKind.MULTI_CHOICE:
        return ", ".join(item.text or "" for item in items)
    if kind == FieldKind.MONEY and first.number is not None:
        return f"{first.number:,.{minor_unit(currency)}f} {currency}"
    if kind in (FieldKind.INTEGER, FieldKind.DECIMAL) and first.number is not None:
        return f"{first.number.normalize():,f}"
    if kind == FieldKind.DATETIME and first.moment is not None:
        return f"{clock.local(first.moment, timezone):%a %d %b %Y %H:%M}"
    if kind == FieldKind.DATE and first.day is not None:
        return f"{first.day:%a %d %b %Y}"
    return first.text or ""


def as_input(kind: FieldKind, canonical_text: str, number_format: str) -> str:
    """A stored value's canonical text as a person of the team types it (a number in the
    team's format, so `parse` reads it back the same); other kinds unchanged."""
    if kind not in NUMBER_KINDS or not canonical_text:
        return canonical_text
    return format_number(Decimal(canonical_text), number_format)


def canonical(kind: FieldKind, items: list[Item]) -> str:
    """The value as text that `parse` reads back (what a type change re-parses)."""
    if kind == FieldKind.MULTI_CHOICE:
        return ", ".join(item.text or "" for item in items)
    return items[0].text or "" if items else ""
