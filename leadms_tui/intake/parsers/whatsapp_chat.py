"""WhatsApp "Export chat" text files: one exported chat is one lead.

Layouts (see CHANNELS.md section 4): Android `12/11/2026, 09:15 - Ana Ruiz: text` and iOS
`[12/11/2026, 09:15:32] Ana Ruiz: text`; dates d/m/y, m/d/y (2- or 4-digit years, `/ . -`)
or y-m-d; 24-hour or 12-hour times (`9:15 pm`, also with U+202F/U+00A0 before am/pm).
Direction marks (U+200E, U+200F, U+202A-U+202E, U+2066-U+2069) are removed everywhere.
A line without a timestamp continues the previous message; a timestamped line without a
`Name:` part (or a known notice such as "Messages and calls are end-to-end encrypted") is a
system line and is skipped. Media lines (`<Media omitted>`, `image omitted`, `<attached: …>`)
are messages whose text reads "[media]". The date order is decided once per file: a first
component above 12 proves day-first, a second above 12 month-first; `day_first` overrides;
undecided means day-first. A line whose date is impossible in that order is continuation text.

Who is the customer, never guessed from message order alone (a wrong guess would file the
business itself as a lead, silently):
1. Senders matching `business_names` (case-insensitive, whitespace-normalised; phone-number
   names compared by digits) are the business; everybody else is a candidate.
2. If the file name says whom the chat is with (`WhatsApp Chat with <X>.txt`, iOS
   `WhatsApp Chat - <X>.zip/_chat.txt`) and X is a candidate, X is the customer.
3. Otherwise, if the business was found and exactly one candidate is left, that one.
4. Otherwise a `RejectedRow` says why (only the business wrote, a group chat, or nothing
   tells the business apart: pass --business-name).

A sender name that is a phone number becomes `phone` (and `external_id` in digits when it is
written internationally); any other name becomes `name`, with `external_id` "contact:<name>"
(the export leaves a saved contact's number out; the business phone still reaches them).
The dedupe key hashes the customer identity with the wall-clock minute and text of their
first message, so a re-import or a later, longer export of the same chat gives the same key
whatever the `timezone` argument or the exporting phone's seconds display.
"""

import codecs
import hashlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from leadms_tui.domain.models import Channel
from leadms_tui.intake.records import LeadRecord, ParsedItem, RejectedRow, UnusableInput

_MARKS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_DATE = r"(?P<d1>\d{1,4})[./-](?P<d2>\d{1,2})[./-](?P<d3>\d{1,4})\.?"
_TIME = (
    r"(?P<h>\d{1,2})[:.](?P<mi>\d{2})(?:[:.](?P<s>\d{2}))?"
    r"(?:\s*(?P<ampm>[ap])\.?\s?m\.?)?"
)
_ANDROID = re.compile(rf"{_DATE},?\s+{_TIME}\s+[-\u2013]\s+(?P<rest>.*)", re.IGNORECASE)
_IOS = re.compile(rf"\[{_DATE},?\s+{_TIME}\]\s*(?P<rest>.*)", re.IGNORECASE)
_SENDER = re.compile(r"(?P<name>[^:]{1,80}):(?:\s+|$)(?P<text>.*)", re.DOTALL)
# "You created group "A: B"", "Ana added Bo": a colon in a system line is not a sender
_SYSTEM_NAME = re.compile(
    r"\s(?:changed|created|added|removed|joined|left|deleted|pinned|turned)\b", re.IGNORECASE
)
# notices iOS files under the chat's name, as if the contact had written them
_SYSTEM_TEXT = re.compile(
    r"messages and calls are end-to-end encrypted|messages to this (?:chat|group) and calls"
    r"|your security code with .* changed|this (?:chat is with|business (?:uses|is))"
    r"|disappearing messages",
    re.IGNORECASE,
)
_MEDIA = re.compile(
    r"<media omitted>|<attached: [^>]*>|.+ \(file attached\)"
    r"|(?:.* )?(?:image|video|audio|sticker|gif|document|contact card|media) omitted",
    re.IGNORECASE,
)
_PHONE = re.compile(r"(?:\+|00)?[0-9][0-9 ().-]*")
_CHAT_FILE = re.compile(
    r"(?:whatsapp chat (?:with|-|\u2013)|chat de whatsapp con|whatsapp-chat mit"
    r"|conversa do whatsapp com|discussion whatsapp avec)\s+(?P<who>.+?)"
    r"(?:\s*\(\d+\))?(?:\.txt|\.zip)?$",
    re.IGNORECASE,
)


