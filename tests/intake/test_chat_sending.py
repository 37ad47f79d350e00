"""Chat replies sent for real (issue 28): the intake service's sender against the Meta Graph
stand-in on loopback, its signed status webhooks back into the service, on both engines; and
the service killed with SIGKILL between the claim and the call, and between Meta's answer and
its commit: the stand-in receives each message once."""

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from leadms_tui.domain import clock
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.chat import outbox
from leadms_tui.domain.chat.templates import store_templates
from leadms_tui.domain.leads.intake import LeadCreate, receive_message
from leadms_tui.domain.models import (
    Channel,
    Lead,
    MessageAttempt,
    Notification,
    OutboundMessage,
    Role,
)
from leadms_tui.domain.team.users import add_user
from leadms_tui.intake.meta_client import MetaClient, MetaConfig, Refused, Sent, Unknown
from leadms_tui.intake.sender import Sender, SenderConfig, TokenBucket
from leadms_tui.intake.service import IntakeConfig, create_app
from leadms_tui.standins.meta_graph import DEMO_TEMPLATES, MetaGraphStandIn
from tests.intake.test_service import SECRET, serving

WA_ID = "447700900123"
PSID = "6543210987654321"


@pytest.fixture
def standin() -> Iterator[MetaGraphStandIn]:
    with MetaGraphStandIn(app_secret=SECRET, templates=list(DEMO_TEMPLATES)) as running:
        yield running


def _meta(standin: MetaGraphStandIn, timeout: float = 5) -> MetaConfig:
    return MetaConfig(
        graph_url=standin.graph_url,
        whatsapp_token=standin.whatsapp_token,
        phone_number_id=standin.phone_number_id,
        business_account_id=standin.business_account_id,
        page_token=standin.page_token,
        page_id=standin.page_id,
        timeout=timeout,
    )


def _meta_env(standin: MetaGraphStandIn) -> dict[str, str]:
    return {
        "LEADMS_META_GRAPH_URL": standin.graph_url,
        "LEADMS_WHATSAPP_TOKEN": standin.whatsapp_token,
        "LEADMS_WHATSAPP_PHONE_NUMBER_ID": standin.phone_number_id,
        "LEADMS_WHATSAPP_BUSINESS_ACCOUNT_ID": standin.business_account_id,
        "LEADMS_MESSENGER_PAGE_TOKEN": standin.page_token,
        "LEADMS_MESSENGER_PAGE_ID": standin.page_id,
    }


@pytest.fixture
def service(db, standin) -> Iterator[str]:
    """The intake service with Meta credentials (so it sends), its webhooks fed by the
    stand-in."""
    config = IntakeConfig(
        app_secret=SECRET,
        sweep_seconds=0,
        meta=_meta(standin),
        sender=SenderConfig(rate=50, poll_seconds=0.05),
    )
    with serving(create_app(db, config)) as url:
        standin.webhooks = f"{url}/webhooks"
        yield url
        standin.idle()  # the statuses still on their way are taken before the service stops


@pytest.fixture
def webhooks_only(db, standin) -> Iterator[str]:
    """The intake service without credentials: it takes webhooks and sends nothing."""
    with serving(create_app(db, IntakeConfig(app_secret=SECRET, sweep_seconds=0))) as url:
        standin.webhooks = f"{url}/webhooks"
        yield url
        standin.idle()


def _lead(db, *, channel=Channel.WHATSAPP, sender=WA_ID, ago=timedelta(0)) -> int:
    at = clock.now() - ago
    data = LeadCreate(
        name="Bruno Lima",
        channel=channel,
        external_id=sender,
        message="Hi, what does it cost?",
        dedupe_key=f"m-{sender}-{at.timestamp()}",
        received_at=at,
    )
    return db.write(lambda s: receive_message(s, data, actor=SYSTEM, now=at)).lead_id


def _reply(db, lead_id: int, body: str = "Hello Bruno, 30 a month.") -> int:
    return db.write(lambda s: outbox.send_text(s, lead_id, body, actor=SYSTEM).id)


def _row(db, message_id: int) -> OutboundMessage:
    with db.reading() as session:
        return session.get(OutboundMessage, message_id)


