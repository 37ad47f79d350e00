"""Meta webhook bodies (WhatsApp Cloud API, Messenger) and Graph API lead `field_data`.

The live service and `leadms import payloads` share these functions. Each inbound
message is one record; status callbacks, deliveries, reads and echoes are not
inquiries and produce nothing. A body of the wrong shape is a `RejectedRow`.

What Meta says of the replies we sent (WhatsApp `statuses[]`, Messenger echoes,
deliveries and reads) is read apart, as `StatusReport`s (`whatsapp_statuses`,
`messenger_statuses`): anything of the wrong shape is skipped, never raised.
"""

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from leadms_tui.domain import clock
from leadms_tui.domain.chat.outbox import StatusReport, parse_key
from leadms_tui.domain.errors import ValidationError
from leadms_tui.domain.models import Channel, MessageState
from leadms_tui.intake.records import LeadRecord, ParsedItem, RejectedRow, UnusableInput

MAX_TEXT = 4000
# A Meta sender id (WhatsApp wa_id, Messenger PSID) is a number of at most ~20 digits; the lead
# column holds 128. A longer one is not Meta's, and would never match the open lead again.
MAX_SENDER_ID = 128
SENDER_TOO_LONG = f"sender id longer than {MAX_SENDER_ID} characters"


def parse_webhook_body(body: Any, *, row: int = 1, source: str = "webhook") -> Iterator[ParsedItem]:
    """Records from one webhook body of any supported kind, told apart by its `object`."""
    if not isinstance(body, dict):
        yield RejectedRow(row, "not a JSON object")
        return
    kind = body.get("object")
    if kind == "whatsapp_business_account":
        yield from parse_whatsapp_body(body, row=row, source=source)
    elif kind in ("page", "instagram"):
        yield from parse_messenger_body(body, row=row, source=source)
    elif isinstance(body.get("field_data"), list):
        yield from parse_lead_field_data(body, row=row, source=source)
    else:
        yield RejectedRow(row, f"unknown payload (object={kind!r})", "object")


def parse_whatsapp_body(
    body: dict, *, row: int = 1, source: str = "webhook"
) -> Iterator[ParsedItem]:
    """Every inbound message of a WhatsApp Cloud API notification; statuses are skipped."""
    if not isinstance(body.get("entry"), list):
        yield RejectedRow(row, "malformed body: entry is not a list", "entry")
        return
    for entry in body["entry"]:
        for change in _list(_dict(entry).get("changes")):
            value = _dict(_dict(change).get("value"))
            names = {
                str(contact.get("wa_id")): _dict(contact.get("profile")).get("name")
                for contact in map(_dict, _list(value.get("contacts")))
            }
            for message in map(_dict, _list(value.get("messages"))):
                sender, message_id = message.get("from"), message.get("id")
                if not isinstance(sender, str | int) or not isinstance(message_id, str):
                    yield RejectedRow(row, "message without sender or id", "messages")
                    continue
                sender = str(sender)
                if len(sender) > MAX_SENDER_ID:
                    yield RejectedRow(row, SENDER_TOO_LONG, "from")
                    continue
                yield LeadRecord(
                    row=row,
                    channel=Channel.WHATSAPP,
                    name=_text(names.get(sender)),
                    phone=sender,
                    external_id=sender,
                    message=_whatsapp_text(message),
                    dedupe_key=f"wamid:{message_id}"[:200],
                    received_at=_from_epoch(message.get("timestamp"), scale=1),
                    attributes={"type": str(message.get("type") or "")},
                    payload_ref=f"{source}#wamid={message_id}"[:500],
                )