@dataclass
class _Message:
    line: int  # 1-based line of its timestamp in the file
    at: datetime  # naive: the file's wall-clock time
    sender: str
    lines: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(
            "[media]" if _MEDIA.fullmatch(x.strip()) else x for x in self.lines
        ).strip()


def parse_whatsapp_chat(
    data: bytes,
    *,
    source_name: str,
    business_names: Sequence[str] = (),
    day_first: bool | None = None,
    timezone: str = "UTC",
) -> Iterator[ParsedItem]:
    """One `LeadRecord` for the chat's customer, or one `RejectedRow` (row 1) saying why not.

    Raises `UnusableInput` when the bytes are not a chat export (no timestamped line) or cannot
    be decoded. Everything is read before returning, so the error comes at the call.
    """
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {timezone!r}") from None
    text, encoding = _decode(data)
    lines = [_MARKS.sub("", line) for line in _LINE_BREAK.split(text)]
    stamps = [_ANDROID.match(line) or _IOS.match(line) for line in lines]
    if day_first is None:
        day_first = _guess_day_first([m for m in stamps if m])
    messages, stamped = _messages(lines, stamps, day_first)
    if not stamped:
        latin = " (nor UTF-8 text)" if encoding == "latin-1" else ""
        raise UnusableInput(
            f"not a WhatsApp chat export{latin}: no line starts with a date and time "
            "like '12/11/2026, 09:15 - ' or '[12/11/2026, 09:15:32] '"
        )
    customer = _customer(messages, business_names, _chat_with(source_name))
    if isinstance(customer, RejectedRow):
        return iter([customer])
    return iter([_lead(messages, customer, source_name, zone)])


def _decode(data: bytes) -> tuple[str, str]:
    if not data.strip():
        raise UnusableInput("the file is empty")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise UnusableInput(f"cannot decode the file as UTF-16: {exc.reason}") from None
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"  # kept only if timestamps are found


def _guess_day_first(stamps: list[re.Match[str]]) -> bool:
    day_proof = month_proof = False
    for m in stamps:
        if len(m["d1"]) <= 2:
            day_proof |= int(m["d1"]) > 12
            month_proof |= int(m["d2"]) > 12
    return day_proof or not month_proof


def _when(m: re.Match[str], day_first: bool) -> datetime | None:
    d1, d2, d3 = m["d1"], m["d2"], m["d3"]
    if len(d1) == 4 and len(d3) <= 2:
        year, month, day = int(d1), int(d2), int(d3)
    elif len(d1) <= 2 and len(d3) in (2, 4):
        day, month = (int(d1), int(d2)) if day_first else (int(d2), int(d1))
        year = int(d3) + (2000 if len(d3) == 2 else 0)
    else:
        return None
    hour = int(m["h"])
    if m["ampm"]:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if m["ampm"].lower() == "p" else 0)
    try:
        return datetime(year, month, day, hour, int(m["mi"]), int(m["s"] or 0))
    except ValueError:
        return None


def _messages(
    lines: list[str], stamps: list[re.Match[str] | None], day_first: bool
) -> tuple[list[_Message], int]:
    """The chat's messages in file order, and how many lines carried a valid timestamp."""
    messages: list[_Message] = []
    current: _Message | None = None
    stamped = 0
    for number, (line, stamp) in enumerate(zip(lines, stamps, strict=True), start=1):
        at = _when(stamp, day_first) if stamp else None
        if stamp is None or at is None:
            if current is not None:
                current.lines.append(line)
            continue
        stamped += 1
        sender, text = _split_sender(stamp["rest"])
        if sender is None or _SYSTEM_TEXT.match(text.strip()):
            current = None  # a system line, and whatever continues it
            continue
        current = _Message(number, at, sender, [text])
        messages.append(current)
    return messages, stamped


