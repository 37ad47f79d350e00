"""Webhook body parsing: inbound messages become records, everything else nothing or a reject."""

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadms_tui.intake.parsers.webhooks import parse_payload_file, parse_webhook_body
from leadms_tui.intake.records import LeadRecord, RejectedRow, UnusableInput

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples" / "webhooks"


def _records(items):
    return [i for i in items if isinstance(i, LeadRecord)]


def test_whatsapp_text_message():
    (record,) = _records(
        parse_webhook_body(json.loads((SAMPLES / "whatsapp_single.json").read_text()))
    )
    assert (record.channel, record.name, record.phone, record.external_id) == (
        "whatsapp",
        "Priya Shah",
        "447700900321",
        "447700900321",
    )
    assert record.message == "Hi! What does the premium plan cost?"
    assert record.dedupe_key == "wamid:wamid.HBgMNDQ3NzAwOTAwMzIxFQIAEhgUM0EA1"
    assert record.received_at.timestamp() == 1763900000


def test_array_file_gives_every_inbound_message_and_skips_statuses_and_echoes():
    items = list(
        parse_payload_file(
            (SAMPLES / "mixed_array.json").read_bytes(), source_name="mixed_array.json"
        )
    )
    records = _records(items)
    assert [r.channel.value for r in records] == [
        "whatsapp",
        "whatsapp",
        "whatsapp",
        "whatsapp",
        "whatsapp",
        "messenger",
        "messenger",
        "meta_ads",
    ]
    assert [r.message for r in records][2:5] == [
        "Basic plan",
        "Is this the Shoreditch gym?",
        "Shoreditch High St",
    ]
    messenger = records[5]
    assert (messenger.external_id, messenger.phone, messenger.message) == (
        "6543210987654321",
        None,
        "Do you open on Sundays?",
    )
    assert messenger.received_at.timestamp() == 1763900200  # milliseconds on Messenger
    assert records[6].message == "Book a free trial"
    lead_ad = records[7]
    assert (lead_ad.name, lead_ad.phone, lead_ad.dedupe_key) == (
        "Liam O'Brien",
        "+447700900456",
        "meta:987654321012345",
    )
    assert not [i for i in items if isinstance(i, RejectedRow)]


def test_json_lines_report_bad_lines_by_number():
    items = list(
        parse_payload_file((SAMPLES / "webhooks.jsonl").read_bytes(), source_name="webhooks.jsonl")
    )
    rejects = [i for i in items if isinstance(i, RejectedRow)]
    assert [r.row for r in rejects] == [9, 10, 11]
    assert "unknown payload" in rejects[1].reason and "invalid JSON" in rejects[2].reason
    assert len(_records(items)) == 8


@pytest.mark.parametrize("data", [b"", b"   ", b"\xff\xfe\x00garbage", b"hello world"])
def test_unusable_files(data):
    with pytest.raises(UnusableInput):
        list(parse_payload_file(data, source_name="x"))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "object",
                    "entry",
                    "changes",
                    "value",
                    "messages",
                    "messaging",
                    "from",
                    "id",
                    "sender",
                    "message",
                    "text",
                    "timestamp",
                    "field_data",
                    "type",
                    "mid",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=30,
)


@given(json_values)
def test_any_json_body_parses_without_raising(body):
    for item in parse_webhook_body(body):
        assert isinstance(item, LeadRecord | RejectedRow)


@given(st.binary(max_size=200))
def test_any_bytes_raise_unusable_or_parse(data):
    try:
        items = list(parse_payload_file(data, source_name="fuzz"))
    except UnusableInput:
        return
    assert all(isinstance(i, LeadRecord | RejectedRow) for i in items)
