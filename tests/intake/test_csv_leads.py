"""Generic / website-form CSV parser: samples, header detection, encodings, dates, dedupe."""

import codecs
import csv
import io
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadms_tui.domain.models import Channel
from leadms_tui.intake.parsers.csv_leads import parse_csv_leads
from leadms_tui.intake.parsers.tabular import NO_CONTACT, read_table
from leadms_tui.intake.records import LeadRecord, RejectedRow, UnusableInput

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples" / "csv"


def parse(data: bytes | str, **options) -> list[LeadRecord | RejectedRow]:
    raw = data.encode() if isinstance(data, str) else data
    options.setdefault("region", "GB")  # a legacy encoding is told apart by the team's region
    return list(parse_csv_leads(raw, source_name=options.pop("source_name", "t.csv"), **options))


def split(items) -> tuple[list[LeadRecord], list[RejectedRow]]:
    return (
        [i for i in items if isinstance(i, LeadRecord)],
        [i for i in items if isinstance(i, RejectedRow)],
    )


def one(data: bytes | str, **options) -> LeadRecord:
    records, rejects = split(parse(data, **options))
    assert not rejects and len(records) == 1
    return records[0]


def sample(name: str) -> tuple[list[LeadRecord], list[RejectedRow]]:
    return split(parse((SAMPLES / name).read_bytes(), source_name=name))


# --- sample files --------------------------------------------------------------------------


def test_website_form_sample():
    records, rejects = sample("website_form.csv")
    assert (len(records), len(rejects)) == (30, 0)
    first = records[0]
    assert (first.row, first.name, first.phone) == (2, "Olivia Bennett", "07700 900412")
    assert first.email == "olivia.bennett@example.com"
    assert first.channel is Channel.WEBSITE
    assert first.received_at == datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    assert first.payload_ref == "website_form.csv#row=2"
    assert first.attributes == {
        "utm_source": "google",
        "utm_medium": "cpc",
        "utm_campaign": "autumn_offer",
        "referrer": "https://www.google.com/",
        "page_url": "https://www.example.com/contact",
    }
    assert records[1].message == "Pricing for a team of 5, please"
    assert records[1].attributes["consent"] == "yes"
    assert all(r.received_at and r.received_at.tzinfo for r in records)
    assert len({r.dedupe_key for r in records}) == 30
    assert all(r.dedupe_key.startswith("csvrow:") for r in records)


def test_messy_sample():
    records, rejects = sample("website_form_messy.csv")
    assert (len(records), len(rejects)) == (8, 5)
    assert [(r.row, r.reason, r.column) for r in rejects] == [
        (5, NO_CONTACT, None),
        (7, NO_CONTACT, None),
        (11, NO_CONTACT, None),
        (12, "unreadable date '31/11/2026 09:00'", "Submitted At"),
        (13, "row has 7 fields but the header has 6", None),
    ]
    by_row = {r.row: r for r in records}
    assert sorted(by_row) == [2, 3, 6, 8, 9, 14, 15, 16]
    jose = by_row[2]
    assert (jose.name, jose.email, jose.phone) == (
        "José Martínez",
        "jose.martinez@example.com",
        "07700 900101",
    )
    assert jose.received_at == datetime(2026, 11, 12, 9, 15, tzinfo=UTC)  # day-first
    assert jose.attributes == {"utm_source": "google"}
    assert by_row[3].name == "Zoë Clarke"
    assert by_row[3].message == "Price list please; thanks"
    assert by_row[6].phone is None
    assert by_row[8].dedupe_key == by_row[9].dedupe_key  # exact duplicate rows
    assert by_row[15].message == "First line\nsecond line"  # one row over two lines
    assert by_row[16].name == "Liam O'Brien"


def test_latin1_tab_sample():
    records, rejects = sample("form_tool_latin1.csv")
    assert (len(records), len(rejects)) == (7, 1)
    assert (rejects[0].row, rejects[0].reason) == (7, NO_CONTACT)
    first = records[0]
    assert first.name == "François Lefèvre"
    assert first.dedupe_key == "csvid:1041"
    assert first.message == "Tarif pour deux personnes ?"
    assert first.received_at == datetime(2026, 11, 12, 9, 15, tzinfo=UTC)
    assert first.attributes == {"extra": {"Preferred Time": "Morning"}}
    assert records[1].message == "Budget around €50 a month"
    assert records[3].name == "Siobhán O\u2019Neill"  # cp1252 0x92
    assert records[2].received_at == datetime(2026, 11, 12, 14, 5, tzinfo=UTC)
    assert [r.dedupe_key for r in records][-1] == "csvid:1048"


def test_binary_sample_is_unusable():
    with pytest.raises(UnusableInput, match="binary"):
        parse((SAMPLES / "not_a_csv.bin").read_bytes())


