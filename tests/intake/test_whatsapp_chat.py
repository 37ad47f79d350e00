"""WhatsApp "Export chat" files: one chat, one lead; the customer told from the business."""

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadms_tui.domain.models import Channel
from leadms_tui.intake.parsers.whatsapp_chat import parse_whatsapp_chat
from leadms_tui.intake.records import LeadRecord, RejectedRow, UnusableInput

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples" / "whatsapp"
BUSINESS = ("FitHub London",)
LONDON = ZoneInfo("Europe/London")


def _sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def _parse(data: bytes, source_name: str = "chat.txt", **options) -> LeadRecord | RejectedRow:
    items = list(parse_whatsapp_chat(data, source_name=source_name, **options))
    assert len(items) == 1
    return items[0]


def _lead(name: str, **options) -> LeadRecord:
    options.setdefault("business_names", BUSINESS)
    options.setdefault("timezone", "Europe/London")
    item = _parse(_sample(name), name, **options)
    assert isinstance(item, LeadRecord), item
    return item


def _chat(*lines: str) -> bytes:
    return "\n".join(lines).encode()


def test_android_24h_day_first_multiline_message_and_system_line():
    lead = _lead("WhatsApp Chat with Ana Ruiz.txt")
    assert lead.row == 1
    assert lead.channel is Channel.WHATSAPP
    assert (lead.name, lead.phone, lead.external_id) == ("Ana Ruiz", None, "contact:Ana Ruiz")
    assert lead.message == (
        "Hi! I saw your ad for the 6-week strength programme.\n"
        "Is there still space in the evening group?\n\nI can only train after 6pm."
    )
    assert lead.received_at == datetime(2026, 11, 12, 9, 15, tzinfo=LONDON)
    assert lead.payload_ref == "WhatsApp Chat with Ana Ruiz.txt#line=2"
    assert lead.dedupe_key is not None
    assert lead.dedupe_key.startswith("wachat:")
    assert len(lead.dedupe_key) == len("wachat:") + 24
    assert lead.attributes == {
        "messages": 6,
        "customer_messages": 3,
        "last_message_at": "2026-11-14T17:05:00+00:00",
        "participants": ["Ana Ruiz", "FitHub London"],
    }


def test_ios_phone_sender_12h_narrow_space_marks_and_attachment():
    lead = _lead("WhatsApp Chat with +44 7700 900123.txt")
    assert (lead.name, lead.phone) == (None, "+44 7700 900123")
    assert lead.external_id == "447700900123"
    # the encryption notice iOS files under the contact's name is not their first message
    assert lead.message == "Hello, do you do personal training for beginners?"
    assert lead.received_at == datetime(2026, 12, 3, 18, 42, 10, tzinfo=LONDON)
    assert lead.attributes["customer_messages"] == 4  # the photo and the image count
    assert lead.attributes["last_message_at"] == "2026-12-04T08:06:03+00:00"
    assert lead.attributes["participants"] == ["+44 7700 900123", "FitHub London"]


def test_us_month_first_12h_with_noon_midnight_and_nbsp():
    lead = _lead("WhatsApp Chat with Jake Miller.txt")
    assert lead.name == "Jake Miller"
    assert lead.message == "Hey, do you have a day pass? I'm visiting London next week"
    assert lead.received_at == datetime(2026, 11, 14, 9, 5, tzinfo=LONDON)
    assert lead.attributes["last_message_at"] == "2026-11-16T00:30:00+00:00"  # 12:30 am
    assert lead.attributes["customer_messages"] == 3  # "12:10\u00a0pm" parsed too


def test_iso_dates_and_media_as_first_message():
    lead = _lead("WhatsApp Chat with Priya Shah.txt")
    assert lead.name == "Priya Shah"
    assert lead.message == "[media]"
    assert lead.received_at == datetime(2026, 11, 12, 18, 31, tzinfo=LONDON)
    assert lead.attributes["messages"] == 4  # the security-code notice is skipped


def test_two_digit_years_with_dots_and_business_writing_first():
    lead = _lead("WhatsApp Chat with Tom Becker.txt")
    assert lead.name == "Tom Becker"
    assert lead.message == "Yes! Do you have off-peak memberships?"
    assert lead.received_at == datetime(2026, 11, 12, 20, 4, tzinfo=LONDON)
    assert lead.payload_ref == "WhatsApp Chat with Tom Becker.txt#line=2"


@pytest.mark.parametrize(
    "name",
    [
        "WhatsApp Chat with Ana Ruiz.txt",
        "WhatsApp Chat with +44 7700 900123.txt",
        "WhatsApp Chat with Jake Miller.txt",
        "WhatsApp Chat with Tom Becker.txt",
    ],
)
def test_file_name_identifies_the_customer_without_business_names(name):
    with_names = _lead(name)
    assert _lead(name, business_names=()) == with_names


