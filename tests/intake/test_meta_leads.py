"""Meta Lead Ads CSV export parser: samples, prefixes, answers, encodings, unusable input."""

import codecs
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadms_tui.domain.leads.phones import normalize_phone
from leadms_tui.domain.models import Channel
from leadms_tui.intake.parsers.csv_leads import parse_csv_leads
from leadms_tui.intake.parsers.meta_leads import parse_meta_leads
from leadms_tui.intake.parsers.tabular import NO_CONTACT
from leadms_tui.intake.records import LeadRecord, RejectedRow, UnusableInput

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
HEADER = (
    "id,created_time,ad_id,ad_name,adset_id,adset_name,campaign_id,campaign_name,form_id,"
    "form_name,is_organic,platform,which_plan_interests_you?,full_name,phone_number,email"
)
ROW = (
    "l:901,2026-11-12T09:15:32+00:00,ag:11,Reel,as:22,UK 25-45,c:33,Autumn,f:44,Trial form,"
    "false,ig,Premium,Ana Ruiz,p:+447700900123,ana@example.com"
)


def parse(data: bytes | str, **options) -> list[LeadRecord | RejectedRow]:
    raw = data.encode() if isinstance(data, str) else data
    return list(parse_meta_leads(raw, source_name=options.pop("source_name", "m.csv"), **options))


def split(items) -> tuple[list[LeadRecord], list[RejectedRow]]:
    return (
        [i for i in items if isinstance(i, LeadRecord)],
        [i for i in items if isinstance(i, RejectedRow)],
    )


def one(data: bytes | str, **options) -> LeadRecord:
    records, rejects = split(parse(data, **options))
    assert not rejects and len(records) == 1
    return records[0]


# --- sample files --------------------------------------------------------------------------


def test_utf16_tab_sample():
    name = "meta_leads_utf16.csv"
    records, rejects = split(parse((SAMPLES / "meta" / name).read_bytes(), source_name=name))
    assert (len(records), len(rejects)) == (19, 1)
    assert (rejects[0].row, rejects[0].reason, rejects[0].column) == (12, NO_CONTACT, None)
    first = records[0]
    assert first.channel is Channel.META_ADS
    assert (first.row, first.name, first.phone) == (2, "Ella Thompson", "+447700900401")
    assert first.dedupe_key == "meta:1200000000000100"
    assert first.external_id is None
    assert first.payload_ref == "meta_leads_utf16.csv#row=2"
    assert first.received_at == datetime(
        2026, 11, 10, 9, 0, 0, tzinfo=timezone(timedelta(hours=-8))
    )
    assert first.message == (
        "which plan interests you?: Premium; when would you like to start?: This week"
    )
    assert first.attributes == {
        "campaign_id": "120210000000000031",
        "campaign_name": "Autumn offer 2026",
        "ad_id": "120210000000000011",
        "ad_name": "Autumn carousel",
        "adset_id": "120210000000000021",
        "adset_name": "UK 25-45",
        "form_id": "1000000000000041",
        "form_name": "Autumn lead form",
        "platform": "fb",
        "is_organic": "false",
        "answers": {
            "which plan interests you?": "Premium",
            "when would you like to start?": "This week",
        },
    }
    assert {r.attributes["platform"] for r in records} == {"fb", "ig"}
    aisha = records[2]
    assert aisha.attributes["answers"] == {"which plan interests you?": "Premium"}
    assert len({r.dedupe_key for r in records}) == 19


def test_utf8_comma_sample_repeats_people_from_the_website_form():
    meta = split(parse((SAMPLES / "meta" / "meta_leads_utf8.csv").read_bytes()))
    assert (len(meta[0]), len(meta[1])) == (10, 0)
    assert meta[0][0].attributes["campaign_name"] == "Free trial, November"
    assert meta[0][5].attributes["is_organic"] == "true"
    site = list(
        parse_csv_leads((SAMPLES / "csv" / "website_form.csv").read_bytes(), source_name="w")
    )

    def e164(record: LeadRecord) -> str | None:
        return normalize_phone(record.phone, "GB").e164 if record.phone else None

    site_phones = {e164(r) for r in site} - {None}
    site_emails = {r.email for r in site} - {None}
    repeats = [r.row for r in meta[0] if e164(r) in site_phones or r.email in site_emails]
    assert repeats == [2, 3]


# --- columns and values --------------------------------------------------------------------


def test_prefixes_are_stripped_from_ids_and_phone():
    record = one(f"{HEADER}\n{ROW}\n")
    assert record.dedupe_key == "meta:901"
    assert record.phone == "+447700900123"
    assert [record.attributes[k] for k in ("ad_id", "adset_id", "campaign_id", "form_id")] == [
        "11",
        "22",
        "33",
        "44",
    ]


