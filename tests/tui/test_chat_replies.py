"""Replying in the chat from the lead (issue 28), by key presses on both engines: the thread
with each reply's state, `w` and ctrl+s queue a reply, a closed window offers only templates
(a missing parameter named, a preview), a retry, and a state change another process writes
shown live."""

from datetime import timedelta

from sqlalchemy import select

from leadms_tui import bootstrap
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.chat import outbox
from leadms_tui.domain.chat.outbox import StatusReport
from leadms_tui.domain.chat.templates import save_quick_reply, store_templates
from leadms_tui.domain.leads.intake import LeadCreate, receive_message
from leadms_tui.domain.models import Channel, MessageState, OutboundMessage
from leadms_tui.screens.lead_detail import LeadDetailScreen
from leadms_tui.screens.modals.compose_modal import ComposeModal
from leadms_tui.widgets.chat_thread import ChatThread
from tests.tui.conftest import NOW, settle

WA_ID = "447700900123"
PATIENCE = 2.0  # seconds: a state change shows on another terminal within this
TEMPLATES = [
    {
        "name": "follow_up",
        "language": "en_US",
        "category": "UTILITY",
        "status": "APPROVED",
        "components": [{"type": "BODY", "text": "Hi {{1}}, this is {{2}} about your enquiry."}],
    },
    {
        "name": "old_promo",
        "language": "en_US",
        "category": "MARKETING",
        "status": "PAUSED",
        "components": [{"type": "BODY", "text": "Sale!"}],
    },
]


def chat_lead(db, seeded, *, ago=timedelta(minutes=50), channel=Channel.WHATSAPP, sender=WA_ID):
    """A WhatsApp lead of ana's whose person last wrote `ago` before now."""
    at = NOW - ago
    data = LeadCreate(
        name="Bruno Lima",
        channel=channel,
        external_id=sender,
        message="Hello, what is the price of the two bedroom flat please?",
        dedupe_key=f"m-{sender}-{at.timestamp()}",
        received_at=at,
        owner_id=seeded["users"]["ana"].id,
    )
    return db.write(lambda s: receive_message(s, data, actor=SYSTEM, now=at)).lead_id


def _rows(db) -> list[OutboundMessage]:
    with db.reading() as session:
        return list(session.execute(select(OutboundMessage).order_by(OutboundMessage.id)).scalars())


def _thread(app) -> str:
    thread = app.screen.query_one(ChatThread)
    return "\n".join(str(thread.get_option_at_index(i).prompt) for i in range(thread.option_count))


async def _open(pilot, lead_id) -> None:
    await settle(pilot)
    pilot.app.push_screen(LeadDetailScreen(lead_id))
    await settle(pilot)


async def test_w_types_and_ctrl_s_queues_a_reply_shown_in_the_thread(db, make_app, seeded):
    lead_id = chat_lead(db, seeded)
    db.write(lambda s: save_quick_reply(s, "Price", "Hi {first_name}, it is £1,200.", actor=SYSTEM))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _open(pilot, lead_id)
        thread = app.screen.query_one(ChatThread)
        assert "what is the price" in _thread(app)
        assert thread.border_title == "Conversation · window: 23 h 10 m left"
        await pilot.press("w")
        await settle(pilot)
        assert isinstance(app.screen, ComposeModal)
        assert "window: 23 h 10 m left" in str(app.screen.query_one("#compose-window").render())
        await pilot.press(*"Thanks! ", "ctrl+o", "enter")  # a quick reply, filled for Bruno
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, LeadDetailScreen)
        [row] = _rows(db)
        assert (row.state, row.body, row.kind) == (
            "queued",
            "Thanks! Hi Bruno, it is £1,200.",
            "text",
        )
        assert "ana: Thanks! Hi Bruno, it is £1,200.  … queued" in _thread(app)


