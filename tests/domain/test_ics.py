"""The iCalendar export: what `render_calendar` writes parses back with `icalendar`."""

from datetime import UTC, datetime, timedelta, timezone

import icalendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadms_tui.domain.work.ics import CalendarEvent, render_calendar

NOW = datetime(2026, 11, 20, 9, 30, 15, tzinfo=UTC)
BOGOTA = timezone(timedelta(hours=-5))
TRICKY = 'Línea 1\nComma, semi; colon: back\\slash "quotes" ñandú 😀 日本語\ttab'


def make_event(**changes) -> CalendarEvent:
    fields = {
        "uid": "meeting-42@leadms",
        "starts_at": datetime(2026, 11, 25, 10, 0, tzinfo=BOGOTA),
        "duration_minutes": 45,
        "summary": "Demo: LEAD-20261125-003 Ana Ruiz",
    }
    return CalendarEvent(**(fields | changes))


def parse(data: bytes) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(data)


def only_event(data: bytes) -> icalendar.Event:
    (event,) = parse(data).events
    return event


def calendar_name(data: bytes) -> str:
    """X-WR-CALNAME holds TEXT, but icalendar keeps X- values raw unless told the type."""
    typed = data.replace(b"\r\nX-WR-CALNAME:", b"\r\nX-WR-CALNAME;VALUE=TEXT:")
    return str(parse(typed)["X-WR-CALNAME"])


def test_calendar_header():
    data = render_calendar([], name="Ana's demos, Q4; all", now=NOW)
    calendar = parse(data)
    assert calendar["VERSION"] == "2.0"
    assert calendar["PRODID"] == "-//Lead MS//Lead MS//EN"
    assert calendar["CALSCALE"] == "GREGORIAN"
    assert calendar["METHOD"] == "PUBLISH"
    assert calendar_name(data) == "Ana's demos, Q4; all"


def test_empty_calendar_is_valid():
    data = render_calendar([], now=NOW)
    assert data.startswith(b"BEGIN:VCALENDAR\r\n")
    assert data.endswith(b"END:VCALENDAR\r\n")
    calendar = parse(data)
    assert calendar.events == []
    assert calendar.errors == []


def test_every_field_round_trips():
    event = make_event(
        description=TRICKY,
        location='Oficina Centro, piso 3; sala "Ñ"',
        url="https://meet.example.com/abc-defg-hij?pwd=1,2;3",
        organizer="Ruiz, Ana",
        attendees=("María José", "Smith; John", "O'Neil: Pat", 'Bob "B" ^x'),
        created_at=datetime(2026, 11, 1, 8, 0, 1, tzinfo=UTC),
        updated_at=datetime(2026, 11, 2, 23, 59, 59, tzinfo=BOGOTA),
    )
    parsed = only_event(render_calendar([event], now=NOW))
    assert parsed.errors == []
    assert parsed.decoded("UID") == "meeting-42@leadms"
    assert parsed.decoded("DTSTAMP") == NOW
    assert parsed.decoded("DTSTART") == event.starts_at
    assert parsed.decoded("DTEND") == event.starts_at + timedelta(minutes=45)
    assert parsed.decoded("CREATED") == event.created_at
    assert parsed.decoded("LAST-MODIFIED") == event.updated_at
    for key in ("DTSTAMP", "DTSTART", "DTEND", "CREATED", "LAST-MODIFIED"):
        assert parsed.decoded(key).utcoffset() == timedelta(0)
    assert parsed.decoded("SUMMARY") == event.summary
    assert parsed.decoded("DESCRIPTION") == TRICKY
    assert parsed.decoded("LOCATION") == event.location
    assert str(parsed["URL"]) == event.url
    assert parsed["STATUS"] == "CONFIRMED"
    assert parsed["ORGANIZER"] == "mailto:noreply@leadms.invalid"
    assert parsed["ORGANIZER"].params["CN"] == "Ruiz, Ana"
    attendees = parsed["ATTENDEE"]
    assert [a.params["CN"] for a in attendees] == list(event.attendees)
    assert {str(a) for a in attendees} == {"mailto:noreply@leadms.invalid"}


def test_times_are_written_in_utc_form():
    text = render_calendar([make_event()], now=NOW).decode()
    assert "\r\nDTSTAMP:20261120T093015Z\r\n" in text
    assert "\r\nDTSTART:20261125T150000Z\r\n" in text
    assert "\r\nDTEND:20261125T154500Z\r\n" in text


def test_text_is_escaped_per_rfc_5545():
    data = render_calendar([make_event(description="a,b;c\\d\ne\r\nf")], now=NOW)
    assert b"\r\nDESCRIPTION:a\\,b\\;c\\\\d\\ne\\nf\r\n" in data