def test_values_without_prefixes_are_kept():
    record = one("id,full_name,phone_number\n901,Ana,+44 7700 900123\n")
    assert (record.dedupe_key, record.phone, record.name) == ("meta:901", "+44 7700 900123", "Ana")
    assert record.message is None and record.attributes == {}


def test_first_and_last_name_columns():
    record = one("id,first_name,last_name,email\nl:1,Ana,Ruiz,a@example.com\n")
    assert record.name == "Ana Ruiz"


def test_blank_answers_are_left_out():
    text = "id,email,Which plan?,Start date,lead_status\n1,a@example.com,,soon,CREATED\n"
    record = one(text)
    assert record.attributes == {"answers": {"Start date": "soon"}}
    assert record.message == "Start date: soon"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-12T09:15:32+00:00", datetime(2026, 11, 12, 9, 15, 32, tzinfo=UTC)),
        ("2026-11-12T09:15:32-0800", datetime(2026, 11, 12, 17, 15, 32, tzinfo=UTC)),
        ("2026-11-12T09:15:32Z", datetime(2026, 11, 12, 9, 15, 32, tzinfo=UTC)),
        ("2026-11-12 09:15", datetime(2026, 11, 12, 8, 15, tzinfo=UTC)),  # naive: Europe/Madrid
    ],
)
def test_created_time(value, expected):
    text = f"id,created_time,email\nl:1,{value},a@example.com\n"
    assert one(text, timezone="Europe/Madrid").received_at == expected


def test_rejects_keep_spreadsheet_rows_and_columns():
    text = (
        "id\tcreated_time\tfull_name\tphone_number\temail\r\n"
        "l:1\tyesterday\tAna\tp:+447700900123\t\r\n"  # 2 bad date
        "\r\n"  # 3 blank
        "\tl:2\tBo\tp:+447700900124\t\r\n"  # 4 no id (shifted row)
        "l:3\t2026-11-12T09:15:32+00:00\tCy\tp:\t\r\n"  # 5 no contact
        "l:4\t2026-11-12T09:15:32+00:00\tDi\t\td@example.com\r\n"  # 6 fine
    )
    items = parse(text)
    assert items[:3] == [
        RejectedRow(2, "unreadable date 'yesterday'", "created_time"),
        RejectedRow(4, "no lead id", "id"),
        RejectedRow(5, NO_CONTACT),
    ]
    assert isinstance(items[3], LeadRecord) and items[3].row == 6


@pytest.mark.parametrize(
    "data",
    [
        codecs.BOM_UTF16_LE + f"{HEADER}\r\n{ROW}\r\n".replace(",", "\t").encode("utf-16-le"),
        codecs.BOM_UTF16_BE + f"{HEADER}\n{ROW}\n".replace(",", "\t").encode("utf-16-be"),
        codecs.BOM_UTF8 + f"{HEADER}\r\n{ROW}\r\n".encode(),
        f"{HEADER}\n{ROW}\n".replace(",", ";").encode("cp1252"),
    ],
    ids=["utf16le-tab", "utf16be-tab", "utf8-bom-comma", "cp1252-semicolon"],
)
def test_encodings_and_delimiters(data):
    record = one(data)
    assert (record.dedupe_key, record.name, record.email) == (
        "meta:901",
        "Ana Ruiz",
        "ana@example.com",
    )
    assert record.attributes["answers"] == {"which plan interests you?": "Premium"}


# --- unusable input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (codecs.BOM_UTF16_LE, "empty"),
        (bytes(range(256)) * 2, "binary"),
        (b"created_time,full_name,phone_number\n2026-11-12,Ana,+447700900123\n", "needs `id`"),
        (b"id,created_time,platform\nl:1,2026-11-12,fb\n", "needs `id`"),
        (b"Name,Email,Phone\nAna,a@example.com,07700 900123\n", "not a Meta Lead Ads export"),
    ],
)
def test_unusable_input(data, reason):
    with pytest.raises(UnusableInput, match=reason):
        parse_meta_leads(data, source_name="m.csv")


def test_binary_sample_is_unusable():
    with pytest.raises(UnusableInput):
        parse((SAMPLES / "csv" / "not_a_csv.bin").read_bytes())


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
            assert item.dedupe_key and item.dedupe_key.startswith("meta:")


@settings(deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_parse_or_are_unusable(data):
    assert_parses_or_unusable(data)


@settings(deadline=None)
@given(st.lists(st.lists(st.text(max_size=24), max_size=17), max_size=8))
def test_any_rows_under_a_real_header_parse(rows):
    body = "\n".join("\t".join(row) for row in rows)
    text = HEADER.replace(",", "\t") + "\n" + body
    assert_parses_or_unusable(codecs.BOM_UTF16_LE + text.encode("utf-16-le", "surrogatepass"))


@settings(deadline=None)
@given(st.binary(max_size=500))
def test_any_bytes_after_a_real_header_parse(tail):
    assert_parses_or_unusable(f"{HEADER}\n".encode() + tail)