async def test_a_closed_window_offers_only_templates_and_names_a_missing_parameter(
    db, make_app, seeded
):
    lead_id = chat_lead(db, seeded, ago=timedelta(hours=30))
    db.write(lambda s: store_templates(s, TEMPLATES, actor=SYSTEM, now=NOW))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _open(pilot, lead_id)
        assert "closed: templates only" in app.screen.query_one(ChatThread).border_title
        await pilot.press("w")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, ComposeModal)
        assert not modal.query_one("#text-pane").display  # no free text at all
        templates = modal.query_one("#templates")
        assert templates.get_option_at_index(1).disabled  # paused: cannot be picked
        assert modal.query_one("#param-0").value == "Bruno"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "parameter {{2}} is missing" in str(modal.query_one("#compose-status").render())
        assert _rows(db) == []
        await pilot.press("tab", "tab", *"Ana")
        await settle(pilot)
        preview = str(modal.query_one("#preview").render())
        assert preview == "Hi Bruno, this is Ana about your enquiry."
        await pilot.press("ctrl+s")
        await settle(pilot)
        [row] = _rows(db)
        assert (row.kind, row.template_name, row.parameters) == (
            "template",
            "follow_up",
            ["Bruno", "Ana"],
        )
        assert row.body == preview


async def test_w_on_a_lead_nobody_can_be_written_to_says_why(db, make_app, seeded):
    messenger = chat_lead(
        db, seeded, ago=timedelta(days=8), channel=Channel.MESSENGER, sender="psid-9"
    )
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _open(pilot, messenger)
        await pilot.press("w")
        await settle(pilot)
        assert isinstance(app.screen, LeadDetailScreen)  # no composer
        assert any("call instead" in str(n.message) for n in app._notifications)
        app.pop_screen()
        await _open(pilot, seeded["fresh"].lead_id)  # WhatsApp, but typed in: no sender
        await pilot.press("w")
        await settle(pilot)
        assert isinstance(app.screen, LeadDetailScreen)
        assert any("no WhatsApp or Messenger sender" in str(n.message) for n in app._notifications)


async def test_ctrl_r_retries_a_failed_reply_and_asks_first_for_an_unconfirmed_one(
    db, make_app, seeded
):
    lead_id = chat_lead(db, seeded)
    ana = seeded["users"]["ana"].actor
    first = db.write(lambda s: outbox.send_text(s, lead_id, "One", actor=ana, now=NOW).id)
    second = db.write(lambda s: outbox.send_text(s, lead_id, "Two", actor=ana, now=NOW).id)
    db.write(lambda s: outbox.claim_due(s, now=NOW))
    db.write(
        lambda s: outbox.record_failed(
            s, first, 1, code=131026, title="Receiver incapable", detail=None, now=NOW
        )
    )
    db.write(lambda s: outbox.expire_unconfirmed(s, now=NOW + timedelta(minutes=3)))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _open(pilot, lead_id)
        shown = _thread(app)
        assert "One  ✗ failed" in shown and "cannot receive WhatsApp" in shown
        assert "next: call them instead" in shown
        assert "Two  ? not confirmed" in shown
        app.screen.query_one(ChatThread).focus()
        await pilot.press("ctrl+r")  # on the last: unconfirmed, it asks
        await settle(pilot)
        assert [r.state for r in _rows(db)] == ["failed", "unconfirmed"]
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert [r.state for r in _rows(db)] == ["failed", "queued"]
        await pilot.press("up", "ctrl+r")  # the failed one: at once
        await settle(pilot)
        assert [r.state for r in _rows(db)] == ["queued", "queued"]
        assert second


async def test_another_terminal_sees_a_reply_move_to_read_within_two_seconds(db, make_app, seeded):
    lead_id = chat_lead(db, seeded)
    ana = seeded["users"]["ana"].actor
    message_id = db.write(lambda s: outbox.send_text(s, lead_id, "Hello!", actor=ana, now=NOW).id)
    service = bootstrap.database(db.url)  # as the intake service, another process
    app = make_app()
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await _open(pilot, lead_id)
            assert "Hello!  … queued" in _thread(app)
            service.write(lambda s: outbox.claim_due(s, now=NOW))
            service.write(lambda s: outbox.record_sent(s, message_id, 1, "wamid.A", now=NOW))
            report = StatusReport(
                Channel.WHATSAPP, MessageState.READ, NOW + timedelta(seconds=5),
                key=outbox.message_key(message_id, 1), provider_id="wamid.A",
            )  # fmt: skip
            service.write(lambda s: outbox.apply_status(s, report, now=NOW))
            for _ in range(int(PATIENCE / 0.05)):
                if "Hello!  ✓✓ read" in _thread(app):
                    break
                await pilot.pause(0.05)
            assert "Hello!  ✓✓ read" in _thread(app)
    finally:
        service.dispose()