def parse_messenger_body(
    body: dict, *, row: int = 1, source: str = "webhook"
) -> Iterator[ParsedItem]:
    """Inbound Messenger messages and postbacks; deliveries, reads and echoes are skipped."""
    if not isinstance(body.get("entry"), list):
        yield RejectedRow(row, "malformed body: entry is not a list", "entry")
        return
    for entry in body["entry"]:
        for event in map(_dict, _list(_dict(entry).get("messaging"))):
            message, postback = _dict(event.get("message")), _dict(event.get("postback"))
            if message.get("is_echo") or not (message or postback):
                continue
            sender = _dict(event.get("sender")).get("id")
            event_id = message.get("mid") or postback.get("mid")
            if not isinstance(sender, str | int) or not sender:
                yield RejectedRow(row, "messaging event without a sender id", "sender")
                continue
            if len(str(sender)) > MAX_SENDER_ID:
                yield RejectedRow(row, SENDER_TOO_LONG, "sender")
                continue
            if not event_id:  # postbacks may lack a mid: the timestamp names the event
                event_id = f"postback:{sender}:{event.get('timestamp')}"
            text = _text(message.get("text")) or _text(postback.get("title"))
            if not text and message.get("attachments"):
                text = "[attachment]"
            yield LeadRecord(
                row=row,
                channel=Channel.MESSENGER,
                external_id=str(sender),
                message=text,
                dedupe_key=f"mid:{event_id}"[:200],
                received_at=_from_epoch(event.get("timestamp"), scale=1000),
                attributes={"postback": postback.get("payload")} if postback else {},
                payload_ref=f"{source}#mid={event_id}"[:500],
            )


WHATSAPP_STATES = {
    "sent": MessageState.SENT,
    "delivered": MessageState.DELIVERED,
    "read": MessageState.READ,
    "failed": MessageState.FAILED,
}  # "deleted", "warning" and anything else: not a step of ours
MAX_KEY = 200  # our keys are ~30 characters; Meta's ids well under the 200 the column holds


def whatsapp_statuses(body: Any) -> Iterator[StatusReport]:
    """A report per `value.statuses[]` entry of ours or not (the key decides later); the
    entry's first error gives the code, title and details of a failure."""
    for entry in _list(_dict(body).get("entry")):
        for change in _list(_dict(entry).get("changes")):
            for status in map(_dict, _list(_dict(_dict(change).get("value")).get("statuses"))):
                state = WHATSAPP_STATES.get(str(status.get("status")))
                if state is None:
                    continue
                error = _dict(next(iter(_list(status.get("errors"))), None))
                code = error.get("code")
                detail = _dict(error.get("error_data")).get("details") or error.get("message")
                yield StatusReport(
                    channel=Channel.WHATSAPP,
                    status=state,
                    at=_plausible(_from_epoch(status.get("timestamp"), scale=1)),
                    key=_key(status.get("biz_opaque_callback_data")),
                    provider_id=_short(status.get("id")),
                    recipient=_short(status.get("recipient_id")),
                    error_code=code
                    if isinstance(code, int) and not isinstance(code, bool)
                    else None,
                    error_title=_text(error.get("title")) or _text(error.get("message")),
                    error_detail=_text(detail),
                )


def messenger_statuses(body: Any) -> Iterator[StatusReport]:
    """Echoes of what the page sent (`metadata`: our key; `mid`), deliveries (`mids`, and
    `watermark`: everything sent to that person before it) and reads (`watermark`)."""
    for entry in _list(_dict(body).get("entry")):
        for event in map(_dict, _list(_dict(entry).get("messaging"))):
            at = _plausible(_from_epoch(event.get("timestamp"), scale=1000))
            message, delivery, read = (
                _dict(event.get("message")),
                _dict(event.get("delivery")),
                _dict(event.get("read")),
            )
            person = _short(_dict(event.get("sender")).get("id"))
            if message.get("is_echo") is True:
                yield StatusReport(
                    channel=Channel.MESSENGER,
                    status=MessageState.SENT,
                    at=at,
                    key=_key(message.get("metadata")),
                    provider_id=_short(message.get("mid")),
                    recipient=_short(_dict(event.get("recipient")).get("id")),
                )
            elif delivery:
                watermark = _from_epoch(delivery.get("watermark"), scale=1000)
                for mid in _list(delivery.get("mids")):
                    if mid := _short(mid):
                        yield StatusReport(
                            Channel.MESSENGER, MessageState.DELIVERED, at, provider_id=mid
                        )
                if watermark is not None and person:
                    yield StatusReport(
                        Channel.MESSENGER,
                        MessageState.DELIVERED,
                        _plausible(watermark),
                        recipient=person,
                        watermark=_plausible(watermark),
                    )
            elif read:
                watermark = _from_epoch(read.get("watermark"), scale=1000)
                if watermark is not None and person:
                    yield StatusReport(
                        Channel.MESSENGER,
                        MessageState.READ,
                        _plausible(watermark),
                        recipient=person,
                        watermark=_plausible(watermark),
                    )


