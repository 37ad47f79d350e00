"""WhatsApp "Export chat" files: one chat, one lead; the customer told from the business."""

from datetime import date, datetime
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadms_tui.domain.models import Channel
from leadms_tui.intake.parsers.whatsapp_chat import _SYSTEM_NAME, _read, parse_whatsapp_chat
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
    (item,) = items
    assert item.row == 1
    if isinstance(item, RejectedRow):
        assert item.reason.strip() and "\n" not in item.reason
        return
    assert isinstance(item, LeadRecord) and item.channel == Channel.WHATSAPP
    customer = item.phone if item.name is None else item.name
    assert customer and (item.name is None) != (item.phone is None)  # a name or a number
    assert customer in item.attributes["participants"] and customer not in business
    assert 1 <= item.attributes["customer_messages"] <= item.attributes["messages"]
    assert item.message is None or item.message.strip() == item.message != ""
    assert item.dedupe_key.startswith("wachat:") and item.received_at.tzinfo is not None


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


# --- chat exports from every locale (issue 10 §6) -------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "13.06.18 21.25.15: Sam Cole: Hi, is the pool open late?",  # dotted time, then ": "
        "13.6.2018 klo 21.25.15 - Sam Cole: Hi, is the pool open late?",  # Finnish "klo"
        "13. 6. 2018. 21:25:15 Sam Cole: Hi, is the pool open late?",  # no separator at all
    ],
)
def test_shapes_once_refused_as_not_a_chat(line):
    data = _chat(line, "Note: after 9pm", "13.6.2018 at the latest")
    lead = _parse(data, "WhatsApp Chat with Sam Cole.txt")
    assert isinstance(lead, LeadRecord)
    assert lead.name == "Sam Cole"
    assert lead.message == "Hi, is the pool open late?\nNote: after 9pm\n13.6.2018 at the latest"
    assert lead.received_at == datetime(2018, 6, 13, 21, 25, 15, tzinfo=ZoneInfo("UTC"))


def test_without_a_separator_the_name_ends_at_the_first_colon():
    data = _chat(
        "13. 6. 2018. 09:25:15 Em Watson: Price: how much?",
        "14. 6. 2018. 21:26:00 FitHub London: £20",
    )
    lead = _parse(data, business_names=BUSINESS)
    assert isinstance(lead, LeadRecord)
    assert (lead.name, lead.message) == ("Em Watson", "Price: how much?")  # "Em" is no 12-hour mark
    assert lead.received_at.hour == 9


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [  # whatsapp-chat-parser's list of shapes, and other locales'
        ("3/6/18, 1:55 p.m. - ", datetime(2018, 6, 3, 13, 55)),
        ("03-06-2018, 01.55 PM - ", datetime(2018, 6, 3, 13, 55)),
        ("[06.13.18 21:25:15] ", datetime(2018, 6, 13, 21, 25, 15)),
        ("[3/6/18 1:55:00 p. m.] ", datetime(2018, 6, 3, 13, 55)),
        ("\u200e[3/6/18 1:55:00 p.\u00a0m.] ", datetime(2018, 6, 3, 13, 55)),
        ("[2018/06/13, 21:25:15] ", datetime(2018, 6, 13, 21, 25, 15)),
        ("[06/2018/13, 21:25:15] ", datetime(2018, 6, 13, 21, 25, 15)),
        ("3/24/14, 1:59:59 PM: ", datetime(2014, 3, 24, 13, 59, 59)),
        ("2023-12-20, 5:46 p.m. - ", datetime(2023, 12, 20, 17, 46)),
        ("8/28/2016 , 2:43 PM - ", datetime(2016, 8, 28, 14, 43)),
        ("2018. 6. 13. 오후 9:25 - ", datetime(2018, 6, 13, 21, 25)),
        ("[2018. 6. 13. 오전 12:05:09] ", datetime(2018, 6, 13, 0, 5, 9)),
        ("2018/6/13 下午9:25 - ", datetime(2018, 6, 13, 21, 25)),
        ("[2018/06/13 午後0:25:00] ", datetime(2018, 6, 13, 12, 25)),
        ("13.06.18, 9:25 nachm. - ", datetime(2018, 6, 13, 21, 25)),
        ("13/6/2018, 9:25 μ.μ. - ", datetime(2018, 6, 13, 21, 25)),
        ("2018. 06. 13. du. 9:25 - ", datetime(2018, 6, 13, 21, 25)),
        (  # Arabic-Indic digits, right-to-left marks, the Arabic comma
            "\u0661\u0663\u200f/\u0666\u200f/\u0662\u0660\u0661\u0668\u060c"
            " \u0669:\u0662\u0665 \u0645 - ",
            datetime(2018, 6, 13, 21, 25),
        ),
    ],
)
def test_locale_shapes(stamp, expected):
    lead = _parse(_chat(stamp + "Sam Cole: hi"), "WhatsApp Chat with Sam Cole.txt")
    assert isinstance(lead, LeadRecord)
    assert (lead.name, lead.message) == ("Sam Cole", "hi")
    assert lead.received_at == expected.replace(tzinfo=ZoneInfo("UTC"))