def _until(check: Callable[[], object], seconds: float = 20) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.05)
    raise AssertionError(f"not within {seconds} s")


def _state_is(db, message_id: int, *states: str) -> Callable[[], bool]:
    return lambda: _row(db, message_id).state in states


def _send_round(db, standin: MetaGraphStandIn) -> int:
    """One round of a sender in this process (as a restarted service would run)."""

    async def once() -> int:
        async with MetaClient(_meta(standin)) as client:
            return await Sender(db, client, SenderConfig()).run_once()

    return asyncio.run(once())


# --- sent, delivered, read -------------------------------------------------------------------


def test_a_whatsapp_reply_is_sent_then_delivered_and_read_from_signed_statuses(
    db, standin, service
):
    message_id = _reply(db, _lead(db))
    _until(_state_is(db, message_id, "read"))
    [sent] = standin.sends()
    assert sent.headers["authorization"] == f"Bearer {standin.whatsapp_token}"
    assert sent.body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": WA_ID,
        "biz_opaque_callback_data": f"leadms:{message_id}:1",
        "type": "text",
        "text": {"preview_url": False, "body": "Hello Bruno, 30 a month."},
    }
    row = _row(db, message_id)
    assert row.provider_id.startswith("wamid.")
    assert None not in (row.sent_at, row.delivered_at, row.read_at)  # Meta's are in seconds
    assert standin.idle() and set(standin.webhook_answers) == {200}  # signed, taken, no lead
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Lead)) == 1
        attempt = session.execute(select(MessageAttempt)).scalar_one()
    assert (attempt.outcome, attempt.provider_id) == ("sent", row.provider_id)


def test_messenger_replies_carry_their_key_in_metadata_and_the_echo_reconciles(
    db, standin, service
):
    fresh = _reply(db, _lead(db, channel=Channel.MESSENGER, sender=PSID))
    tagged = _reply(
        db, _lead(db, channel=Channel.MESSENGER, sender="7777", ago=timedelta(days=2)), "Still on?"
    )
    _until(_state_is(db, fresh, "read"))
    _until(_state_is(db, tagged, "read"))
    bodies = {r.body["recipient"]["id"]: r.body for r in standin.sends("messenger")}
    assert bodies[PSID] == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {"text": "Hello Bruno, 30 a month.", "metadata": f"leadms:{fresh}:1"},
    }
    assert (bodies["7777"]["messaging_type"], bodies["7777"]["tag"]) == (
        "MESSAGE_TAG",
        "HUMAN_AGENT",
    )
    assert standin.sends()[0].headers["authorization"] == f"Bearer {standin.page_token}"


def test_a_template_is_sent_with_its_body_parameters(db, standin, service):
    lead_id = _lead(db, ago=timedelta(days=3))  # the window closed: only a template
    db.write(lambda s: store_templates(s, DEMO_TEMPLATES, actor=SYSTEM, now=clock.now()))
    message_id = db.write(
        lambda s: (
            outbox.send_template(
                s, lead_id, "follow_up", {"1": "Bruno", "2": "Ana"}, actor=SYSTEM
            ).id
        )
    )
    _until(_state_is(db, message_id, "read"))
    [sent] = standin.sends()
    assert sent.body["template"] == {
        "name": "follow_up",
        "language": {"code": "en_US"},
        "components": [
            {
                "type": "body",
                "parameters": [{"type": "text", "text": "Bruno"}, {"type": "text", "text": "Ana"}],
            }
        ],
    }


# --- refused, throttled, no answer -----------------------------------------------------------


def test_throttled_then_sent_with_a_new_attempt(db, standin, service):
    standin.throttle_next()
    message_id = _reply(db, _lead(db))
    _until(lambda: _row(db, message_id).not_before is not None)
    row = _row(db, message_id)
    assert (row.state, row.error_code) == ("queued", None)  # not a failure: sent again later
    assert len(standin.sends()) == 1
    later = timedelta(seconds=6)  # past the first backoff (5 s)
    clock.set_clock(lambda: datetime.now(UTC) + later)
    _until(_state_is(db, message_id, "sent", "delivered", "read"))
    assert [r.key for r in standin.sends()] == [f"leadms:{message_id}:1", f"leadms:{message_id}:2"]
    with db.reading() as session:
        outcomes = session.execute(
            select(MessageAttempt.outcome, MessageAttempt.error_code).order_by(
                MessageAttempt.attempt
            )
        ).all()
    assert [tuple(o) for o in outcomes] == [("throttled", 130429), ("sent", None)]