def _short(value: Any) -> str | None:
    """An id or key as text (a number too), or None: empty, or longer than any of ours."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    if isinstance(value, int) and not 0 <= value < 10**30:  # str() of 10**5000 raises
        return None
    value = str(value)
    return value if value and len(value) <= MAX_KEY and value.isprintable() else None


def _key(value: Any) -> str | None:
    """One of our keys (`leadms:ID:ATTEMPT`, ids a database column holds); else None."""
    if not isinstance(value, str):
        return None
    keyed = parse_key(value)
    return value if keyed is not None and max(keyed) < 2**31 else None


def _plausible(moment: datetime | None) -> datetime:
    """Meta's instant, or now when it is missing or outside 2000 .. now + 5 years."""
    if moment is None:
        return clock.now()
    try:
        return clock.plausible(moment, "timestamp")
    except ValidationError:
        return clock.now()


def parse_lead_field_data(
    body: dict, *, row: int = 1, source: str = "graph"
) -> Iterator[ParsedItem]:
    """A Lead Ads lead fetched from the Graph API: `{"id", "created_time", "field_data": [...]}`."""
    lead_id = str(body.get("id") or "").removeprefix("l:")
    if not lead_id:
        yield RejectedRow(row, "lead without an id", "id")
        return
    fields: dict[str, str] = {}
    for item in map(_dict, _list(body.get("field_data"))):
        values = [str(v) for v in _list(item.get("values")) if v is not None]
        if isinstance(item.get("name"), str) and values:
            fields[item["name"]] = ", ".join(values)
    name = fields.pop("full_name", None) or " ".join(
        filter(None, [fields.pop("first_name", None), fields.pop("last_name", None)])
    )
    phone = fields.pop("phone_number", None)
    email = fields.pop("email", None)
    yield LeadRecord(
        row=row,
        channel=Channel.META_ADS,
        name=_text(name),
        phone=phone.removeprefix("p:") if phone else None,
        email=_text(email),
        message="; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in fields.items()) or None,
        dedupe_key=f"meta:{lead_id}",
        received_at=_parse_time(body.get("created_time")),
        attributes={k: body[k] for k in ("ad_id", "form_id", "campaign_id") if body.get(k)}
        | ({"answers": fields} if fields else {}),
        payload_ref=f"{source}#lead={lead_id}",
    )


def parse_payload_file(data: bytes, *, source_name: str) -> Iterator[ParsedItem]:
    """Saved bodies: one JSON document, a JSON array of them, or JSON Lines."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnusableInput("payload file is not UTF-8 text") from None
    if not text.strip():
        raise UnusableInput("payload file is empty")
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        document = None
    if document is not None:
        bodies = document if isinstance(document, list) else [document]
        for index, body in enumerate(bodies, start=1):
            yield from parse_webhook_body(body, row=index, source=source_name)
        return
    lines = text.splitlines()
    if not any(line.strip().startswith("{") for line in lines):
        raise UnusableInput("not JSON, a JSON array or JSON Lines")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            body = json.loads(line)
        except json.JSONDecodeError as exc:
            yield RejectedRow(number, f"invalid JSON: {exc.msg}")
            continue
        yield from parse_webhook_body(body, row=number, source=source_name)


def _whatsapp_text(message: dict) -> str:
    kind = message.get("type")
    part = _dict(message.get(kind)) if isinstance(kind, str) else {}
    candidates = [
        part.get("body"),  # text
        part.get("caption"),  # media
        part.get("text"),  # button
        _dict(part.get("button_reply")).get("title"),  # interactive
        _dict(part.get("list_reply")).get("title"),
        part.get("name"),  # location
        part.get("emoji"),  # reaction
    ]
    for candidate in candidates:
        if text := _text(candidate):
            return text
    return f"[{kind or 'message'}]"


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return value.strip()[:MAX_TEXT] or None


def _from_epoch(value: Any, *, scale: int) -> datetime | None:
    try:
        seconds = float(value) / scale
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
        except ValueError:
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []
