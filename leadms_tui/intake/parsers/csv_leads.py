"""Generic CSV leads: website-form and form-tool exports.

Headers are recognised in many spellings (see `ALIASES`; matched after `normalise_header`),
or assigned by the caller's `mapping` ({"Tel.": "phone", "Notes": "ignore"}), which wins.
Unrecognised non-empty columns are kept in `attributes["extra"]` under their header.

Rows with neither a usable phone (one with a digit) nor an email (one with an `@`) are
rejected: a name alone is not a contact the domain can take.

Dedupe keys, so that importing a file twice, or a file holding the same row twice, takes
each submission once (the parser itself drops nothing):

- with an id column ("id", "submission id", "entry id", "lead id", "response id") and a
  value in it: `csvid:<value>`;
- otherwise `csvrow:<first 24 hex of sha256 of the row's values>` — the values in file
  order, whitespace collapsed, joined with U+001F, regardless of `mapping`. Two exactly equal
  rows are therefore one submission; a row that differs in any cell (even the time) is not.
"""

import hashlib
from collections.abc import Iterator, Mapping
from zoneinfo import ZoneInfo

from leadms_tui.domain.models import Channel
from leadms_tui.intake.parsers.tabular import (
    NO_CONTACT,
    Row,
    Table,
    cell,
    clean_email,
    clean_phone,
    infer_day_first,
    normalise_header,
    parse_timestamp,
    read_table,
)
from leadms_tui.intake.records import LeadRecord, ParsedItem, RejectedRow, UnusableInput

MAPPING_ROLES = (
    "name",
    "first_name",
    "last_name",
    "phone",
    "email",
    "message",
    "created_at",
    "external_id",
    "ignore",
)
ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("name", "full name", "fullname", "your name", "contact name"),
    "first_name": ("first name", "firstname", "given name"),
    "last_name": ("last name", "lastname", "surname", "family name"),
    "phone": (
        "phone",
        "phone number",
        "mobile",
        "mobile number",
        "cell",
        "telephone",
        "tel",
        "whatsapp",
        "whatsapp number",
    ),
    "email": ("email", "e-mail", "email address", "e-mail address", "your email"),
    "message": ("message", "comments", "comment", "enquiry", "inquiry", "notes", "how can we help"),
    "created_at": (
        "created",
        "created time",
        "created_at",
        "submitted at",
        "submission date",
        "date",
        "timestamp",
    ),
    "id": ("id", "submission id", "entry id", "lead id", "response id"),
    "referrer": ("referrer", "referer"),
    "page_url": ("page url", "page", "landing page"),
    "consent": ("consent",),
}
_BY_KEY = {normalise_header(alias): role for role, aliases in ALIASES.items() for alias in aliases}
_CONTACT_ROLES = {"name", "first_name", "last_name", "phone", "email"}
_ATTRIBUTE_ROLES = {"referrer", "page_url", "consent"}
_REPEATABLE = {"utm", "extra", "ignore"}


def parse_csv_leads(
    data: bytes,
    *,
    source_name: str,
    channel: Channel = Channel.WEBSITE,
    mapping: Mapping[str, str] | None = None,
    timezone: str = "UTC",
    encoding: str | None = None,
    region: str | None = None,
) -> Iterator[ParsedItem]:
    """Read a form/CSV export; `UnusableInput` (raised at once) if it has no usable header.

    `mapping` keys are header texts (case-insensitive), values one of `MAPPING_ROLES`.
    `encoding` and `region` as `read_table` takes them."""
    tz = ZoneInfo(timezone)
    table = read_table(data, encoding=encoding, region=region)
    roles = _roles(table, mapping or {})
    if not _CONTACT_ROLES & set(roles):
        found = ", ".join(h for h in table.headers if h)[:80]
        raise UnusableInput(f"no name, phone or email column in the header ({found})")
    column = {role: roles.index(role) for role in set(roles) - _REPEATABLE}
    day_first = infer_day_first(cell(row, column.get("created_at")) for row in table.rows)
    return _items(table, roles, column, source_name, channel, tz, day_first)


def _roles(table: Table, mapping: Mapping[str, str]) -> list[str]:
    """The role of each column: the mapping's, else the first detected one, else `extra`."""
    mapped = {normalise_header(header): role for header, role in mapping.items()}
    for header, role in mapping.items():
        if role.startswith("field:") and role[6:].strip():
            continue  # a dynamic lead field, by key: validated with the row at intake
        if role not in MAPPING_ROLES:  # the file cannot be read as asked: exit 2, one line
            roles = ", ".join(MAPPING_ROLES)
            raise UnusableInput(
                f"cannot map {header!r} to {role!r}: use one of {roles}, or field:KEY"
            )
        if normalise_header(header) not in table.keys:
            raise UnusableInput(f"mapped column {header!r} is not in the file's header")
    roles = [mapped.get(key, "") for key in table.keys]
    for index, key in enumerate(table.keys):
        if roles[index]:
            continue
        role = "utm" if key.startswith("utm_") else _BY_KEY.get(key, "extra")
        roles[index] = "extra" if role in roles and role not in _REPEATABLE else role
    return roles


def _items(
    table: Table,
    roles: list[str],
    column: dict[str, int],
    source_name: str,
    channel: Channel,
    tz: ZoneInfo,
    day_first: bool,
) -> Iterator[ParsedItem]:
    for row in table.rows:
        if row.overflow:
            yield RejectedRow(row.number, row.overflow)
            continue

        def get(role: str, row: Row = row) -> str:
            return cell(row, column.get(role))

        phone, email = clean_phone(get("phone")), clean_email(get("email"))
        if not phone and not email:
            yield RejectedRow(row.number, NO_CONTACT)
            continue
        try:
            received_at = parse_timestamp(get("created_at"), tz, day_first=day_first)
        except ValueError:
            header = table.headers[column["created_at"]]
            yield RejectedRow(row.number, f"unreadable date {get('created_at')!r}", header)
            continue
        full_name = " ".join(part for part in (get("first_name"), get("last_name")) if part)
        yield LeadRecord(
            row=row.number,
            channel=channel,
            name=get("name") or full_name or None,
            phone=phone,
            email=email,
            message=get("message") or None,
            external_id=get("external_id") or None,
            dedupe_key=f"csvid:{get('id')}" if get("id") else f"csvrow:{row_hash(row)}",
            received_at=received_at,
            attributes=_attributes(table, roles, row),
            payload_ref=f"{source_name}#row={row.number}",
            fields={
                role.removeprefix("field:").strip(): value
                for role, value in zip(roles, row.cells, strict=True)
                if role.startswith("field:") and value
            },
        )


def _attributes(table: Table, roles: list[str], row: Row) -> dict[str, object]:
    attributes: dict[str, object] = {}
    extra: dict[str, str] = {}
    for index, (role, value) in enumerate(zip(roles, row.cells, strict=True)):
        if not value:
            continue
        if role == "utm":
            attributes[table.keys[index]] = value
        elif role in _ATTRIBUTE_ROLES:
            attributes[role] = value
        elif role == "extra":
            extra[table.headers[index] or f"column {index + 1}"] = value
    if extra:
        attributes["extra"] = extra
    return attributes


def row_hash(row: Row) -> str:
    """First 24 hex digits of sha256 over the row's values (whitespace collapsed)."""
    text = "\x1f".join(" ".join(value.split()) for value in row.cells)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:24]
