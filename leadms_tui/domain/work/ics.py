"""Meetings and demos as an RFC 5545 iCalendar file that calendar apps can open.

`render_calendar` turns `CalendarEvent`s into the bytes of a `.ics` file: one VEVENT
per event, every time in UTC, text escaped, lines ending in CRLF and folded at 75
octets without splitting a UTF-8 character. Pure and stdlib only: no database, no UI.

Control characters other than newline and tab cannot appear in iCalendar text, so
they are dropped; CR and CRLF become plain newlines.
"""

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from leadms_tui.domain import clock

PRODID = "-//Lead MS//Lead MS//EN"
NO_REPLY = "mailto:noreply@leadms.invalid"
STATUSES = frozenset({"CONFIRMED", "CANCELLED", "TENTATIVE"})
MAX_LINE_OCTETS = 75

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # everything but tab and newline
_TEXT_SPECIAL = re.compile(r"[\\;,\n]")
_NEEDS_QUOTES = re.compile(r"[,;:\\]")  # backslash too: some parsers read it as an escape


@dataclass(frozen=True)
class CalendarEvent:
    """One meeting or demo as it appears in a calendar."""

    uid: str  # stable, e.g. "meeting-42@leadms"
    starts_at: datetime  # aware
    duration_minutes: int
    summary: str  # e.g. "Demo: LEAD-20261125-003 Ana Ruiz"
    description: str = ""
    location: str = ""  # place or video link
    url: str | None = None  # video link
    organizer: str | None = None  # rep display name
    attendees: tuple[str, ...] = ()  # names
    status: str = "CONFIRMED"  # CONFIRMED / CANCELLED / TENTATIVE
    created_at: datetime | None = None
    updated_at: datetime | None = None


def render_calendar(
    events: Iterable[CalendarEvent],
    *,
    name: str = "Lead MS meetings",
    now: datetime | None = None,
) -> bytes:
    """The iCalendar file (UTF-8 bytes) holding `events`; `now` (aware) stamps DTSTAMP.

    Raises ValueError for naive datetimes, a negative duration or an unknown status.
    """
    stamp = _utc(now or clock.now())
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{_text(name)}",
    ]
    for event in events:
        lines.extend(_event_lines(event, stamp))
    lines.append("END:VCALENDAR")
    return b"".join(_fold(line) for line in lines)


def _event_lines(event: CalendarEvent, stamp: str) -> Iterator[str]:
    status = event.status.strip().upper()
    if status not in STATUSES:
        raise ValueError(f"unknown event status {event.status!r}")
    if event.duration_minutes < 0:
        raise ValueError(f"negative duration for event {event.uid!r}")
    yield "BEGIN:VEVENT"
    yield f"UID:{_text(event.uid)}"
    yield f"DTSTAMP:{stamp}"
    yield f"DTSTART:{_utc(event.starts_at)}"
    if event.duration_minutes:  # without DTEND an event lasts no time (RFC 5545 3.6.1)
        yield f"DTEND:{_utc(event.starts_at + timedelta(minutes=event.duration_minutes))}"
    if event.created_at:
        yield f"CREATED:{_utc(event.created_at)}"
    if event.updated_at:
        yield f"LAST-MODIFIED:{_utc(event.updated_at)}"
    yield f"SUMMARY:{_text(event.summary)}"
    if event.description:
        yield f"DESCRIPTION:{_text(event.description)}"
    if event.location:
        yield f"LOCATION:{_text(event.location)}"
    if url := _clean(event.url or "").strip():
        yield f"URL:{url}"
    yield f"STATUS:{status}"
    if event.organizer and event.organizer.strip():
        yield f"ORGANIZER;CN={_param(event.organizer)}:{NO_REPLY}"
    for attendee in event.attendees:
        if attendee.strip():
            yield f"ATTENDEE;CN={_param(attendee)}:{NO_REPLY}"
    yield "END:VEVENT"


def _utc(moment: datetime) -> str:
    """An aware datetime in UTC form, YYYYMMDDTHHMMSSZ."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()} (need a timezone)")
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _clean(value: str) -> str:
    """Newlines normalised to LF; other control characters (but tab) dropped."""
    return _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


def _text(value: str) -> str:
    """A TEXT value escaped per RFC 5545 3.3.11."""
    return _TEXT_SPECIAL.sub(lambda m: "\\n" if m[0] == "\n" else "\\" + m[0], _clean(value))


def _param(value: str) -> str:
    """A parameter value on one line: RFC 6868 caret escapes, quoted if it holds , ; : or \\."""
    value = " ".join(_clean(value).split("\n")).strip()
    value = value.replace("^", "^^").replace('"', "^'")
    return f'"{value}"' if _NEEDS_QUOTES.search(value) else value


def _fold(line: str) -> bytes:
    """One content line as UTF-8, folded at 75 octets on character boundaries, CRLF-ended."""
    out = bytearray()
    width = 0  # octets on the current physical line
    for char in line:
        encoded = char.encode()
        if width + len(encoded) > MAX_LINE_OCTETS:
            out += b"\r\n "
            width = 1
        out += encoded
        width += len(encoded)
    return bytes(out + b"\r\n")