def test_business_only_chat_is_rejected():
    name = "WhatsApp Chat with Leo Grant.txt"
    for business in (BUSINESS, ()):
        item = _parse(_sample(name), name, business_names=business)
        assert isinstance(item, RejectedRow)
        assert item.row == 1
        assert "no customer message" in item.reason


def test_group_chat_is_rejected_with_a_reason():
    name = "WhatsApp Chat with FitHub Bootcamp Group.txt"
    item = _parse(_sample(name), name)
    assert isinstance(item, RejectedRow)
    assert "--business-name" in item.reason
    item = _parse(_sample(name), name, business_names=BUSINESS)
    assert isinstance(item, RejectedRow)
    assert "Ana Ruiz" in item.reason and "+44 7700 900456" in item.reason


def test_only_system_lines_is_rejected():
    item = _parse(_chat("12/11/2026, 09:14 - Messages and calls are end-to-end encrypted."))
    assert isinstance(item, RejectedRow)
    assert "system lines" in item.reason


def test_not_a_chat_raises_unusable_input():
    with pytest.raises(UnusableInput, match="not a WhatsApp chat export"):
        parse_whatsapp_chat(_sample("notes.txt"), source_name="notes.txt")
    with pytest.raises(UnusableInput, match="empty"):
        parse_whatsapp_chat(b"", source_name="empty.txt")


def test_business_name_matching_is_case_and_space_insensitive():
    data = _chat(
        "12/11/2026, 09:15 - FitHub  London: Hello, how can we help?",
        "12/11/2026, 09:16 - Sam Cole: Do you run kids' classes?",
    )
    lead = _parse(data, business_names=["fithub london"])
    assert isinstance(lead, LeadRecord)
    assert lead.name == "Sam Cole"


def test_unmatched_business_name_and_no_file_name_is_rejected():
    data = _chat(
        "12/11/2026, 09:15 - Sam Cole: Do you run kids' classes?",
        "12/11/2026, 09:16 - FitHub London: Yes, on Saturdays.",
    )
    item = _parse(data, "_chat.txt", business_names=["FitHub Ltd"])
    assert isinstance(item, RejectedRow)
    assert "FitHub Ltd" in item.reason and "--business-name" in item.reason
    item = _parse(data, "_chat.txt")
    assert isinstance(item, RejectedRow)
    lead = _parse(data, "WhatsApp Chat - Sam Cole.zip/_chat.txt")  # iOS zip export
    assert isinstance(lead, LeadRecord) and lead.name == "Sam Cole"


def test_chat_named_by_phone_matches_the_number_however_written():
    data = _chat(
        "[12/11/2026, 09:15:32] \u202a+44\u00a07700\u00a0900124\u202c: Hi, price for a PT block?",
        "[12/11/2026, 09:20:02] FitHub London: £200 for five sessions.",
    )
    lead = _parse(data, "WhatsApp Chat with +447700900124.txt")
    assert isinstance(lead, LeadRecord)
    assert lead.phone == "+44 7700 900124"
    assert lead.external_id == "447700900124"


def test_day_first_decision_from_all_dates():
    sam = "WhatsApp Chat with Sam Cole.txt"
    ambiguous = "03/12/2026, 10:00 - Sam Cole: hi"
    assert _parse(_chat(ambiguous), sam).received_at.date() == date(2026, 12, 3)  # default
    day_first = _chat(ambiguous, "25/12/2026, 10:00 - Sam Cole: happy xmas")
    assert _parse(day_first, sam).received_at.date() == date(2026, 12, 3)
    month_first = _chat(ambiguous, "12/25/2026, 10:00 - Sam Cole: happy xmas")
    assert _parse(month_first, sam).received_at.date() == date(2026, 3, 12)


def test_day_first_argument_overrides_the_guess():
    name = "WhatsApp Chat with +44 7700 900123.txt"
    lead = _lead(name, day_first=False)
    assert lead.received_at == datetime(2026, 3, 12, 18, 42, 10, tzinfo=LONDON)
    assert _lead(name, day_first=True).received_at.month == 12


@pytest.mark.parametrize("space", [" ", "\u202f", "\u00a0", ""])
@pytest.mark.parametrize("suffix", ["PM", "pm", "p.m."])
def test_twelve_hour_times(space, suffix):
    data = _chat(f"[12/11/2026, 9:15:07{space}{suffix}] Sam Cole: hi")
    lead = _parse(data, "WhatsApp Chat with Sam Cole.txt")
    assert lead.received_at == datetime(2026, 11, 12, 21, 15, 7, tzinfo=ZoneInfo("UTC"))