def _split_sender(rest: str) -> tuple[str | None, str]:
    m = _SENDER.match(rest)
    if m is None:
        return None, rest
    name = _clean_name(m["name"])
    if not name or _SYSTEM_NAME.search(name):
        return None, rest
    return name, m["text"]


def _clean_name(raw: str) -> str:
    name = " ".join(raw.split())
    return name[1:].lstrip() if name.startswith("~") else name  # "~ Ana": not in contacts


def _phone_digits(name: str) -> str | None:
    """The digits of a sender name that is a phone number, else None."""
    if not _PHONE.fullmatch(name):
        return None
    digits = re.sub(r"[^0-9]", "", name)
    return digits if 7 <= len(digits) <= 17 else None


def _identity(name: str) -> str:
    return _phone_digits(name) or " ".join(name.casefold().split())


def _chat_with(source_name: str) -> str | None:
    for part in reversed(re.split(r"[/\\]", source_name)):
        if m := _CHAT_FILE.search(_MARKS.sub("", part).strip()):
            return _clean_name(m["who"])
    return None


def _customer(
    messages: list[_Message], business_names: Sequence[str], chat_with: str | None
) -> str | RejectedRow:
    """The customer's sender name, or why it cannot be told (see the module docstring)."""
    participants = list(dict.fromkeys(m.sender for m in messages))
    wanted = {_identity(n) for n in business_names if n.strip()}
    business = [p for p in participants if _identity(p) in wanted]
    others = [p for p in participants if p not in business]
    if not participants:
        return _reject("no messages in the chat, only system lines")
    if not others:
        return _reject(f"only the business ({', '.join(business)}) wrote: no customer message")
    if chat_with:
        named = [p for p in others if _identity(p) == _identity(chat_with)]
        if named:
            return named[0]
    if business and len(others) == 1:
        return others[0]
    names = ", ".join(participants)
    if business:
        return _reject(f"cannot tell which of {', '.join(others)} is the customer (group chat?)")
    if len(participants) == 1 and chat_with:
        return _reject(f"only {names} wrote, the chat is with {chat_with}: no customer message")
    if wanted:
        given = ", ".join(n.strip() for n in business_names if n.strip())
        return _reject(
            f"business name {given!r} matches no participant ({names}): "
            "pass the exact name with --business-name"
        )
    return _reject(
        f"cannot tell the customer from the business among {names}: pass --business-name"
    )


def _sender_id(customer: str, digits: str | None, international: bool) -> str | None:
    """The wa_id when the number is international; else the saved contact's name, which is
    how the business phone reaches a customer whose number the export leaves out."""
    if digits:
        return digits.removeprefix("00") if international else None
    return f"contact:{customer}"[:128]


def _reject(reason: str) -> RejectedRow:
    return RejectedRow(row=1, reason=reason)


def _lead(messages: list[_Message], customer: str, source_name: str, zone: ZoneInfo) -> LeadRecord:
    mine = [m for m in messages if m.sender == customer]
    first = mine[0]
    text = first.text
    stamp = first.at.isoformat(timespec="minutes")
    identity = _identity(customer)
    digest = hashlib.sha256(f"{identity}|{stamp}|{text}".encode()).hexdigest()[:24]
    digits = _phone_digits(customer)
    international = digits is not None and customer.startswith(("+", "00"))
    return LeadRecord(
        row=1,
        channel=Channel.WHATSAPP,
        name=None if digits else customer,
        phone=customer if digits else None,
        message=text or None,
        external_id=_sender_id(customer, digits, international),
        dedupe_key=f"wachat:{digest}",
        received_at=first.at.replace(tzinfo=zone),
        attributes={
            "messages": len(messages),
            "customer_messages": len(mine),
            "last_message_at": messages[-1].at.replace(tzinfo=zone).isoformat(),
            "participants": list(dict.fromkeys(m.sender for m in messages)),
        },
        payload_ref=f"{source_name}#line={first.line}",
    )