@pytest.mark.parametrize(
    ("code", "later", "words"),
    [
        (131047, False, "Re-engagement message"),
        (131026, True, "Message Undeliverable."),  # taken, then a `failed` status
        (190, False, "Error validating access token: Session has expired."),
    ],
)
def test_a_failure_is_stored_with_its_code_and_meta_words(db, standin, service, code, later, words):
    db.write(lambda s: add_user(s, "maria", role=Role.MANAGER, actor=SYSTEM, password="secret"))
    standin.fail_next(code, later=later)
    message_id = _reply(db, _lead(db))
    _until(_state_is(db, message_id, "failed"))
    row = _row(db, message_id)
    assert (row.error_code, row.error_title) == (code, words)
    assert len(standin.sends()) == 1
    with db.reading() as session:
        told = session.scalar(select(func.count()).select_from(Notification))
    assert told == (1 if code == 190 else 0)  # an expired token: the managers are told


def test_an_answer_that_never_comes_is_never_resent(db, standin, service):
    standin.die_next()  # read the request, close the socket unanswered
    message_id = _reply(db, _lead(db))
    _until(lambda: standin.sends())
    time.sleep(1)  # twenty rounds of the sender
    assert (len(standin.sends()), _row(db, message_id).state) == (1, "sending")
    expired = db.write(
        lambda s: outbox.expire_unconfirmed(s, now=clock.now() + timedelta(minutes=3))
    )
    assert (expired, _row(db, message_id).state) == (1, "unconfirmed")


# --- the client alone ------------------------------------------------------------------------


def _claim(channel: Channel = Channel.WHATSAPP) -> outbox.Claim:
    return outbox.Claim(7, 1, channel, WA_ID, "text", "Hi", None, None, [], None)


def test_the_client_tells_taken_refused_and_unknown_apart(standin):
    async def go():
        async with MetaClient(_meta(standin, timeout=0.5)) as client:
            taken = await client.send(_claim())
            standin.fail_next(131047)
            refused = await client.send(_claim())
            standin.delay_next(1.5)
            late = await client.send(_claim())
            standin.die_next()
            dropped = await client.send(_claim())
        async with MetaClient(
            MetaConfig(
                graph_url="http://127.0.0.1:9/v21.0", whatsapp_token="t", phone_number_id="1"
            )
        ) as nowhere:
            unreachable = await nowhere.send(_claim())
        async with MetaClient(_meta(standin)) as client:
            client.config = MetaConfig(graph_url=standin.graph_url)  # no Messenger credentials
            unconfigured = await client.send(_claim(Channel.MESSENGER))
        return taken, refused, late, dropped, unreachable, unconfigured

    taken, refused, late, dropped, unreachable, unconfigured = asyncio.run(go())
    assert isinstance(taken, Sent) and taken.provider_id.startswith("wamid.")
    assert isinstance(refused, Refused) and (refused.code, refused.http_status) == (131047, 400)
    assert "24 hours" in refused.detail
    assert isinstance(late, Unknown) and isinstance(dropped, Unknown)  # never resent
    assert isinstance(unreachable, Refused) and unreachable.code is None  # never left
    assert isinstance(unconfigured, Refused) and "not configured" in unconfigured.title
    assert len(standin.sends()) == 4


def test_the_client_reads_every_page_of_templates(standin):
    standin.templates = [
        {"name": f"t{i}", "language": "en_US", "status": "APPROVED", "category": "UTILITY",
         "components": [{"type": "BODY", "text": "Hi {{1}}"}]}
        for i in range(7)
    ]  # fmt: skip

    async def go():
        async with MetaClient(_meta(standin)) as client:
            return await client.list_templates(page_size=3)

    listed = asyncio.run(go())
    assert [t["name"] for t in listed] == [f"t{i}" for i in range(7)]
    assert len([r for r in standin.requests if r.path.endswith("/message_templates")]) == 3