def test_continuation_lines_and_crlf():
    data = (
        b"12/11/2026, 09:15 - Sam Cole: first line\r\n\r\nthird line\r\n"
        b"12/11/2026, 09:16 - Sam Cole: next\r\n"
    )
    lead = _parse(data, "WhatsApp Chat with Sam Cole.txt")
    assert lead.message == "first line\n\nthird line"
    assert lead.attributes["messages"] == 2


def test_system_lines_with_colons_are_not_senders():
    data = _chat(
        '01/12/2026, 08:00 - You created group "Bootcamp: December"',
        "01/12/2026, 08:01 - Sam Cole changed the subject to \u201cBootcamp: Jan\u201d",
        "01/12/2026, 08:02 - Sam Cole: Hello",
    )
    lead = _parse(data, "WhatsApp Chat with Sam Cole.txt")
    assert lead.attributes["participants"] == ["Sam Cole"]
    assert lead.message == "Hello"


def test_reexport_with_more_messages_gives_the_same_dedupe_key():
    name = "WhatsApp Chat with Ana Ruiz.txt"
    first = _lead(name)
    later = _sample(name) + _chat(
        "20/11/2026, 07:30 - Ana Ruiz: Loved the trial, signing up!",
        "20/11/2026, 07:31 - FitHub London: Brilliant, welcome aboard!",
    )
    again = _parse(later, name, business_names=BUSINESS, timezone="America/New_York")
    assert again.dedupe_key == first.dedupe_key
    assert again.attributes["messages"] == 8
    assert _lead(name).dedupe_key == first.dedupe_key  # and a plain re-import
    other = _lead("WhatsApp Chat with Jake Miller.txt")
    assert other.dedupe_key != first.dedupe_key


def test_timezone_makes_received_at_aware():
    name = "WhatsApp Chat with Ana Ruiz.txt"
    lead = _lead(name, timezone="America/New_York")
    assert lead.received_at.utcoffset().total_seconds() == -5 * 3600
    assert _lead(name, timezone="UTC").received_at.tzinfo == ZoneInfo("UTC")


def test_encodings_utf16_and_latin1():
    text = "12/11/2026, 09:15 - Zoé Martin: Bonjour, vous êtes ouverts dimanche ?\n"
    for encoding in ("utf-16", "latin-1", "utf-8-sig"):
        lead = _parse(text.encode(encoding), "WhatsApp Chat with Zoé Martin.txt")
        assert isinstance(lead, LeadRecord)
        assert lead.name == "Zoé Martin"
        assert lead.message == "Bonjour, vous êtes ouverts dimanche ?"
    with pytest.raises(UnusableInput, match="UTF-16"):
        parse_whatsapp_chat(b"\xff\xfe\x00\xd8\x41", source_name="x.txt")
    with pytest.raises(UnusableInput, match="nor UTF-8"):
        parse_whatsapp_chat(b"caf\xe9 notes\n", source_name="x.txt")


def _check(data: bytes, business: list[str]) -> None:
    try:
        items = list(
            parse_whatsapp_chat(
                data, source_name="WhatsApp Chat with A.txt", business_names=business
            )
        )
    except UnusableInput:
        return
    assert len(items) == 1
    assert isinstance(items[0], LeadRecord | RejectedRow)


_ANY = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=200)


@_ANY
@given(st.binary())
def test_arbitrary_bytes_never_crash(data):
    _check(data, [])


@_ANY
@given(st.text(), st.lists(st.text(max_size=10), max_size=2))
def test_arbitrary_text_never_crashes(text, business):
    _check(text.encode(), business)


_STAMP = st.sampled_from(
    [
        "12/11/2026, 09:15 - ",
        "[12/11/26, 9:15:32\u202fPM] ",
        "2026-11-12, 23:59 - ",
        "99/99/99, 1:1 - ",
    ]
)
_LINE = st.one_of(
    st.builds(str.__add__, _STAMP, st.text(max_size=30)),
    st.builds(
        lambda s, n, t: f"{s}{n}: {t}",
        _STAMP,
        st.sampled_from(["A", "B", "+44 7700 900125"]),
        st.text(max_size=20),
    ),
    st.text(max_size=30),
)


@_ANY
@given(st.lists(_LINE, max_size=12), st.lists(st.sampled_from(["A", "B", ""]), max_size=2))
def test_chat_like_text_never_crashes(lines, business):
    _check("\n".join(lines).encode(), business)
