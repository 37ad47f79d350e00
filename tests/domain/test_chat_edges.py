"""The chat outbox's edges (issue 26, mutation testing): each test pins what a survivor of
`bin/mutate outbox` changed without a test noticing. Both engines."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.chat import outbox
from leadms_tui.domain.chat.meta_errors import MEANINGS, STEP_WORDS, NextStep, explain, is_throttled
from leadms_tui.domain.chat.outbox import StatusReport
from leadms_tui.domain.chat.templates import (
    body_of,
    delete_quick_reply,
    fill_template,
    find_template,
    save_quick_reply,
    split_body,
    store_templates,
    suggested_values,
)
from leadms_tui.domain.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from leadms_tui.domain.leads.intake import LeadCreate, receive_message
from leadms_tui.domain.models import (
    AuditEvent,
    Channel,
    Lead,
    LeadStatus,
    MessageAttempt,
    MessageState,
    MessageTemplate,
    OutboundMessage,
    QuickReply,
    Role,
    User,
)
from leadms_tui.domain.team.users import add_user
from tests.domain.test_chat import AT, TEMPLATES, WA_ID, _chat_lead, _claim, _row, _send


def _events(db, action: str) -> list[tuple[str, str, str, dict]]:
    with db.reading() as session:
        return [
            (e.actor, e.entity, e.entity_id, e.changes)
            for e in session.execute(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            ).scalars()
        ]


# --- Meta's error codes in words --------------------------------------------------------------


def test_every_meta_error_code_explains_itself_in_exact_words():
    """The README names the throttling codes (130429, 131056, Messenger 80007, 4); every code
    of the table is pinned with its sentence, next step and whether the service retries."""
    expected = {
        131047: (
            "More than 24 hours since their last message: only a template can reach them now.",
            NextStep.USE_TEMPLATE,
            False,
        ),
        131026: (
            "This number cannot receive WhatsApp messages (not on WhatsApp, or an old app).",
            NextStep.CALL_INSTEAD,
            False,
        ),
        130429: (
            "Meta's sending limit was reached: sent again shortly.",
            NextStep.WAIT_AND_RETRY,
            True,
        ),
        131056: (
            "Too many messages to this person in a short time: sent again shortly.",
            NextStep.WAIT_AND_RETRY,
            True,
        ),
        80007: (
            "Messenger's rate limit was reached: sent again shortly.",
            NextStep.WAIT_AND_RETRY,
            True,
        ),
        4: (
            "Meta's API call limit was reached: sent again shortly.",
            NextStep.WAIT_AND_RETRY,
            True,
        ),
        132000: (
            "The template's parameters do not match it (how many, or their kind).",
            NextStep.FIX_TEMPLATE,
            False,
        ),
        132001: ("That template does not exist in this language.", NextStep.FIX_TEMPLATE, False),
        132005: ("The filled template is too long.", NextStep.FIX_TEMPLATE, False),
        132007: ("The filled template breaks WhatsApp's policy.", NextStep.FIX_TEMPLATE, False),
        132012: (
            "A template parameter is not in the form it needs.",
            NextStep.FIX_TEMPLATE,
            False,
        ),
        132015: ("The template is paused for low quality.", NextStep.FIX_TEMPLATE, False),
        132016: ("The template is disabled.", NextStep.FIX_TEMPLATE, False),
        100: ("Meta refused a parameter of the message.", NextStep.RETRY, False),
        190: (
            "The service's Meta access token expired or was revoked: an admin must renew it.",
            NextStep.TELL_ADMIN,
            False,
        ),
        10: (
            "Outside the 24-hour window, or the page lacks the permission for this message.",
            NextStep.USE_TEMPLATE,
            False,
        ),
        551: ("This person is not available on Messenger now.", NextStep.CALL_INSTEAD, False),
    }
    assert sorted(MEANINGS) == sorted(expected)
    for code, (sentence, step, throttled) in expected.items():
        assert (*explain(code, "Meta's title", "Meta's detail"), is_throttled(code)) == (
            sentence,
            step,
            throttled,
        ), code
    assert STEP_WORDS == {
        NextStep.USE_TEMPLATE: "pick an approved template (w)",
        NextStep.CALL_INSTEAD: "call them instead; a follow-up is offered",
        NextStep.WAIT_AND_RETRY: "nothing: the service sends it again",
        NextStep.FIX_TEMPLATE: "pick another template, or check its parameters",
        NextStep.TELL_ADMIN: "managers are told; retry once the token is renewed",
        NextStep.RETRY: "read Meta's words, then retry (ctrl+r) or call",
    }


# --- quick replies -------------------------------------------------------------------------------


def test_quick_replies_refuse_a_rep_a_duplicate_title_and_a_stale_version(db, team):
    admin = db.write(lambda s: add_user(s, "ada", role=Role.ADMIN, actor=SYSTEM, password="x" * 12))
    with pytest.raises(PermissionDeniedError) as refused:
        db.write(lambda s: save_quick_reply(s, "Hello", "Hi", actor=team["ana"].actor))
    assert str(refused.value) == "only an admin can change the quick replies"
    hello = db.write(lambda s: save_quick_reply(s, "Hello", "Hi {first_name}", actor=admin.actor))
    bye = db.write(lambda s: save_quick_reply(s, "Bye", "Bye now", actor=admin.actor))
    assert (hello.title, hello.version, bye.title) == ("Hello", 1, "Bye")
    with pytest.raises(ValidationError) as refused:
        db.write(lambda s: save_quick_reply(s, " Hello ", "Again", actor=admin.actor))
    assert str(refused.value) == "a quick reply called 'Hello' exists"
    # renamed without a version (no check), then with the version read: each bumps it
    renamed = db.write(
        lambda s: save_quick_reply(
            s, "Hello there", "Hi {first_name}!", actor=admin.actor, reply_id=hello.id
        )
    )
    assert (renamed.title, renamed.body, renamed.version) == ("Hello there", "Hi {first_name}!", 2)
    again = db.write(
        lambda s: save_quick_reply(
            s, "Hello there", "Hi!", actor=admin.actor, reply_id=hello.id, version=2
        )
    )
    assert (again.body, again.version) == ("Hi!", 3)
    with pytest.raises(ConflictError) as stale:
        db.write(
            lambda s: save_quick_reply(
                s, "Hello there", "Hey", actor=admin.actor, reply_id=hello.id, version=2
            )
        )
    assert str(stale.value) == "someone changed this quick reply meanwhile: reopen it"
    with db.reading() as session:
        stored = session.get(QuickReply, hello.id)
        assert (stored.title, stored.body, stored.version) == ("Hello there", "Hi!", 3)
    assert [
        (actor, entity, entity_id)
        for actor, entity, entity_id, _ in _events(db, "quick_reply.update")
    ] == [("ada", "quick_reply", str(hello.id))] * 2


def test_deleting_a_quick_reply_is_audited_and_an_unknown_one_is_refused(db, team):
    admin = db.write(lambda s: add_user(s, "ada", role=Role.ADMIN, actor=SYSTEM, password="x" * 12))
    reply = db.write(lambda s: save_quick_reply(s, "Hello", "Hi", actor=SYSTEM, now=AT))
    [(actor, entity, entity_id, _)] = _events(db, "quick_reply.create")
    assert (actor, entity, entity_id) == ("system", "quick_reply", str(reply.id))
    with pytest.raises(PermissionDeniedError) as refused:
        db.write(lambda s: delete_quick_reply(s, reply.id, actor=team["ana"].actor))
    assert str(refused.value) == "only an admin can change the quick replies"
    db.write(lambda s: delete_quick_reply(s, reply.id, actor=admin.actor, now=AT))
    [(actor, entity, entity_id, changes)] = _events(db, "quick_reply.delete")
    assert (actor, entity, entity_id) == ("ada", "quick_reply", str(reply.id))
    assert changes["title"] == ["Hello", None]
    for act in (
        lambda s: delete_quick_reply(s, reply.id, actor=SYSTEM),
        lambda s: save_quick_reply(s, "Hello", "Hi", actor=SYSTEM, reply_id=reply.id),
    ):
        with pytest.raises(NotFoundError) as gone:
            db.write(act)
        assert str(gone.value) == "that quick reply was deleted"


# --- templates -----------------------------------------------------------------------------------


def test_a_template_body_splits_into_text_and_placeholders():
    assert split_body("Hi {{1}}, this is {{ 2 }}.") == [
        ("Hi ", None),
        ("", "1"),
        (", this is ", None),
        ("", "2"),
        (".", None),
    ]
    assert body_of([{"type": "HEADER", "text": "Offer"}, "junk"]) == ""
    assert body_of([{"type": "body", "text": "Hi"}]) == "Hi"


def test_sync_stores_category_status_and_time_as_listed(db):
    listed = [
        {
            "name": "long_category",
            "language": "en",
            "category": "C" * 40,
            "status": "approved",
            "components": [{"type": "BODY", "text": "Hi {{1}}"}],
        },
        {"name": "bare", "language": "en", "status": "IN_APPEAL", "components": []},
    ]
    report = db.write(lambda s: store_templates(s, listed, actor=SYSTEM, now=AT))
    assert (report.added, report.changed, report.gone) == (2, 0, 0)
    with db.reading() as session:
        rows = {
            t.name: (t.category, t.status, t.body, t.parameters, t.synced_at, t.id)
            for t in session.execute(select(MessageTemplate)).scalars()
        }
    assert {name: row[:5] for name, row in rows.items()} == {
        "long_category": ("C" * 32, "APPROVED", "Hi {{1}}", 1, AT),
        "bare": ("", "DISABLED", "", 0, AT),  # a status we do not know cannot be sent
    }
    assert sorted(entity_id for _, _, entity_id, _ in _events(db, "template.sync")) == sorted(
        str(row[5]) for row in rows.values()
    )
    paused = [{**listed[0], "status": "PAUSED"}, listed[1]]
    later = AT + timedelta(hours=1)
    report = db.write(lambda s: store_templates(s, paused, actor=SYSTEM, now=later))
    assert (report.added, report.changed, report.gone) == (0, 1, 0)
    with db.reading() as session:
        row = session.get(MessageTemplate, rows["long_category"][5])
        assert (row.status, row.synced_at) == ("PAUSED", later)


def test_filling_a_template_prefills_the_lead_number_and_refuses_what_is_missing(db, team):
    lead_id = _chat_lead(db, team)
    db.write(lambda s: store_templates(s, TEMPLATES, actor=SYSTEM, now=AT))
    body = "{{first_name}} {{name}} {{rep}} {{number}} {{lead_number}} {{reference}} {{other}}"
    template = MessageTemplate(name="t", language="en", category="UTILITY", status="APPROVED")
    template.body = body
    with db.reading() as session:
        lead = session.get(Lead, lead_id)
        rep = session.get(User, team["ana"].id)
        assert suggested_values(template, lead, rep) == {
            "first_name": "Bruno",
            "name": "Bruno Lima",
            "rep": rep.display_name or rep.username,
            "number": lead.number,
            "lead_number": lead.number,
            "reference": lead.number,
            "other": "",
        }
        with pytest.raises(NotFoundError) as missing:
            find_template(session, "nope")
        assert str(missing.value) == "no template 'nope' (run `leadms templates sync`)"
        with pytest.raises(NotFoundError) as missing:
            find_template(session, "follow_up", "es")
        assert str(missing.value) == "no template 'follow_up' in es (run `leadms templates sync`)"
    template.body = "Hi {{1}}, {{2}} here; {{1}}."
    assert fill_template(template, {"1": " Bruno \n Lima ", "2": "Ana"}) == (
        "Hi Bruno Lima, Ana here; Bruno Lima.",
        ["Bruno Lima", "Ana"],
    )


# --- the window, retries, statuses, the conversation ------------------------------------------


def test_the_window_has_no_time_left_once_closed(db, team):
    lead_id = _chat_lead(db, team)
    with db.reading() as session:
        window = outbox.chat_window(session, session.get(Lead, lead_id))
    assert window.left(AT + timedelta(hours=23)) == timedelta(hours=1)
    assert window.left(AT + timedelta(hours=24)) == timedelta(0)
    assert window.left(AT + timedelta(days=30)) == timedelta(0)


def test_a_failed_text_is_not_retried_once_the_window_closed_a_template_is(db, team):
    lead_id = _chat_lead(db, team)
    ana = team["ana"].actor
    db.write(lambda s: store_templates(s, TEMPLATES, actor=SYSTEM, now=AT))
    text_id = _send(db, lead_id, "Hi", ana, AT)
    template_id = db.write(
        lambda s: (
            outbox.send_template(s, lead_id, "seguimiento", {"1": "Bruno"}, actor=ana, now=AT).id
        )
    )
    _claim(db, AT)
    for message_id in (text_id, template_id):
        db.write(
            lambda s, m=message_id: outbox.record_failed(
                s, m, 1, code=100, title="Bad", detail=None, now=AT
            )
        )
    late = AT + timedelta(days=2)
    with pytest.raises(ValidationError) as refused:
        db.write(lambda s: outbox.retry(s, text_id, actor=ana, now=late))
    assert str(refused.value) == "the window closed since: pick an approved template instead"
    db.write(lambda s: outbox.retry(s, template_id, actor=ana, now=late))
    assert (_row(db, text_id).state, _row(db, template_id).state) == ("failed", "queued")


def test_a_retry_reads_the_row_as_stored_not_as_the_session_last_saw_it(db, team):
    """`_locked` re-reads the row: here the session holds it as "sending" when the sweep's
    bulk update marks it unconfirmed, and the retry must see "unconfirmed"."""
    lead_id = _chat_lead(db, team)
    ana = team["ana"].actor
    message_id = _send(db, lead_id, "Hi", ana, AT)
    _claim(db, AT)

    def sweep_then_retry(session):
        held = session.get(OutboundMessage, message_id)  # held: the identity map keeps it
        assert held.state == MessageState.SENDING
        later = AT + timedelta(minutes=3)
        assert outbox.expire_unconfirmed(session, now=later) == 1
        retried = outbox.retry(session, message_id, actor=ana, now=later)
        return retried is held, retried.state, retried.version

    assert db.write(sweep_then_retry) == (True, MessageState.QUEUED, 4)  # claim, sweep, retry


def test_an_older_attempts_status_names_only_its_own_attempt(db, team):
    lead_id = _chat_lead(db, team)
    ana = team["ana"].actor
    message_id = _send(db, lead_id, "Hi", ana, AT)
    [first] = _claim(db, AT)  # its answer was lost
    db.write(lambda s: outbox.expire_unconfirmed(s, now=AT + timedelta(minutes=3)))
    db.write(lambda s: outbox.retry(s, message_id, actor=ana, now=AT + timedelta(minutes=3)))
    [second] = _claim(db, AT + timedelta(minutes=3))
    db.write(
        lambda s: outbox.record_sent(s, message_id, 2, "wamid.2", now=AT + timedelta(minutes=3))
    )
    reports = [
        StatusReport(
            Channel.WHATSAPP, MessageState.DELIVERED, AT, key=first.key, provider_id="wamid.1"
        ),
        # a second word on attempt 2 under another id, and a key of an attempt never made
        StatusReport(
            Channel.WHATSAPP, MessageState.SENT, AT, key=second.key, provider_id="wamid.X"
        ),
        StatusReport(
            Channel.WHATSAPP,
            MessageState.DELIVERED,
            AT,
            key=f"leadms:{message_id}:9",
            provider_id="wamid.9",
        ),
    ]
    assert [db.write(lambda s, r=r: outbox.apply_status(s, r, now=AT)) for r in reports] == [
        0,
        0,
        0,
    ]
    with db.reading() as session:
        attempts = session.execute(
            select(MessageAttempt.attempt, MessageAttempt.provider_id).order_by(
                MessageAttempt.attempt
            )
        ).all()
    assert attempts == [(1, "wamid.1"), (2, "wamid.2")]
    row = _row(db, message_id)
    assert (row.state, row.provider_id, row.attempt) == ("sent", "wamid.2", 2)


def test_messengers_watermark_covers_a_message_sent_up_to_five_seconds_after_it(db, team):
    lead_id = _chat_lead(db, team, channel=Channel.MESSENGER, sender="PSID-1")
    ana = team["ana"].actor
    ids = [_send(db, lead_id, f"Hi {n}", ana, AT) for n in range(2)]
    _claim(db, AT)
    watermark = AT + timedelta(minutes=1)
    sent = [watermark + timedelta(seconds=5), watermark + timedelta(seconds=5, microseconds=1)]
    for message_id, at in zip(ids, sent, strict=True):
        db.write(lambda s, m=message_id, a=at: outbox.record_sent(s, m, 1, f"mid.{m}", now=a))
    read = StatusReport(
        Channel.MESSENGER, MessageState.READ, watermark, recipient="PSID-1", watermark=watermark
    )
    assert db.write(lambda s: outbox.apply_status(s, read, now=watermark)) == 1
    # claimed (2), sent (3), read (4): each move is a version
    assert [(_row(db, m).state, _row(db, m).version) for m in ids] == [("read", 4), ("sent", 3)]


def test_a_throttled_send_is_a_new_version_of_the_row_and_audited(db, team):
    lead_id = _chat_lead(db, team)
    message_id = _send(db, lead_id, "Hi", team["ana"].actor, AT)
    _claim(db, AT)
    db.write(
        lambda s: outbox.record_failed(s, message_id, 1, code=4, title=None, detail=None, now=AT)
    )
    row = _row(db, message_id)
    assert (row.state, row.version, row.not_before) == ("queued", 3, AT + timedelta(seconds=5))
    [(actor, entity, entity_id, changes)] = _events(db, "message.throttled")
    assert (actor, entity, entity_id, changes["state"]) == (
        "meta",
        "message",
        str(message_id),
        ["sending", "queued"],
    )


def test_the_conversation_gathers_every_lead_of_the_sender_and_a_plain_lead_its_own(db, team):
    first = _chat_lead(db, team, text="Hi, price?")
    ana = team["ana"].actor
    _send(db, first, "It is 40", ana, AT + timedelta(minutes=1))

    def lose(session):
        session.get(Lead, first).status = LeadStatus.LOST

    db.write(lose)
    second = _chat_lead(db, team, at=AT + timedelta(days=30), text="Me again")
    assert second != first
    _send(db, second, "Welcome back", ana, AT + timedelta(days=30, minutes=1))
    expected = [
        (True, "Hi, price?"),
        (False, "It is 40"),
        (True, "Me again"),
        (False, "Welcome back"),
    ]
    with db.reading() as session:
        for lead_id in (first, second):
            thread = outbox.conversation(session, lead_id, viewer=ana)
            assert [(i.inbound, i.text) for i in thread.items] == expected
            assert thread.window.recipient == WA_ID
    web = db.write(
        lambda s: receive_message(
            s,
            LeadCreate(
                name="Web", channel=Channel.WEBSITE, email="w@example.com", message="From the site"
            ),
            actor=SYSTEM,
            now=AT,
        )
    ).lead_id
    with db.reading() as session:
        thread = outbox.conversation(session, web, viewer=ana)
    assert (thread.window, [(i.inbound, i.text) for i in thread.items]) == (
        None,
        [(True, "From the site")],
    )
