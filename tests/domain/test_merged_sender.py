"""After `people merge`, what reaches the merged (hidden) lead lands on its survivor (issue 30):
a WhatsApp or Messenger message from the merged lead's sender, and a phone call from its
number. Both engines."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.leads.intake import LeadCreate, create_lead, receive_message
from leadms_tui.domain.models import (
    CallDirection,
    Channel,
    Inquiry,
    Lead,
    PhoneCallState,
)
from leadms_tui.domain.people.merge import merge_leads
from leadms_tui.domain.phone.bridge import PhoneEvent, record_phone_event

AT = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
SENDERS = {Channel.WHATSAPP: "447700900555", Channel.MESSENGER: "6543210987654321"}


def _pair(db, channel: Channel) -> tuple[int, int]:
    """The survivor (a website lead, older) and a chat lead of the same person (same email,
    another phone) merged into it; their ids."""
    keep = create_lead(
        db,
        LeadCreate(name="Nora Diaz", phone="+44 7700 900111", email="nora@example.com",
                   channel=Channel.WEBSITE),
        actor=SYSTEM, now=AT,
    )  # fmt: skip
    other = db.write(
        lambda s: receive_message(
            s,
            LeadCreate(name="Nora", phone="+44 7700 900555", email="nora@example.com",
                       channel=channel, external_id=SENDERS[channel], message="Hi",
                       dedupe_key=f"{channel.value}-1", received_at=AT + timedelta(hours=1)),
            actor=SYSTEM, now=AT + timedelta(hours=1),
        )
    )  # fmt: skip
    db.write(
        lambda s: merge_leads(
            s, keep.number, other.number, actor=SYSTEM, now=AT + timedelta(hours=2)
        )
    )
    return keep.lead_id, other.lead_id


@pytest.mark.parametrize("channel", [Channel.WHATSAPP, Channel.MESSENGER])
def test_a_message_from_the_merged_leads_sender_lands_on_the_survivor(db, channel):
    keep_id, other_id = _pair(db, channel)
    later = AT + timedelta(hours=3)
    result = db.write(
        lambda s: receive_message(
            s,
            LeadCreate(name="Nora", channel=channel, external_id=SENDERS[channel],
                       message="Still interested", dedupe_key=f"{channel.value}-2",
                       received_at=later),
            actor=SYSTEM, now=later,
        )
    )  # fmt: skip
    assert (result.lead_id, result.created) == (keep_id, False)
    with db.reading() as session:
        on_survivor = session.execute(
            select(Inquiry.message).where(Inquiry.lead_id == keep_id).order_by(Inquiry.id)
        ).scalars()
        on_merged = session.scalar(
            select(func.count()).select_from(Inquiry).where(Inquiry.lead_id == other_id)
        )
        leads = session.scalar(select(func.count()).select_from(Lead))
    assert "Still interested" in list(on_survivor)
    assert (on_merged, leads) == (0, 2)


def test_a_call_from_the_merged_leads_number_lands_on_the_survivor(db):
    keep_id, _other_id = _pair(db, Channel.WHATSAPP)
    event = PhoneEvent(
        provider="webhook", call_id="dialer-1", state=PhoneCallState.RINGING,
        at=AT + timedelta(hours=3), direction=CallDirection.INBOUND,
        remote_number="+447700900555",
    )  # fmt: skip
    recorded = db.write(lambda s: record_phone_event(s, event, now=AT + timedelta(hours=3)))
    assert recorded.lead_id == keep_id