# --- header detection and mapping ----------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "Name,Email,Phone",
        "Your Name,Your Email,WhatsApp Number",
        "CONTACT NAME,E-mail Address,Tel.",
        "full_name,email-address,Phone-Number",
        "Fullname,e.mail,Cell",
        '"Name *","Email:","Mobile Number"',
        "\ufeffName , EMAIL ,Telephone",
    ],
)
def test_header_spellings(header):
    record = one(f"{header}\nAna Ruiz,ana@example.com,07700 900123\n")
    assert (record.name, record.email, record.phone) == (
        "Ana Ruiz",
        "ana@example.com",
        "07700 900123",
    )


@pytest.mark.parametrize("header", ["Message", "Comments", "Enquiry", "How can we help?", "Notes"])
def test_message_spellings(header):
    assert one(f"Email,{header}\nana@example.com,Hi there\n").message == "Hi there"


def test_first_and_last_name_are_joined():
    text = "Given Name;Surname;Email\nAna;Ruiz;ana@example.com\n;Lima;b@example.com\n"
    records, _ = split(parse(text))
    assert [r.name for r in records] == ["Ana Ruiz", "Lima"]


def test_full_name_wins_over_first_and_last_but_they_fill_a_blank_one():
    text = "Name,First Name,Last Name,Email\nAna R.,Ana,Ruiz,a@example.com\n,Bruno,Lima,b@x.org\n"
    assert [r.name for r in split(parse(text))[0]] == ["Ana R.", "Bruno Lima"]


def test_attributes_utm_referrer_page_consent_and_extra():
    text = (
        "Email,UTM Source,utm-medium,utm_term,utm_content,Referer,Landing Page,Consent,"
        "Budget,Empty\n"
        "a@example.com,google,cpc,gym,ad1,https://ref.example.org,/pricing,true,£40,\n"
    )
    assert one(text).attributes == {
        "utm_source": "google",
        "utm_medium": "cpc",
        "utm_term": "gym",
        "utm_content": "ad1",
        "referrer": "https://ref.example.org",
        "page_url": "/pricing",
        "consent": "true",
        "extra": {"Budget": "£40"},
    }


def test_second_column_of_a_role_goes_to_extra():
    record = one("Phone,WhatsApp,Email\n07700 900123,07700 900999,a@example.com\n")
    assert record.phone == "07700 900123"
    assert record.attributes == {"extra": {"WhatsApp": "07700 900999"}}


def test_mapping_overrides_detection():
    text = "Client,Tel.,Phone,Remarks,Ref,When\nAna,07700 900123,n/a,Hi,wa-1,12/11/2026\n"
    mapping = {
        "client": "name",
        "TEL.": "phone",
        "Phone": "ignore",
        "remarks": "message",
        "Ref": "external_id",
        "when": "created_at",
    }
    record = one(text, mapping=mapping)
    assert (record.name, record.phone, record.message) == ("Ana", "07700 900123", "Hi")
    assert record.external_id == "wa-1"
    assert record.received_at == datetime(2026, 11, 12, tzinfo=UTC)
    assert record.attributes == {}


def test_mapping_can_switch_off_a_detected_column():
    text = "Name,Email,Message\nAna,a@example.com,Hi\n"
    assert one(text, mapping={"Message": "ignore"}).message is None


def test_mapping_errors():
    with pytest.raises(UnusableInput, match="use one of"):
        parse("Name,Email\nAna,a@example.com\n", mapping={"Name": "nickname"})
    with pytest.raises(UnusableInput, match="not in the file"):
        parse("Name,Email\nAna,a@example.com\n", mapping={"Mobile": "phone"})


def test_channel_and_source_name_are_passed_through():
    record = one("Email\na@example.com\n", channel=Channel.OTHER, source_name="x/y.csv")
    assert record.channel is Channel.OTHER
    assert record.payload_ref == "x/y.csv#row=2"
    assert record.received_at is None  # no created column


# --- encodings and delimiters --------------------------------------------------------------

TEXT = "Full Name;E-mail;Mobile\r\nZoë Núñez;zoe@example.com;07700 900123\r\n"


@pytest.mark.parametrize(
    "data",
    [
        TEXT.encode("utf-8"),
        codecs.BOM_UTF8 + TEXT.encode("utf-8"),
        codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"),
        codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"),
        TEXT.encode("cp1252"),
        TEXT.encode("latin-1"),
    ],
    ids=["utf8", "utf8-bom", "utf16le", "utf16be", "cp1252", "latin1"],
)
def test_encodings(data):
    record = one(data)
    assert (record.name, record.email) == ("Zoë Núñez", "zoe@example.com")


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiters(delimiter):
    rows = [["Name", "Email", "Message"], ["Ana", "a@example.com", "Hi, yes; please"]]
    text = "\r\n".join(
        delimiter.join(f'"{c}"' if ("," in c or ";" in c) else c for c in row) for row in rows
    )
    assert one(text).message == "Hi, yes; please"