@pytest.mark.parametrize(
    "line",
    [
        "12/11/2026 10:00: ok?",  # ": " only after seconds
        "12/11/2026 10:00 Sam Cole: ok?",  # a plain space only after a spaced date
        "12/11/2026, 21:00 PM - Sam Cole: ok?",  # no 21 o'clock in the afternoon
        "12/11/2026 noon 10:00 - Sam Cole: ok?",  # an unknown word could be a day period
    ],
)
def test_near_stamps_stay_message_text(line):
    data = _chat("12/11/2026, 09:15 - Sam Cole: Can we book", line)
    lead = _parse(data, "WhatsApp Chat with Sam Cole.txt")
    assert lead.message == f"Can we book\n{line}"
    assert lead.attributes["messages"] == 1


class _Shape(NamedTuple):
    template: str  # str.format fields from _render
    order: str  # "dmy", "mdy" or "ymd": which of day and month comes first
    marks: tuple[str, str] | None = None  # 12-hour clock: before and after noon
    digits: str = "0123456789"


_SHAPES = [
    _Shape("{dd}/{mm}/{Y}, {H}:{M} - ", "dmy"),  # Android en_GB
    _Shape("{m}/{d}/{y}, {h}:{M}\u202f{p} - ", "mdy", ("AM", "PM")),  # Android en_US
    _Shape("{d}/{m}/{y}, {h}:{M} {p} - ", "dmy", ("a.m.", "p.m.")),
    _Shape("{dd}-{mm}-{Y}, {hh}.{M} {p} - ", "dmy", ("AM", "PM")),
    _Shape("{d}/{m}/{Y}, {h}:{M} {p} - ", "dmy", ("a.\u00a0m.", "p.\u00a0m.")),  # es
    _Shape("{Y}-{mm}-{dd}, {h}:{M} {p} - ", "ymd", ("a.m.", "p.m.")),  # en_CA
    _Shape("{Y}/{mm}/{dd}, {h}:{M} {p} - ", "ymd", ("am", "pm")),  # en_ZA
    _Shape("{Y}-{mm}-{dd} {H}:{M} - ", "ymd"),  # sv
    _Shape("{dd}.{mm}.{y}, {H}:{M} - ", "dmy"),  # de
    _Shape("{dd}.{mm}.{y}, {h}:{M} {p} - ", "dmy", ("vorm.", "nachm.")),
    _Shape("{mm}.{dd}.{y} {h}:{M} {p} - ", "mdy", ("AM", "PM")),
    _Shape("{dd}.{mm}.{y} {H}.{M}.{S}: ", "dmy"),  # dotted time, then ": "
    _Shape("{m}/{d}/{y}, {h}:{M}:{S} {p}: ", "mdy", ("AM", "PM")),  # older iOS
    _Shape("{d}.{m}.{Y} klo {H}.{M}.{S} - ", "dmy"),  # fi
    _Shape("{d}. {m}. {Y}. {H}:{M}:{S} ", "dmy"),  # day. month. year. and no separator
    _Shape("{Y}. {mm}. {dd}. {p} {h}:{M} - ", "ymd", ("de.", "du.")),  # hu
    _Shape("{Y}. {m}. {d}. {p} {h}:{M} - ", "ymd", ("오전", "오후")),  # ko
    _Shape("{Y}/{m}/{d} {p}{h}:{M} - ", "ymd", ("上午", "下午")),  # zh
    _Shape("{d}/{m}/{Y}, {h}:{M} {p} - ", "dmy", ("π.μ.", "μ.μ.")),  # el
    _Shape("{dd}.{mm}.{Y} {h}:{M} {p} - ", "dmy", ("ÖÖ", "ÖS")),  # tr
    _Shape("{d}\u200f/{m}\u200f/{Y}\u060c {h}:{M} {p} - ", "dmy", ("ص", "م"), "٠١٢٣٤٥٦٧٨٩"),
    _Shape("[{dd}/{mm}/{Y}, {H}:{M}:{S}] ", "dmy"),  # iOS
    _Shape("\u200e[{m}/{d}/{y}, {h}:{M}:{S}\u202f{p}] ", "mdy", ("AM", "PM")),
    _Shape("[{mm}.{dd}.{y} {H}:{M}:{S}] ", "mdy"),
    _Shape("[{d}/{m}/{y} {h}:{M}:{S} {p}] ", "dmy", ("a. m.", "p. m.")),
    _Shape("\u200e[{d}/{m}/{y} {h}:{M}:{S} {p}] ", "dmy", ("a. m.", "p. m.")),
    _Shape("[{dd}.{mm}.{y}, {H}:{M}:{S}] ", "dmy"),
    _Shape("[{d}.{m}.{Y} klo {H}.{M}.{S}] ", "dmy"),
    _Shape("[{Y}/{mm}/{dd}, {H}:{M}:{S}] ", "ymd"),
    _Shape("[{mm}/{Y}/{dd}, {H}:{M}:{S}] ", "mdy"),
    _Shape("[{Y}. {m}. {d}. {p} {h}:{M}:{S}] ", "ymd", ("오전", "오후")),
    _Shape("[{Y}/{mm}/{dd} {p}{k}:{M}:{S}] ", "ymd", ("午前", "午後")),  # ja: 0 to 11 o'clock
]