def test_cn_quoted_only_when_needed():
    event = make_event(
        organizer="Ana Ruiz", attendees=("Smith, John", "A:b", "Plain", "Back\\", 'Q"^')
    )
    text = render_calendar([event], now=NOW).decode()
    assert "\r\nORGANIZER;CN=Ana Ruiz:mailto:noreply@leadms.invalid\r\n" in text
    assert '\r\nATTENDEE;CN="Smith, John":mailto:noreply@leadms.invalid\r\n' in text
    assert '\r\nATTENDEE;CN="A:b":mailto:noreply@leadms.invalid\r\n' in text
    assert "\r\nATTENDEE;CN=Plain:mailto:noreply@leadms.invalid\r\n" in text
    assert '\r\nATTENDEE;CN="Back\\":mailto:noreply@leadms.invalid\r\n' in text
    assert "\r\nATTENDEE;CN=Q^'^^:mailto:noreply@leadms.invalid\r\n" in text  # RFC 6868


def test_optional_fields_are_left_out_when_empty():
    parsed = only_event(render_calendar([make_event(attendees=("  ",))], now=NOW))
    for key in ("DESCRIPTION", "LOCATION", "URL", "ORGANIZER", "ATTENDEE", "CREATED"):
        assert key not in parsed
    assert "LAST-MODIFIED" not in parsed


def test_cancelled_and_tentative_status():
    events = [make_event(uid="a", status="CANCELLED"), make_event(uid="b", status="tentative")]
    parsed = parse(render_calendar(events, now=NOW)).events
    assert [(str(e["UID"]), str(e["STATUS"])) for e in parsed] == [
        ("a", "CANCELLED"),
        ("b", "TENTATIVE"),
    ]


def test_one_vevent_per_event_in_order():
    events = [make_event(uid=f"meeting-{n}@leadms") for n in range(5)]
    parsed = parse(render_calendar(events, now=NOW)).events
    assert [str(e["UID"]) for e in parsed] == [e.uid for e in events]


def test_lines_end_with_crlf_and_fit_75_octets():
    event = make_event(summary="x" * 300, description=TRICKY * 10, attendees=("N" * 200,))
    data = render_calendar([event], now=NOW)
    assert data.endswith(b"\r\n")
    lines = data.split(b"\r\n")[:-1]
    assert all(b"\r" not in line and b"\n" not in line for line in lines)
    assert all(len(line) <= 75 for line in lines)
    assert max(len(line) for line in lines) == 75
    assert parse(data).events[0].decoded("SUMMARY") == "x" * 300


@pytest.mark.parametrize("unit", ["é", "😀", "é😀", "a日本"])
def test_folding_never_splits_a_multibyte_character(unit):
    summary = unit * 100
    data = render_calendar([make_event(summary=summary)], now=NOW)
    lines = data.split(b"\r\n")[:-1]
    assert all(len(line) <= 75 for line in lines)
    for line in lines:
        line.decode("utf-8")  # each physical line is valid UTF-8 by itself
    continuations = [line for line in lines if line.startswith(b" ")]
    assert continuations
    assert only_event(data).decoded("SUMMARY") == summary


def test_control_characters_are_dropped():
    parsed = only_event(render_calendar([make_event(summary="a\x00b\x1bc\x7fd\te")], now=NOW))
    assert parsed.decoded("SUMMARY") == "abcd\te"


def test_zero_duration_has_no_dtend():
    parsed = only_event(render_calendar([make_event(duration_minutes=0)], now=NOW))
    assert "DTEND" not in parsed
    assert parsed.decoded("DTSTART") == make_event().starts_at


def test_now_defaults_to_the_current_time():
    before = datetime.now(UTC).replace(microsecond=0)
    stamp = only_event(render_calendar([make_event()])).decoded("DTSTAMP")
    assert before <= stamp <= datetime.now(UTC)


@pytest.mark.parametrize(
    "bad",
    [
        {"starts_at": datetime(2026, 11, 25, 10, 0)},
        {"created_at": datetime(2026, 11, 25, 10, 0)},
        {"duration_minutes": -5},
        {"status": "MAYBE"},
    ],
)
def test_invalid_events_are_rejected(bad):
    with pytest.raises(ValueError):
        render_calendar([make_event(**bad)], now=NOW)


def test_naive_now_is_rejected():
    with pytest.raises(ValueError):
        render_calendar([], now=datetime(2026, 11, 25))


# Any text without control characters (but newline and tab), including surrogate-free
# astral characters, combining marks and line/paragraph separators.
texts = st.text(
    alphabet=st.one_of(
        st.characters(blacklist_categories=("Cs", "Cc")),
        st.sampled_from("\n\t\\;,:\"'^ é😀"),
    ),
    max_size=200,
)


@given(summary=texts, description=texts, location=texts, attendee=texts)
def test_random_text_round_trips(summary, description, location, attendee):
    event = make_event(
        summary=summary,
        description=description,
        location=location,
        attendees=(attendee,),
        organizer=attendee,
    )
    data = render_calendar([event], name=summary, now=NOW)
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))
    calendar = parse(data)
    parsed = calendar.events[0]
    assert parsed.decoded("SUMMARY") == summary
    assert parsed.decoded("DESCRIPTION", default="") == description
    assert parsed.decoded("LOCATION", default="") == location
    assert calendar_name(data) == summary
    name = " ".join(attendee.split("\n")).strip()  # a name is kept on one line
    if name and "\\" not in name:  # icalendar reads a backslash in a parameter as an escape
        assert parsed["ORGANIZER"].params["CN"] == name
        assert parsed["ATTENDEE"].params["CN"] == name