def test_delimiter_from_header_when_messages_are_full_of_commas():
    text = "Name;Email;Message\n" + "".join(
        f"P{i};p{i}@example.com;one, two, three, four, five\n" for i in range(5)
    )
    records, rejects = split(parse(text))
    assert len(records) == 5 and not rejects
    assert records[0].message == "one, two, three, four, five"


# --- row numbers ---------------------------------------------------------------------------


def test_reject_rows_are_spreadsheet_rows():
    text = (
        "\r\n"  # row 1 blank: the header is row 2
        "Name,Email,Phone\r\n"
        "Ana,a@example.com,\r\n"  # 3
        "\r\n"  # 4 blank
        "Bob,,n/a\r\n"  # 5 reject
        ",,\r\n"  # 6 blank
        'Cy,c@example.com,,"extra"\r\n'  # 7 reject: too many fields
        "Di,d@example.com\r\n"  # 8 fewer fields: padded
        "Eve,,\r\n"  # 9 reject
    )
    items = parse(text)
    assert [(type(i).__name__, i.row) for i in items] == [
        ("LeadRecord", 3),
        ("RejectedRow", 5),
        ("RejectedRow", 7),
        ("LeadRecord", 8),
        ("RejectedRow", 9),
    ]
    assert items[2].reason == "row has 4 fields but the header has 3"


def test_a_quote_never_closed_refuses_the_file_instead_of_swallowing_the_rest():
    """Read leniently, row 3's open quote made rows 4-6 one cell of row 3: three leads lost
    behind one rejected row."""
    text = 'Name,Phone\nAna,07700900111\n"Bob,07700900222\nCy,07700900333\nDi,0770090044\n'
    with pytest.raises(UnusableInput, match=r"row 3 opens a quote .* never closed"):
        list(parse(text))
    with pytest.raises(UnusableInput, match=r"row 2 opens a quote"):
        list(parse('Name,Phone\n"Ana,07700900111\n'))
    stray_then_open = 'Name,Phone\n"Ana" Lee,07700900111\n"Bob,07700900222\nCy,07700900333\n'
    with pytest.raises(UnusableInput, match=r"row 3 opens a quote"):
        list(parse(stray_then_open))
    leads, _ = split(parse('Name,Phone\n"Ana" Lee,07700900111\nBob,07700900222\n'))
    assert [lead.name for lead in leads] == ["Ana Lee", "Bob"]  # lenient as before


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.text(alphabet="ab ,;\t\"\n\r'", max_size=8), min_size=2, max_size=2)))
def test_a_file_quoted_by_a_csv_writer_is_never_taken_for_an_open_quote(rows):
    out = io.StringIO(newline="")
    csv.writer(out).writerows([["Name", "Message"], *rows])
    table = read_table(out.getvalue().encode())  # raises UnusableInput if it were refused
    assert len(table.rows) <= len(rows)


def test_a_quoted_message_over_several_lines_is_one_cell():
    text = 'Name,Phone,Message\nAna,07700900111,"line one\nline two"\nBob,07700900222,hi\n'
    leads, rejects = split(parse(text))
    assert [lead.name for lead in leads] == ["Ana", "Bob"] and not rejects
    assert leads[0].message == "line one\nline two"


def test_trailing_empty_fields_are_not_a_misfit():
    assert one("Name,Email\nAna,a@example.com,,,\n").name == "Ana"


def test_a_name_alone_is_not_a_contact():
    _, rejects = split(parse("Name,Email,Phone\nAna,none,-\n"))
    assert [(r.row, r.reason, r.column) for r in rejects] == [(2, NO_CONTACT, None)]


# --- created times -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-12T09:15:32Z", datetime(2026, 11, 12, 9, 15, 32, tzinfo=UTC)),
        ("2026-11-12 09:15:32+00:00", datetime(2026, 11, 12, 9, 15, 32, tzinfo=UTC)),
        ("2026-11-12T09:15:32-0800", datetime(2026, 11, 12, 17, 15, 32, tzinfo=UTC)),
        ("2026-11-12 09:15", datetime(2026, 11, 12, 9, 15, tzinfo=UTC)),
        ("2026-11-12", datetime(2026, 11, 12, tzinfo=UTC)),
        ("12/11/2026 09:15", datetime(2026, 11, 12, 9, 15, tzinfo=UTC)),
        ("12/11/2026", datetime(2026, 11, 12, tzinfo=UTC)),
        ("12.11.2026 9:15:07", datetime(2026, 11, 12, 9, 15, 7, tzinfo=UTC)),
        ("12/11/2026 9:15 PM", datetime(2026, 11, 12, 21, 15, tzinfo=UTC)),
        ("Nov 12, 2026 9:15 AM", datetime(2026, 11, 12, 9, 15, tzinfo=UTC)),
        ("November 12, 2026 12:05\u202fpm", datetime(2026, 11, 12, 12, 5, tzinfo=UTC)),
    ],
)
def test_created_time_formats(value, expected):
    record = one(f'Email,Created\na@example.com,"{value}"\n')
    assert record.received_at == expected


