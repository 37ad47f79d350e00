"""Meta Lead Ads CSV export (UTF-16 LE + TAB, or UTF-8 + comma; see CHANNELS.md section 3).

Standard columns: `id, created_time, ad_id, ad_name, adset_id, adset_name, campaign_id,
campaign_name, form_id, form_name, is_organic, platform, full_name, phone_number, email`; any
other column is a custom question (`which_plan_interests_you?`). Type prefixes are stripped
from ids (`l:` `ag:` `as:` `c:` `f:`) and from the phone (`p:`).

Each lead's dedupe key is `meta:<lead id>`, so re-importing an export takes nothing twice.
The custom answers go to `attributes["answers"]` ({"which plan interests you?": "Premium"})
and, as "question: answer; ...", to the message.
"""

import re
from collections.abc import Iterator
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
    parse_timestamp,
    read_table,
)
from leadms_tui.intake.records import LeadRecord, ParsedItem, RejectedRow, UnusableInput

ATTRIBUTE_COLUMNS = (
    "campaign_id",
    "campaign_name",
    "ad_id",
    "ad_name",
    "adset_id",
    "adset_name",
    "form_id",
    "form_name",
    "platform",
    "is_organic",
)
_CONTACT_COLUMNS = ("full_name", "first_name", "last_name", "phone_number", "email")
_PREFIXED = {"id", "ad_id", "adset_id", "campaign_id", "form_id", "phone_number"}
# Columns Meta adds that are neither contact details nor answers to the form's questions.
_NOT_ANSWERS = {
    "id",
    "created_time",
    *ATTRIBUTE_COLUMNS,
    *_CONTACT_COLUMNS,
    "inbox_url",
    "lead_status",
    "retailer_item_id",
    "home_listing",
    "vehicle",
}
_PREFIX = re.compile(r"^(?:l|ag|as|c|f|p):\s*", re.IGNORECASE)


def parse_meta_leads(
    data: bytes,
    *,
    source_name: str,
    timezone: str = "UTC",
    encoding: str | None = None,
    region: str | None = None,
) -> Iterator[ParsedItem]:
    """Read a Lead Ads export; `UnusableInput` (raised at once) if it is not one."""
    tz = ZoneInfo(timezone)
    table = read_table(data, encoding=encoding, region=region)
    if "id" not in table.keys or not set(_CONTACT_COLUMNS) & set(table.keys):
        raise UnusableInput(
            "not a Meta Lead Ads export: needs `id` and full_name/phone_number/email"
        )
    column = {key: table.keys.index(key) for key in _NOT_ANSWERS if key in table.keys}
    questions = {
        index: header.replace("_", " ").strip()
        for index, (key, header) in enumerate(zip(table.keys, table.headers, strict=True))
        if key not in _NOT_ANSWERS and header
    }
    day_first = infer_day_first(cell(row, column.get("created_time")) for row in table.rows)
    return _items(table, column, questions, source_name, tz, day_first)


def _items(
    table: Table,
    column: dict[str, int],
    questions: dict[int, str],
    source_name: str,
    tz: ZoneInfo,
    day_first: bool,
) -> Iterator[ParsedItem]:
    for row in table.rows:
        if row.overflow:
            yield RejectedRow(row.number, row.overflow)
            continue

        def get(key: str, row: Row = row) -> str:
            value = cell(row, column.get(key))
            return _PREFIX.sub("", value, count=1) if key in _PREFIXED else value

        lead_id = get("id")
        if not lead_id:
            yield RejectedRow(row.number, "no lead id", table.headers[column["id"]])
            continue
        phone, email = clean_phone(get("phone_number")), clean_email(get("email"))
        if not phone and not email:
            yield RejectedRow(row.number, NO_CONTACT)
            continue
        try:
            received_at = parse_timestamp(get("created_time"), tz, day_first=day_first)
        except ValueError:
            header = table.headers[column["created_time"]]
            yield RejectedRow(row.number, f"unreadable date {get('created_time')!r}", header)
            continue
        answers = {q: row.cells[i] for i, q in questions.items() if row.cells[i]}
        attributes: dict[str, object] = {key: get(key) for key in ATTRIBUTE_COLUMNS if get(key)}
        if answers:
            attributes["answers"] = answers
        full_name = " ".join(part for part in (get("first_name"), get("last_name")) if part)
        yield LeadRecord(
            row=row.number,
            channel=Channel.META_ADS,
            name=get("full_name") or full_name or None,
            phone=phone,
            email=email,
            message="; ".join(f"{q}: {a}" for q, a in answers.items()) or None,
            dedupe_key=f"meta:{lead_id}",
            received_at=received_at,
            attributes=attributes,
            payload_ref=f"{source_name}#row={row.number}",
        )