def test_the_token_bucket_paces_and_pauses():
    now = [0.0]
    bucket = TokenBucket(rate=10, burst=2, now=lambda: now[0])
    assert [bucket.wait() for _ in range(4)] == pytest.approx([0, 0, 0.1, 0.2])
    now[0] = 1.0
    bucket.pause(5)
    assert bucket.wait() == pytest.approx(5)


# --- kill -9 -------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _service_killed_at(db_url: str, standin: MetaGraphStandIn, point: str) -> int:
    """`leadms intake serve` in a process of its own with the Meta credentials, told to
    SIGKILL itself at `point`; its return code once it did."""
    command = [
        str(Path(sys.executable).with_name("leadms")),
        "--database-url",
        db_url,
        "intake",
        "serve",
        "--port",
        str(_free_port()),
    ]
    env = {
        **os.environ,
        **_meta_env(standin),
        "LEADMS_META_APP_SECRET": SECRET,
        "LEADMS_SENDER_DIE_AT": point,
        "LEADMS_CHAT_POLL": "0.05",
    }
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        process.wait(timeout=90)  # a loaded machine takes long to start a Python process
    finally:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
    return process.returncode


def test_killed_between_the_claim_and_the_call_nothing_is_sent_until_a_person_retries(
    db, db_url, standin, webhooks_only
):
    message_id = _reply(db, _lead(db))
    assert _service_killed_at(db_url, standin, "claimed") == -9
    assert (standin.sends(), _row(db, message_id).state) == ([], "sending")
    assert _send_round(db, standin) == 0  # a restarted service resends nothing by itself
    db.write(lambda s: outbox.expire_unconfirmed(s, now=clock.now() + timedelta(minutes=3)))
    assert _row(db, message_id).state == "unconfirmed"
    db.write(lambda s: outbox.retry(s, message_id, actor=SYSTEM))
    assert _send_round(db, standin) == 1
    _until(_state_is(db, message_id, "read"))
    assert [r.key for r in standin.sends()] == [f"leadms:{message_id}:2"]  # once, a new attempt


def test_killed_between_metas_answer_and_the_commit_the_status_webhook_reconciles(
    db, db_url, standin, webhooks_only
):
    message_id = _reply(db, _lead(db))
    assert _service_killed_at(db_url, standin, "answered") == -9
    assert len(standin.sends()) == 1  # Meta took it; the process died before recording that
    _until(_state_is(db, message_id, "read"))  # the statuses carried the key
    row = _row(db, message_id)
    assert row.provider_id.startswith("wamid.") and row.sent_at is not None
    assert _send_round(db, standin) == 0
    db.write(lambda s: outbox.expire_unconfirmed(s, now=clock.now() + timedelta(minutes=3)))
    assert _row(db, message_id).state == "read"
    assert len(standin.sends()) == 1


def test_the_stand_in_answers_graph_shapes_and_checks_the_token(standin):
    wrong = httpx.post(
        f"{standin.graph_url}/{standin.phone_number_id}/messages",
        json={"messaging_product": "whatsapp", "to": WA_ID, "type": "text", "text": {"body": "x"}},
        headers={"Authorization": "Bearer nope"},
    )
    assert wrong.status_code == 401
    assert set(wrong.json()["error"]) >= {"message", "type", "code", "error_subcode", "fbtrace_id"}
    assert wrong.json()["error"]["code"] == 190
    standin.throttle_next()
    throttled = httpx.post(
        f"{standin.graph_url}/{standin.phone_number_id}/messages",
        json={"messaging_product": "whatsapp", "to": WA_ID, "type": "text", "text": {"body": "x"}},
        headers={"Authorization": f"Bearer {standin.whatsapp_token}"},
    )
    assert (throttled.status_code, throttled.json()["error"]["code"]) == (429, 130429)
    assert throttled.json()["error"]["error_data"]["details"]
