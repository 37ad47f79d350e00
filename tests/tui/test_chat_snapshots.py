"""Snapshots of a chat lead's conversation and the composer (free text, and the template
picker once the window closed) at 80x24 and 120x40 (update with --snapshot-update)."""

from datetime import timedelta

import pytest

from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.chat import outbox
from leadms_tui.domain.chat.outbox import StatusReport
from leadms_tui.domain.chat.templates import store_templates
from leadms_tui.domain.models import Channel, MessageState
from leadms_tui.screens.lead_detail import LeadDetailScreen
from tests.tui.conftest import NOW, settle
from tests.tui.test_chat_replies import TEMPLATES, chat_lead

SIZES = [(80, 24), (120, 40)]


@pytest.fixture
def db_url(sqlite_url):
    """Snapshots are about the screen, not the engine: SQLite only."""
    return sqlite_url


def _conversation(db, seeded, ago):
    """Bruno wrote `ago` ago; a reply read, one failed (131047), one delivered, one queued."""
    lead_id = chat_lead(db, seeded, ago=ago)
    db.write(lambda s: store_templates(s, TEMPLATES, actor=SYSTEM, now=NOW))
    ana = seeded["users"]["ana"].actor
    wrote = NOW - ago
    bodies = [
        ("Hi Bruno! It is £1,200 a month, bills included.", (MessageState.READ,)),
        ("Shall I book you a viewing?", None),
        ("Here is the floor plan: https://example.com/plan", (MessageState.DELIVERED,)),
        ("Are you free on Saturday?", ()),
    ]
    for minutes, (body, statuses) in enumerate(bodies, start=1):
        at = wrote + timedelta(minutes=minutes)
        message_id = db.write(
            lambda s, b=body, t=at: outbox.send_text(s, lead_id, b, actor=ana, now=t).id
        )
        if statuses == ():
            continue
        db.write(lambda s, t=at: outbox.claim_due(s, now=t))
        if statuses is None:
            db.write(
                lambda s, m=message_id, t=at: outbox.record_failed(
                    s, m, 1, code=131047, title="Re-engagement message", detail=None, now=t
                )
            )
            continue
        db.write(lambda s, m=message_id, t=at: outbox.record_sent(s, m, 1, f"wamid.{m}", now=t))
        for state in statuses:
            report = StatusReport(
                Channel.WHATSAPP, state, at, key=outbox.message_key(message_id, 1)
            )
            db.write(lambda s, r=report, t=at: outbox.apply_status(s, r, now=t))
    return lead_id


def _ready(lead_id, *keys):
    async def ready(pilot):
        await settle(pilot)
        pilot.app.push_screen(LeadDetailScreen(lead_id))
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return ready


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize(
    ("ago", "keys"),
    [
        (timedelta(hours=2), ()),
        (timedelta(hours=2), ("w", *"Are you free on Sunday instead?")),
        (timedelta(hours=30), ("w",)),
    ],
    ids=["thread", "composer", "template_picker"],
)
def test_chat(snap_compare, db, seeded, make_app, size, ago, keys):
    lead_id = _conversation(db, seeded, ago)
    assert snap_compare(make_app(), terminal_size=size, run_before=_ready(lead_id, *keys))
