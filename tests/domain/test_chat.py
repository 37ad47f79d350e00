"""Replies in the chat (issue 28), the domain half: the window from the person's last message,
what may be queued, the claim-before-send outbox, statuses that never go backwards, failures in
words, templates and quick replies, the reply as a first touch. Both engines."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.chat import outbox
from leadms_tui.domain.chat.meta_errors import MEANINGS, NextStep, explain
from leadms_tui.domain.chat.outbox import StatusReport
from leadms_tui.domain.chat.templates import (
    expand_quick_reply,
    pickable_templates,
    save_quick_reply,
    store_templates,
)
from leadms_tui.domain.errors import PermissionDeniedError, ValidationError
from leadms_tui.domain.leads.intake import LeadCreate, receive_message
from leadms_tui.domain.models import (
    AuditEvent,
    Channel,
    Lead,
    MessageAttempt,
    MessageState,
    Notification,
    OutboundMessage,
    ResponseClock,
)

AT = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
WA_ID = "447700900123"
TEMPLATES = [
    {
        "name": "follow_up",
        "language": "en_US",
        "category": "UTILITY",
        "status": "APPROVED",
        "components": [{"type": "BODY", "text": "Hi {{1}}, this is {{2}} about your enquiry."}],
    },
    {
        "name": "seguimiento",
        "language": "es",
        "category": "UTILITY",
        "status": "APPROVED",
        "components": [{"type": "BODY", "text": "Hola {{1}}"}],
    },
    {
        "name": "old_promo",
        "language": "en_US",
        "category": "MARKETING",
        "status": "PAUSED",
        "components": [{"type": "BODY", "text": "Sale!"}],
    },
]


def _chat_lead(db, team, *, channel=Channel.WHATSAPP, sender=WA_ID, at=AT, text="Hi, price?"):
    data = LeadCreate(
        name="Bruno Lima",
        channel=channel,
        external_id=sender,
        message=text,
        dedupe_key=f"m-{at.timestamp()}",
        received_at=at,
        owner_id=team["ana"].id,
    )
    return db.write(lambda s: receive_message(s, data, actor=SYSTEM, now=at)).lead_id


def _row(db, message_id) -> OutboundMessage:
    with db.reading() as session:
        return session.get(OutboundMessage, message_id)


def _send(db, lead_id, body, actor, at):
    return db.write(lambda s: outbox.send_text(s, lead_id, body, actor=actor, now=at).id)


def _claim(db, at):
    return db.write(lambda s: outbox.claim_due(s, now=at))


def test_a_reply_inside_the_window_is_queued_claimed_sent_and_touches_the_clock(db, team):
    lead_id = _chat_lead(db, team)
    ana = team["ana"].actor
    message_id = _send(db, lead_id, "Hello Bruno!\x1b[31m", ana, AT + timedelta(minutes=3))
    row = _row(db, message_id)
    assert "\x1b" not in row.body  # cleaned as every text column is
    assert (row.state, row.body[:12], row.recipient, row.tag) == (
        "queued",
        "Hello Bruno!",
        WA_ID,
        None,
    )
    [claim] = _claim(db, AT + timedelta(minutes=3, seconds=1))
    assert (claim.message_id, claim.attempt, claim.key) == (message_id, 1, f"leadms:{message_id}:1")
    assert _claim(db, AT + timedelta(minutes=3, seconds=2)) == []  # claimed once
    assert _row(db, message_id).state == MessageState.SENDING
    sent_at = AT + timedelta(minutes=3, seconds=2)
    db.write(lambda s: outbox.record_sent(s, message_id, 1, "wamid.A", now=sent_at))
    row = _row(db, message_id)
    assert (row.state, row.provider_id, row.sent_at) == ("sent", "wamid.A", sent_at)
    with db.reading() as session:
        clock_row = session.execute(
            select(ResponseClock).where(ResponseClock.lead_id == lead_id)
        ).scalar_one()
        actions = (
            session.execute(
                select(AuditEvent.action)
                .where(AuditEvent.entity == "message")
                .order_by(AuditEvent.id)
            )
            .scalars()
            .all()
        )
    assert (clock_row.touched_by, clock_row.touched_by_id, clock_row.touched_at) == (
        "reply",
        team["ana"].id,
        sent_at,
    )
    assert actions == ["message.queue", "message.claim", "message.sent"]


def test_free_text_after_the_window_is_refused_and_nothing_is_queued(db, team):
    lead_id = _chat_lead(db, team)
    late = AT + timedelta(hours=24)
    with pytest.raises(
        ValidationError, match=r"window closed .24 h since their last message.*template"
    ):
        _send(db, lead_id, "Still there?", team["ana"].actor, late)
    _send(db, lead_id, "Just in time", team["ana"].actor, late - timedelta(seconds=1))
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(OutboundMessage)) == 1


def test_messenger_after_24_hours_is_tagged_human_agent_until_seven_days(db, team):
    lead_id = _chat_lead(db, team, channel=Channel.MESSENGER, sender="PSID-1")
    ana = team["ana"].actor
    inside = _send(db, lead_id, "Hi", ana, AT + timedelta(hours=23))
    tagged = _send(db, lead_id, "Sorry for the wait", ana, AT + timedelta(days=6, hours=23))
    assert (_row(db, inside).tag, _row(db, tagged).tag) == (None, "HUMAN_AGENT")
    with pytest.raises(ValidationError, match=r"messenger window closed.*call them instead"):
        _send(db, lead_id, "Hello?", ana, AT + timedelta(days=7))


def test_a_newer_message_of_the_same_sender_on_another_lead_opens_the_window(db, team):
    first = _chat_lead(db, team)
    later = AT + timedelta(days=3)
    _chat_lead(db, team, at=later, text="Me again")
    _send(db, first, "Welcome back", team["ana"].actor, later + timedelta(hours=1))


def test_bad_input_is_refused_with_the_reason(db, team):
    lead_id = _chat_lead(db, team)
    ana, bruno = team["ana"].actor, team["bruno"].actor
    with pytest.raises(ValidationError, match="at most 4,096 characters; this one has 4,097"):
        _send(db, lead_id, "x" * 4097, ana, AT)
    _send(db, lead_id, "x" * 4096, ana, AT)
    with pytest.raises(ValidationError, match="empty"):
        _send(db, lead_id, " \x00 ", ana, AT)
    with pytest.raises(PermissionDeniedError):
        _send(db, lead_id, "Hi", bruno, AT)  # ana's lead
    web = db.write(
        lambda s: receive_message(
            s,
            LeadCreate(name="Web", channel=Channel.WEBSITE, email="w@example.com"),
            actor=SYSTEM,
            now=AT,
        )
    ).lead_id
    with pytest.raises(ValidationError, match="no WhatsApp or Messenger sender"):
        _send(db, web, "Hi", ana, AT)


def test_statuses_never_go_backwards_and_a_lost_answer_is_reconciled_by_the_key(db, team):
    lead_id = _chat_lead(db, team)
    message_id = _send(db, lead_id, "Hi", team["ana"].actor, AT)
    [claim] = _claim(db, AT)
    # the service died before it stored Meta's answer: the status webhook carries the key
    read = StatusReport(
        Channel.WHATSAPP,
        MessageState.READ,
        AT + timedelta(seconds=9),
        key=claim.key,
        provider_id="wamid.B",
    )
    delivered = StatusReport(
        Channel.WHATSAPP, MessageState.DELIVERED, AT + timedelta(seconds=5), provider_id="wamid.B"
    )
    assert db.write(lambda s: outbox.apply_status(s, read, now=AT)) == 1
    assert db.write(lambda s: outbox.apply_status(s, delivered, now=AT)) == 0  # late: ignored
    assert db.write(lambda s: outbox.apply_status(s, read, now=AT)) == 0  # twice: harmless
    row = _row(db, message_id)
    assert (row.state, row.provider_id) == ("read", "wamid.B")
    assert row.sent_at == row.delivered_at == row.read_at == AT + timedelta(seconds=9)


def test_a_failure_is_explained_and_a_retry_is_a_new_attempt(db, team):
    lead_id = _chat_lead(db, team)
    ana = team["ana"].actor
    message_id = _send(db, lead_id, "Hi", ana, AT)
    _claim(db, AT)
    db.write(
        lambda s: outbox.record_failed(
            s, message_id, 1, code=131026, title="Undeliverable", detail=None, now=AT
        )
    )
    row = _row(db, message_id)
    assert (row.state, row.error_code) == ("failed", 131026)
    with db.reading() as session:
        thread = outbox.conversation(session, lead_id, viewer=ana)
    item = thread.items[-1]
    assert (item.reason, item.next_step) == (MEANINGS[131026].sentence, NextStep.CALL_INSTEAD)
    db.write(lambda s: outbox.retry(s, message_id, actor=ana, now=AT + timedelta(minutes=1)))
    [claim] = _claim(db, AT + timedelta(minutes=1))
    assert claim.attempt == 2
    with db.reading() as session:
        attempts = session.execute(
            select(MessageAttempt.attempt, MessageAttempt.outcome).order_by(MessageAttempt.attempt)
        ).all()
    assert attempts == [(1, "failed"), (2, None)]


def test_throttling_puts_the_message_back_after_a_growing_backoff(db, team):
    lead_id = _chat_lead(db, team)
    message_id = _send(db, lead_id, "Hi", team["ana"].actor, AT)
    _claim(db, AT)
    assert db.write(
        lambda s: outbox.record_failed(
            s, message_id, 1, code=130429, title="Rate limit", detail=None, now=AT
        )
    )
    row = _row(db, message_id)
    assert (row.state, row.not_before) == ("queued", AT + timedelta(seconds=5))
    assert _claim(db, AT + timedelta(seconds=4)) == []
    assert [c.attempt for c in _claim(db, AT + timedelta(seconds=5))] == [2]
    assert outbox.backoff(2) == timedelta(seconds=10) and outbox.backoff(20) == timedelta(minutes=5)


def test_a_claim_nobody_confirms_becomes_unconfirmed_and_is_resent_only_when_asked(db, team):
    lead_id = _chat_lead(db, team)
    message_id = _send(db, lead_id, "Hi", team["ana"].actor, AT)
    _claim(db, AT)
    assert db.write(lambda s: outbox.expire_unconfirmed(s, now=AT + timedelta(minutes=2))) == 0
    assert (
        db.write(lambda s: outbox.expire_unconfirmed(s, now=AT + timedelta(minutes=2, seconds=1)))
        == 1
    )
    assert _row(db, message_id).state == MessageState.UNCONFIRMED
    assert _claim(db, AT + timedelta(minutes=5)) == []  # never by itself


def test_an_expired_token_tells_the_managers_once_until_a_send_succeeds(db, team):
    lead_id = _chat_lead(db, team)
    ana = team["ana"].actor
    ids = [_send(db, lead_id, f"Hi {n}", ana, AT) for n in range(3)]
    _claim(db, AT)
    for message_id in ids[:2]:
        db.write(
            lambda s, m=message_id: outbox.record_failed(
                s, m, 1, code=190, title="Token", detail=None, now=AT
            )
        )
    with db.reading() as session:
        told = session.execute(select(Notification.user_id)).scalars().all()
    assert told == [team["maria"].id]
    db.write(lambda s: outbox.record_sent(s, ids[2], 1, "wamid.C", now=AT))
    db.write(lambda s: outbox.retry(s, ids[0], actor=ana, now=AT))
    _claim(db, AT)
    db.write(
        lambda s: outbox.record_failed(s, ids[0], 2, code=190, title="Token", detail=None, now=AT)
    )
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Notification)) == 2


def test_unknown_codes_show_metas_own_words():
    assert explain(999999, "Odd thing", "details here") == (
        "Meta error 999999: Odd thing — details here",
        NextStep.RETRY,
    )
    assert explain(None, None, None) == ("Meta gave no reason", NextStep.RETRY)


def test_templates_sync_pick_fill_and_refuse(db, team):
    report = db.write(lambda s: store_templates(s, TEMPLATES, actor=SYSTEM, now=AT))
    assert (report.added, report.changed, report.gone) == (3, 0, 0)
    again = db.write(lambda s: store_templates(s, TEMPLATES[:2], actor=SYSTEM, now=AT))
    assert (again.added, again.changed, again.gone) == (0, 0, 1)
    with db.reading() as session:
        assert [t.name for t in pickable_templates(session, "es")] == ["seguimiento", "follow_up"]
    lead_id = _chat_lead(db, team)
    ana = team["ana"].actor
    late = AT + timedelta(days=2)  # the window closed: a template still goes
    with pytest.raises(ValidationError, match=r"parameter \{\{2\}\} is missing"):
        db.write(
            lambda s: outbox.send_template(
                s, lead_id, "follow_up", {"1": "Bruno"}, actor=ana, now=late
            )
        )
    message_id = db.write(
        lambda s: (
            outbox.send_template(
                s, lead_id, "follow_up", {"1": "Bruno", "2": "Ana"}, actor=ana, now=late
            ).id
        )
    )
    row = _row(db, message_id)
    assert (row.body, row.parameters, row.template_language) == (
        "Hi Bruno, this is Ana about your enquiry.",
        ["Bruno", "Ana"],
        "en_US",
    )
    with pytest.raises(ValidationError, match="disabled"):
        db.write(lambda s: outbox.send_template(s, lead_id, "old_promo", {}, actor=ana, now=late))


def test_quick_replies_are_admins_and_expand_from_the_lead(db, team):
    with pytest.raises(PermissionDeniedError):
        db.write(lambda s: save_quick_reply(s, "Hello", "Hi {first_name}", actor=team["ana"].actor))
    reply = db.write(
        lambda s: save_quick_reply(s, "Hello", "Hi {first_name}, {rep} here {x}", actor=SYSTEM)
    )
    lead_id = _chat_lead(db, team)
    with db.reading() as session:
        lead = session.get(Lead, lead_id)
        from leadms_tui.domain.models import User

        rep = session.get(User, team["ana"].id)
        assert (
            expand_quick_reply(reply.body, lead, rep) == f"Hi Bruno, {rep.display_name} here {{x}}"
        )
        assert expand_quick_reply("a { b", lead, rep) == "a { b"


def test_a_failure_is_audited_as_its_own_version_and_only_a_failed_message_is_retried(db, team):
    """Mutation testing (issue 26): the failure's audit event and version bump, and the refusal
    to retry a message still on its way, were never read by a test."""
    lead_id = _chat_lead(db, team)
    ana = team["ana"].actor
    message_id = _send(db, lead_id, "Hi", ana, AT)
    with pytest.raises(ValidationError) as refused:
        db.write(lambda s: outbox.retry(s, message_id, actor=ana, now=AT))
    assert str(refused.value) == (
        "this message is queued: only a failed or unconfirmed one is sent again"
    )
    _claim(db, AT)
    sending = _row(db, message_id).version
    db.write(
        lambda s: outbox.record_failed(
            s, message_id, 1, code=131026, title="Undeliverable", detail=None, now=AT
        )
    )
    assert _row(db, message_id).version == sending + 1
    with db.reading() as session:
        failed = session.execute(
            select(AuditEvent).where(AuditEvent.action == "message.failed")
        ).scalar_one()
    assert (failed.actor, failed.entity_id, failed.changes["state"]) == (
        "meta",
        str(message_id),
        ["sending", "failed"],
    )


def test_the_conversation_reads_in_time_order_whoever_wrote(db, team):
    """Their message, our two replies, their answer: in the order they happened, not
    inbound first and ours newest first as the two queries return them."""
    lead_id = _chat_lead(db, team, text="Hi, price?")
    ana = team["ana"].actor
    _send(db, lead_id, "It is 40 a month", ana, AT + timedelta(minutes=1))
    _send(db, lead_id, "Shall I book you in?", ana, AT + timedelta(minutes=2))
    _chat_lead(db, team, at=AT + timedelta(minutes=3), text="Yes please")
    with db.reading() as session:
        thread = outbox.conversation(session, lead_id, viewer=ana)
    assert [(item.inbound, item.text) for item in thread.items] == [
        (True, "Hi, price?"),
        (False, "It is 40 a month"),
        (False, "Shall I book you in?"),
        (True, "Yes please"),
    ]