def _render(shape: _Shape, at: datetime) -> str:
    hour = (at.hour - 1) % 12 + 1
    fields = {
        "d": at.day,
        "dd": f"{at.day:02}",
        "m": at.month,
        "mm": f"{at.month:02}",
        "Y": at.year,
        "y": f"{at.year % 100:02}",
        "H": f"{at.hour:02}",
        "h": hour,
        "hh": f"{hour:02}",
        "k": at.hour % 12,
        "M": f"{at.minute:02}",
        "S": f"{at.second:02}",
        "p": shape.marks[at.hour >= 12] if shape.marks else "",
    }
    return shape.template.format(**fields).translate(str.maketrans("0123456789", shape.digits))


_TEXT = st.text(st.characters(exclude_categories=("Cc", "Cs", "Cf")), max_size=20)
_WORD = st.text(st.sampled_from("AaBbEeMmPpÉéñЖжΩω李明한أبこ'-."), min_size=1, max_size=8)
_NAME = st.one_of(
    st.lists(_WORD, min_size=1, max_size=3)
    .map(" ".join)
    .filter(lambda name: name[0].isalpha() and not _SYSTEM_NAME.search(name)),
    st.integers(10**9, 10**13).map(lambda n: f"+{n}"),
)
_MESSAGE = st.tuples(
    st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31, 23, 59, 59)).map(
        lambda at: at.replace(microsecond=0)
    ),
    _NAME,
    _TEXT,  # the first line
    st.lists(_TEXT.filter(lambda line: not line[:1].isdigit() and line[:1] != "["), max_size=3),
)


@pytest.mark.parametrize("shape", _SHAPES, ids=lambda shape: shape.template)
@settings(max_examples=40, deadline=None)
@given(st.lists(_MESSAGE, min_size=1, max_size=6))
def test_every_shape_reads_back_exactly(shape, chat):
    lines, expected = [], []
    for at, name, first, more in chat:
        lines += [f"{_render(shape, at)}{name}: {first}", *more]
        when = at if "{S}" in shape.template else at.replace(second=0)
        expected.append((when, name, "\n".join([first, *more]).strip()))
    # the file's date order is told by a day above 12, or by the day_first option
    told = shape.order != "mdy" or any(at.day > 12 for at, *_ in chat)
    messages, stamped = _read("\n".join(lines), None if told else False)
    assert [(m.at, m.sender, m.text) for m in messages] == expected
    assert stamped == len(chat)
