"""Webhook body parsing: inbound messages become records, everything else nothing or a reject."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadms_tui.domain.chat.outbox import StatusReport
from leadms_tui.domain.models import Channel, MessageState
from leadms_tui.intake.parsers.webhooks import (
    messenger_statuses,
    parse_payload_file,
    parse_webhook_body,
    whatsapp_statuses,
)
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


# --- what Meta says of the replies we sent (issue 28) ---------------------------------------


def test_whatsapp_statuses_carry_the_key_the_id_and_the_first_error():
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"changes": [{"value": {"statuses": [
            {"id": "wamid.A", "status": "delivered", "timestamp": "1763900000",
             "recipient_id": "447700900123", "biz_opaque_callback_data": "leadms:4:1"},
            {"id": "wamid.B", "status": "failed", "timestamp": "1763900001",
             "recipient_id": "447700900123", "biz_opaque_callback_data": "leadms:5:2",
             "errors": [{"code": 131047, "title": "Re-engagement message",
                         "message": "Re-engagement message",
                         "error_data": {"details": "More than 24 hours"}}]},
            {"id": "wamid.C", "status": "deleted"},
        ]}}]}],
    }  # fmt: skip
    delivered, failed = whatsapp_statuses(body)
    assert delivered == StatusReport(
        Channel.WHATSAPP,
        MessageState.DELIVERED,
        datetime.fromtimestamp(1763900000, UTC),
        key="leadms:4:1",
        provider_id="wamid.A",
        recipient="447700900123",
    )
    assert (failed.status, failed.key, failed.error_code) == ("failed", "leadms:5:2", 131047)
    assert (failed.error_title, failed.error_detail) == (
        "Re-engagement message",
        "More than 24 hours",
    )


def test_messenger_echo_delivery_and_read():
    body = {
        "object": "page",
        "entry": [{"id": "P", "messaging": [
            {"sender": {"id": "P"}, "recipient": {"id": "U"}, "timestamp": 1763900200000,
             "message": {"is_echo": True, "app_id": 1, "metadata": "leadms:9:1", "mid": "m_1",
                         "text": "Hi"}},
            {"sender": {"id": "U"}, "recipient": {"id": "P"},
             "delivery": {"mids": ["m_1"], "watermark": 1763900201000}},
            {"sender": {"id": "U"}, "recipient": {"id": "P"}, "timestamp": 1763900202000,
             "read": {"watermark": 1763900202000}},
            {"sender": {"id": "U"}, "recipient": {"id": "P"},
             "message": {"mid": "m_2", "text": "x"}},
        ]}],
    }  # fmt: skip
    echo, by_mid, delivered, read = messenger_statuses(body)
    assert (echo.status, echo.key, echo.provider_id, echo.recipient) == (
        "sent",
        "leadms:9:1",
        "m_1",
        "U",
    )
    assert (by_mid.status, by_mid.provider_id, by_mid.watermark) == ("delivered", "m_1", None)
    assert (delivered.recipient, delivered.watermark) == (
        "U",
        datetime.fromtimestamp(1763900201, UTC),
    )
    assert (read.status, read.recipient) == ("read", "U")
    assert len(_records(parse_webhook_body(body))) == 1  # only the inbound message is a lead


STATUS_KEYS = ["statuses", "status", "id", "timestamp", "errors", "code",
               "biz_opaque_callback_data", "recipient_id", "messaging", "message", "is_echo",
               "metadata", "mid", "delivery", "read", "mids", "watermark", "sender", "entry",
               "changes", "value"]  # fmt: skip
status_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
    | st.sampled_from(["sent", "delivered", "read", "failed", "leadms:1:1", True]),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(STATUS_KEYS) | st.text(max_size=5), children, max_size=5),
    max_leaves=30,
)  # fmt: skip


@given(status_values)
def test_any_json_gives_status_reports_or_nothing_never_an_error(body):
    for report in [*whatsapp_statuses(body), *messenger_statuses(body)]:
        assert isinstance(report, StatusReport) and report.at.tzinfo is not None
        for value in (report.key, report.provider_id, report.recipient):
            assert value is None or (len(value) <= 200 and value.isprintable())
