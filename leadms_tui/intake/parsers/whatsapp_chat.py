"""WhatsApp "Export chat" text files: one exported chat is one lead.

Layouts (see CHANNELS.md section 4): Android `12/11/2026, 09:15 - Ana Ruiz: text` and iOS
`[12/11/2026, 09:15:32] Ana Ruiz: text`, in every locale's shape of date and time:
- dates d/m/y, m/d/y (2- or 4-digit years) or y/m/d (4-digit), separated by `/ . -`, also
  `13. 6. 2018.` and `2018. 6. 13.` with spaces, and `06/2018/13` (m/y/d) as some iOS exports
  have it; digits of any script (Arabic-Indic too);
- then `,` `،` or a space, perhaps with `klo` (fi), `kl.`, `à`, `às`, `um`, `om` or `at`;
- 24-hour or 12-hour times with `:` or `.` (`21.25.15`), seconds optional; a 12-hour mark after
  the time (`PM`, `p.m.`, `p. m.`, `nachm.`, `em`, `ip.`, `μ.μ.`, `ÖS`, `CH`, `م`, after any
  space, U+202F, U+00A0 or none) or before it (`오후 9:25`, `下午9:25`, `午後0:25`, `du. 9:25`);
- then `] `, ` - `, `: ` after seconds (`13.06.18 21.25.15: Ana: text`), or a plain space after
  a spaced date (`13. 6. 2018. 21:25:15 Ana: text`, the name ending at the first `: `); after
  a spaced date a word after the time is the author's, never a 12-hour mark.
Direction marks (U+200E, U+200F, U+202A-U+202E, U+2066-U+2069) are removed everywhere.
A line without a timestamp continues the previous message; a timestamped line without a
`Name:` part (or a known notice such as "Messages and calls are end-to-end encrypted") is a
system line and is skipped. Media lines (`<Media omitted>`, `image omitted`, `<attached: …>`)
are messages whose text reads "[media]". The date order is decided once per file: a first
component above 12 proves day-first, a second above 12 month-first; `day_first` overrides;
undecided means day-first; year-first dates are always y/m/d. A line whose date is impossible
in that order is continuation text.

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
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from leadms_tui.domain.models import Channel
from leadms_tui.intake.records import LeadRecord, ParsedItem, RejectedRow, UnusableInput

_MARKS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# 12-hour clock marks, written without dots and spaces: True after noon
_MERIDIEM = {
    "am": False, "pm": True,  # AM, a.m., a. m.
    "vorm": False, "nachm": True,  # de
    "fm": False, "em": True,  # sv, nb
    "ap": False, "ip": True,  # fi
    "πμ": False, "μμ": True,  # el
    "öö": False, "ös": True,  # tr
    "sa": False, "ch": True,  # vi
    "ص": False, "م": True,  # ar
    "de": False, "du": True,  # hu
    "오전": False, "오후": True,  # ko
    "上午": False, "下午": True, "凌晨": False, "早上": False, "中午": True, "晚上": True,  # zh
    "午前": False, "午後": True,  # ja
}  # fmt: skip
_CONNECTORS = {"klo", "kl", "à", "às", "um", "om", "at"}  # between date and time
_HEAD = re.compile(  # "[" date, connector, 12-hour mark before the time, time
    r"(?P<open>\[)?"
    r"(?P<d1>\d{1,4})(?P<sep>[./-])(?P<gap>\s?)(?P<d2>\d{1,4})(?P=sep)(?P=gap)(?P<d3>\d{1,4})\.?"
    r"(?:\s*[,\u060c]\s*|\s+)(?:(?P<pre>[^\W\d_]+\.?)\s*)?"
    r"(?P<h>\d{1,2})[:.](?P<mi>\d{2})(?:[:.](?P<s>\d{2}))?"
)
_MERIDIEM_WORDS = "|".join(
    r"\.?\s?".join(map(re.escape, word)) + r"\.?"  # "pm" also reads "p.m." and "p. m."
    for word in sorted(_MERIDIEM, key=len, reverse=True)
)
_MERIDIEM_AFTER = re.compile(rf"\s*(?P<mark>{_MERIDIEM_WORDS})(?![^\W_])", re.IGNORECASE)
# what follows the time: "] " (iOS), " - " (Android), ": " (older exports), or a plain space
_AFTER = re.compile(r"(?P<close>\]\s*)|\s+[-\u2013]\s+|(?P<colon>:\s+)|(?P<bare>\s+)")
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


class _Stamp(NamedTuple):
    year: int
    first: int  # month when year_first, else day or month in the file's date order
    second: int
    year_first: bool
    clock: tuple[int, int, int]  # 24-hour
    rest: str  # the line after the timestamp


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
    messages, stamped = _read(text, day_first)
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


def _read(text: str, day_first: bool | None) -> tuple[list[_Message], int]:
    """The chat's messages in file order, and how many lines carried a valid timestamp."""
    lines = [_MARKS.sub("", line) for line in _LINE_BREAK.split(text)]
    stamps = [_stamp(line) for line in lines]
    if day_first is None:
        day_first = _guess_day_first([s for s in stamps if s])
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
        sender, text = _split_sender(stamp.rest)
        if sender is None or _SYSTEM_TEXT.match(text.strip()):
            current = None  # a system line, and whatever continues it
            continue
        current = _Message(number, at, sender, [text])
        messages.append(current)
    return messages, stamped