async def test_admins_see_the_templates_and_keep_the_quick_replies_in_settings(db, seeded):
    from leadms_tui.app import LeadMSApp
    from leadms_tui.domain.chat.templates import list_quick_replies
    from leadms_tui.domain.models import Role
    from leadms_tui.domain.team.users import add_user
    from leadms_tui.screens.settings import SettingsScreen

    db.write(lambda s: store_templates(s, TEMPLATES, actor=SYSTEM, now=NOW))
    admin = db.write(lambda s: add_user(s, "ada", role=Role.ADMIN, actor=SYSTEM))
    app = LeadMSApp(db, signed_in=admin)

    def replies():
        with db.reading() as session:
            return [(q.title, q.body) for q in list_quick_replies(session)]

    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("S")
        await settle(pilot)
        assert isinstance(app.screen, SettingsScreen)
        await pilot.press("7")
        await settle(pilot)
        table = app.screen.query_one("#message-templates")
        rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        assert rows[0][:4] == ["follow_up", "en_US", "utility", "approved"]
        assert rows[1][:4] == ["old_promo", "en_US", "marketing", "paused"]
        await pilot.press("a", *"Price", "tab", *"Hi {first_name}, it is 1,200.", "ctrl+s")
        await settle(pilot)
        assert replies() == [("Price", "Hi {first_name}, it is 1,200.")]
        await pilot.press("e", "tab", "end", *" Call me?", "ctrl+s")
        await settle(pilot)
        assert replies() == [("Price", "Hi {first_name}, it is 1,200. Call me?")]
        await pilot.press("x")
        await settle(pilot)
        assert len(replies()) == 1  # asked first
        await pilot.press("x")
        await settle(pilot)
        assert replies() == []


async def test_hostile_text_in_the_thread_the_composer_and_the_templates(db, make_app, seeded):
    """A person's message, our reply, Meta's error text, a template and a quick reply from
    outside are text: nothing crashes, no control code reaches the terminal."""
    from tests.tui.test_hostile_text import HOSTILE_NAMES, assert_clean

    hostile = " ".join(HOSTILE_NAMES[:-1])
    open_lead = chat_lead(db, seeded, ago=timedelta(hours=1))
    closed_lead = chat_lead(db, seeded, ago=timedelta(hours=30), sender="447700900999")
    db.write(lambda s: receive_message(s, LeadCreate(
        name="x", channel=Channel.WHATSAPP, external_id=WA_ID, message=hostile,
        dedupe_key="hostile", received_at=NOW - timedelta(minutes=5),
    ), actor=SYSTEM, now=NOW))  # fmt: skip
    listed = [dict(TEMPLATES[0], name="[/]x", components=[{"type": "BODY", "text": hostile}])]
    db.write(lambda s: store_templates(s, listed, actor=SYSTEM, now=NOW))
    db.write(lambda s: save_quick_reply(s, "[/]", hostile, actor=SYSTEM))
    ana = seeded["users"]["ana"].actor
    message_id = db.write(lambda s: outbox.send_text(s, open_lead, hostile, actor=ana).id)
    db.write(lambda s: outbox.claim_due(s, now=NOW))
    db.write(
        lambda s: outbox.record_failed(s, message_id, 1, code=999, title=hostile, detail="[/]")
    )
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _open(pilot, open_lead)
        assert_clean(app)
        assert "Meta error 999: [/] X [@click=app.quit]y[/]" in _thread(app)
        await pilot.press("w")
        await settle(pilot)
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert_clean(app)
        await pilot.press("enter", "ctrl+t")
        await settle(pilot)
        assert_clean(app)
        await pilot.press("escape", "escape")
        await settle(pilot)
        app.pop_screen()
        await _open(pilot, closed_lead)
        await pilot.press("w")
        await settle(pilot)
        assert isinstance(app.screen, ComposeModal)
        assert_clean(app)
        assert app.return_code is None