def test_naive_times_are_in_the_given_timezone():
    record = one("Email,Date\na@example.com,2026-07-01 09:00\n", timezone="Europe/London")
    assert record.received_at == datetime(2026, 7, 1, 9, 0, tzinfo=ZoneInfo("Europe/London"))
    assert record.received_at.utcoffset().total_seconds() == 3600


def dates(*values: str) -> list[datetime | None]:
    text = "Email,Date\n" + "".join(f"a{i}@example.com,{v}\n" for i, v in enumerate(values))
    return [r.received_at for r in split(parse(text))[0]]


def test_day_first_when_a_first_part_is_over_12():
    assert dates("05/11/2026", "25/11/2026")[0] == datetime(2026, 11, 5, tzinfo=UTC)


def test_month_first_when_a_second_part_is_over_12():
    assert dates("05/11/2026", "11/25/2026") == [
        datetime(2026, 5, 11, tzinfo=UTC),
        datetime(2026, 11, 25, tzinfo=UTC),
    ]


def test_day_first_by_default_when_ambiguous():
    assert dates("05/11/2026 10:00") == [datetime(2026, 11, 5, 10, 0, tzinfo=UTC)]


def test_unreadable_date_rejects_with_the_column():
    items = parse("Email,Submitted At\na@example.com,next tuesday\nb@example.com,\n")
    assert items[0] == RejectedRow(2, "unreadable date 'next tuesday'", "Submitted At")
    assert isinstance(items[1], LeadRecord) and items[1].received_at is None


# --- dedupe keys ---------------------------------------------------------------------------


@pytest.mark.parametrize("header", ["ID", "Submission ID", "Entry Id", "lead_id", "Response ID"])
def test_id_column_gives_csvid_key(header):
    assert one(f"{header},Email\nS-77,a@example.com\n").dedupe_key == "csvid:S-77"


def test_blank_id_falls_back_to_row_hash():
    assert one("Entry Id,Email\n,a@example.com\n").dedupe_key.startswith("csvrow:")


def test_row_hash_is_equal_for_exact_duplicates_and_reimports_only():
    text = (
        "Name,Email\nAna,a@example.com\nAna,a@example.com\nAna , a@example.com\nAnn,a@example.com\n"
    )
    keys = [r.dedupe_key for r in split(parse(text))[0]]
    assert keys[0] == keys[1] == keys[2] != keys[3]  # surrounding spaces do not count
    assert len(keys[0]) == len("csvrow:") + 24
    assert keys == [r.dedupe_key for r in split(parse(text))[0]]
    as_semicolons = text.replace(",", ";")
    assert keys == [r.dedupe_key for r in split(parse(as_semicolons))[0]]


# --- unusable input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b" \r\n\r\n\t", "empty"),
        (codecs.BOM_UTF8, "empty"),
        (codecs.BOM_UTF16_LE + b"\x00", "decode"),
        (bytes(range(256)), "binary"),
        (b"Ana Ruiz,07700 900123,ana@example.com\n", "no name, phone or email column"),
        (b"Product,Price\nGym bag,20\n", "no name, phone or email column"),
    ],
)
def test_unusable_input(data, reason):
    with pytest.raises(UnusableInput, match=reason):
        parse_csv_leads(data, source_name="t.csv")  # raised at the call, before iterating


# --- properties ----------------------------------------------------------------------------


def assert_parses_or_unusable(data: bytes) -> None:
    try:
        items = parse(data)
    except UnusableInput as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    for item in items:
        assert isinstance(item, LeadRecord | RejectedRow)
        if isinstance(item, LeadRecord):
            assert item.phone or item.email
            assert item.received_at is None or item.received_at.tzinfo is not None


@settings(deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_parse_or_are_unusable(data):
    assert_parses_or_unusable(data)


@settings(deadline=None)
@given(
    st.sampled_from([",", ";", "\t"]),
    st.lists(st.lists(st.text(max_size=20), max_size=6), max_size=8),
)
def test_any_rows_under_a_real_header_parse(delimiter, rows):
    header = delimiter.join(["Name", "Email", "Phone", "Submitted At"])
    body = "\n".join(delimiter.join(row) for row in rows)
    assert_parses_or_unusable(f"{header}\n{body}".encode())


@settings(deadline=None)
@given(st.binary(max_size=500))
def test_any_bytes_after_a_real_header_parse(tail):
    assert_parses_or_unusable(b"Name,Email,Phone,Created\r\n" + tail)