def _stamp(line: str) -> _Stamp | None:
    """The timestamp a line starts with, its date still in the file's order, or None."""
    m = _HEAD.match(line)
    date = _date(m["d1"], m["d2"], m["d3"]) if m else None
    pre = _word(m["pre"]) if m else ""
    if m is None or date is None or (pre and pre not in _MERIDIEM and pre not in _CONNECTORS):
        return None
    pm, hour, at = _MERIDIEM.get(pre), int(m["h"]), m.end()
    # after a spaced date (13. 6. 2018.) a word after the time is the author's
    if pm is None and not m["gap"] and (mark := _MERIDIEM_AFTER.match(line, at)):
        pm, at = _MERIDIEM[_word(mark["mark"])], mark.end()
    if pm is not None:
        if hour > 12:
            return None
        hour = hour % 12 + (12 if pm else 0)
    after = _AFTER.match(line, at)
    if after is None or bool(after["close"]) != bool(m["open"]):
        return None
    # a plain space only after "13. 6. 2018.", ": " only after seconds (as iOS writes them), so
    # that a message line such as "12/11/2026 10:00: ok?" stays text
    if (after["bare"] and not m["gap"]) or (after["colon"] and not m["s"]):
        return None
    clock = (hour, int(m["mi"]), int(m["s"] or 0))
    return _Stamp(*date, clock, line[after.end() :])


def _word(text: str | None) -> str:
    return re.sub(r"[.\s]", "", text or "").casefold()


def _date(d1: str, d2: str, d3: str) -> tuple[int, int, int, bool] | None:
    """(year, first, second, year_first) by where the year is: y/m/d, d/m/y or m/d/y, m/y/d."""
    n1, n2, n3 = len(d1), len(d2), len(d3)
    if n1 == 4 and n2 <= 2 and n3 <= 2:
        return int(d1), int(d2), int(d3), True
    if n1 <= 2 and n2 <= 2 and n3 in (2, 4):
        return int(d3) + (2000 if n3 == 2 else 0), int(d1), int(d2), False
    if n1 <= 2 and n2 == 4 and n3 <= 2:
        return int(d2), int(d1), int(d3), False
    return None


def _guess_day_first(stamps: list[_Stamp]) -> bool:
    ordered = [s for s in stamps if not s.year_first]
    day_proof = any(s.first > 12 for s in ordered)
    month_proof = any(s.second > 12 for s in ordered)
    return day_proof or not month_proof


def _when(stamp: _Stamp, day_first: bool) -> datetime | None:
    month, day = stamp.first, stamp.second
    if day_first and not stamp.year_first:
        month, day = day, month
    try:
        return datetime(stamp.year, month, day, *stamp.clock)
    except ValueError:
        return None


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
