"""The intake service over a real socket on loopback, on SQLite and PostgreSQL."""

import contextlib
import dataclasses
import hashlib
import hmac
import json
import logging
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, make_url, select
from typer.testing import CliRunner

from leadms_tui.bootstrap import open_database
from leadms_tui.cli import app as leadms_cli
from leadms_tui.domain.models import Inquiry, IntakeReject, Lead
from leadms_tui.intake.server import ServerLimits, server_config
from leadms_tui.intake.service import IntakeConfig, RateLimiter, create_app
from tests.conftest import _pg_admin

SECRET = "app-secret-for-tests"
TOKEN = "verify-me"
ORIGIN = "https://www.example.com"
CONFIG = IntakeConfig(
    verify_token=TOKEN,
    app_secret=SECRET,
    allowed_origins=(ORIGIN,),
    form_posts_per_minute=5,
    body_seconds=1,
    sweep_seconds=0.2,
)


@contextlib.contextmanager
def serving(app, limits: ServerLimits = ServerLimits()) -> Iterator[str]:  # noqa: B008
    """`app` under uvicorn, configured as `leadms intake serve` does, on a free loopback port."""
    config = server_config(app, host="127.0.0.1", port=0, limits=limits, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 10
    while not server.started and time.time() < deadline:
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def service(db):
    """The real ASGI app under uvicorn on a free loopback port; yields its base URL."""
    with serving(create_app(db, CONFIG)) as url:
        yield url


def _signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}


def _wa_body(message_id: str, sender: str = "447700900321", text: str = "Hi!") -> bytes:
    return json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "1",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "contacts": [{"profile": {"name": "Priya Shah"}, "wa_id": sender}],
                                "messages": [
                                    {
                                        "from": sender,
                                        "id": message_id,
                                        "timestamp": "1763900000",
                                        "type": "text",
                                        "text": {"body": text},
                                    }
                                ],
                            },
                        }
                    ],
                }
            ],
        }
    ).encode()


def _count(db, model) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_healthz(service):
    assert httpx.get(f"{service}/healthz").json() == {"status": "ok", "set_aside": 0, "lost": 0}


def test_the_running_service_sweeps_missed_commitments(service, db):
    from datetime import UTC, datetime, timedelta

    from leadms_tui.domain.audit import SYSTEM
    from leadms_tui.domain.leads.intake import LeadCreate, create_lead
    from leadms_tui.domain.models import FollowUp
    from leadms_tui.domain.work.followups import add_followup

    lead = create_lead(
        db, LeadCreate(name="Old", email="old@example.com", channel="website"), actor=SYSTEM
    )
    db.write(
        lambda s: add_followup(
            s,
            lead.lead_id,
            reason="Call",
            due_at=datetime.now(UTC) - timedelta(days=3),
            actor=SYSTEM,
        )
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with db.reading() as session:
            state = session.execute(select(FollowUp.state)).scalar_one()
        if state == "missed":
            break
        time.sleep(0.1)
    assert state == "missed"


@pytest.mark.parametrize("channel", ["whatsapp", "messenger"])
def test_verification_handshake(service, channel):
    url = f"{service}/webhooks/{channel}"
    ok = httpx.get(
        url,
        params={"hub.mode": "subscribe", "hub.verify_token": TOKEN, "hub.challenge": "1158201444"},
    )
    assert (ok.status_code, ok.text) == (200, "1158201444")
    for params in (
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": TOKEN, "hub.challenge": "1"},
        {},
    ):
        assert httpx.get(url, params=params).status_code == 403


def test_signed_delivery_creates_one_lead_even_when_delivered_three_times(service, db):
    body = _wa_body("wamid.ONE")
    replies = [
        httpx.post(f"{service}/webhooks/whatsapp", content=body, headers=_signed(body))
        for _ in range(3)
    ]
    assert [r.status_code for r in replies] == [200, 200, 200]
    assert replies[0].json()["created"] == 1 and replies[1].json()["created"] == 0
    assert (_count(db, Lead), _count(db, Inquiry)) == (1, 1)
    with db.reading() as session:
        lead = session.execute(select(Lead)).scalar_one()
    assert (lead.name, lead.phone_e164, lead.external_id) == (
        "Priya Shah",
        "+447700900321",
        "447700900321",
    )


def test_unsigned_or_wrongly_signed_posts_are_refused(service, db):
    body = _wa_body("wamid.TWO")
    url = f"{service}/webhooks/whatsapp"
    assert httpx.post(url, content=body).status_code == 403
    assert httpx.post(url, content=body, headers=_signed(body, "other")).status_code == 403
    tampered = body.replace(b"Hi!", b"Ho!")
    assert httpx.post(url, content=tampered, headers=_signed(body)).status_code == 403
    assert _count(db, Lead) == 0


def test_a_second_message_is_an_inquiry_on_the_open_lead(service, db):
    for message_id in ("wamid.A", "wamid.B"):
        body = _wa_body(message_id, text=f"message {message_id}")
        httpx.post(f"{service}/webhooks/whatsapp", content=body, headers=_signed(body))
    assert (_count(db, Lead), _count(db, Inquiry)) == (1, 2)


def test_concurrent_deliveries_from_one_sender_make_one_lead(service, db):
    bodies = [_wa_body(f"wamid.C{i}", sender="447700900999", text=f"part {i}") for i in range(6)]
    with ThreadPoolExecutor(6) as pool:
        replies = list(
            pool.map(
                lambda b: httpx.post(
                    f"{service}/webhooks/whatsapp", content=b, headers=_signed(b), timeout=30
                ),
                bodies,
            )
        )
    assert all(r.status_code == 200 for r in replies)
    assert (_count(db, Lead), _count(db, Inquiry)) == (1, 6)


def test_status_callbacks_create_nothing(service, db):
    body = json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "changes": [
                        {
                            "value": {
                                "statuses": [
                                    {
                                        "id": "wamid.X",
                                        "status": "read",
                                        "recipient_id": "447700900321",
                                    }
                                ]
                            }
                        }
                    ]
                }
            ],
        }
    ).encode()
    reply = httpx.post(f"{service}/webhooks/whatsapp", content=body, headers=_signed(body))
    assert reply.json() == {
        "received": 0,
        "created": 0,
        "appended": 0,
        "rejected": 0,
        "statuses": 1,
    }
    assert _count(db, Lead) == 0


def test_messenger_delivery(service, db):
    body = json.dumps(
        {
            "object": "page",
            "entry": [
                {
                    "id": "p",
                    "messaging": [
                        {
                            "sender": {"id": "6543210987"},
                            "recipient": {"id": "p"},
                            "timestamp": 1763900200000,
                            "message": {"mid": "m_1", "text": "Open on Sundays?"},
                        }
                    ],
                }
            ],
        }
    ).encode()
    assert (
        httpx.post(f"{service}/webhooks/messenger", content=body, headers=_signed(body)).json()[
            "created"
        ]
        == 1
    )
    with db.reading() as session:
        lead = session.execute(select(Lead)).scalar_one()
    assert (lead.channel, lead.external_id, lead.phone_e164) == ("messenger", "6543210987", None)


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/webhooks/whatsapp", b"{not json", 400),
        ("/webhooks/whatsapp", b"[1, 2]", 400),
        ("/webhooks/whatsapp", json.dumps({"object": "page", "entry": []}).encode(), 400),
        ("/webhooks/telegram", b"{}", 404),
    ],
)
def test_malformed_signed_bodies_get_4xx(service, db, path, body, status):
    assert httpx.post(f"{service}{path}", content=body, headers=_signed(body)).status_code == status
    assert _count(db, Lead) == 0


def test_form_post_urlencoded_keeps_utm_and_referrer(service, db):
    reply = httpx.post(
        f"{service}/forms/contact",
        data={
            "first_name": "Zoë",
            "last_name": "Martin",
            "phone": "+44 7700 900777",
            "email": "zoe@example.com",
            "message": "Trial pass?",
            "utm_source": "google",
            "utm_campaign": "winter",
        },
        headers={"Referer": f"{ORIGIN}/pricing"},
    )
    assert reply.json() == {"ok": True}
    with db.reading() as session:
        lead = session.execute(select(Lead)).scalar_one()
        inquiry = session.execute(select(Inquiry)).scalar_one()
    assert (lead.name, lead.channel, lead.email) == ("Zoë Martin", "website", "zoe@example.com")
    assert inquiry.attributes == {
        "utm_source": "google",
        "utm_campaign": "winter",
        "form": "contact",
        "referrer": f"{ORIGIN}/pricing",
    }


def test_form_post_json_and_multipart(service, db):
    assert (
        httpx.post(
            f"{service}/forms/demo", json={"name": "Ana", "email": "ana@example.com"}
        ).status_code
        == 200
    )
    assert (
        httpx.post(
            f"{service}/forms/demo",
            files={"x": (None, "")},
            data={"name": "Bo", "phone": "+12025550143"},
        ).status_code
        == 200
    )
    assert _count(db, Lead) == 2


def test_form_double_submit_is_one_lead(service, db):
    fields = {"name": "Ana", "email": "ana@example.com"}
    for _ in range(2):
        httpx.post(f"{service}/forms/contact", data=fields)
    assert _count(db, Lead) == 1


def test_form_honeypot_is_accepted_and_discarded(service, db):
    reply = httpx.post(
        f"{service}/forms/contact",
        data={"name": "Bot", "email": "bot@example.com", "_gotcha": "http://spam"},
    )
    assert reply.json() == {"ok": True}
    assert _count(db, Lead) == 0


def test_form_without_contact_is_422_and_writes_nothing(service, db):
    reply = httpx.post(f"{service}/forms/contact", data={"name": "Nobody"})
    assert reply.status_code == 422 and "needs a phone" in reply.json()["error"]
    assert _count(db, Lead) == 0


def test_form_redirect_only_to_allowed_origin(service):
    allowed = httpx.post(
        f"{service}/forms/contact", data={"email": "a@example.com", "_redirect": f"{ORIGIN}/thanks"}
    )
    assert (allowed.status_code, allowed.headers["location"]) == (303, f"{ORIGIN}/thanks")
    other = httpx.post(
        f"{service}/forms/contact",
        data={"email": "b@example.com", "_redirect": "https://evil.example/x"},
    )
    assert other.status_code == 200


def test_form_rate_limit_per_client(service):
    codes = [
        httpx.post(f"{service}/forms/contact", data={"email": f"r{i}@example.com"}).status_code
        for i in range(7)
    ]
    assert codes == [200] * 5 + [429, 429]


def test_cors_preflight_only_for_configured_origins(service):
    headers = {"Access-Control-Request-Method": "POST"}
    ok = httpx.options(f"{service}/forms/contact", headers={**headers, "Origin": ORIGIN})
    assert ok.headers.get("access-control-allow-origin") == ORIGIN
    bad = httpx.options(
        f"{service}/forms/contact", headers={**headers, "Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in bad.headers


def test_rate_limiter_window():
    limiter = RateLimiter(2)
    assert [limiter.allow("ip", t) for t in (0, 1, 2)] == [True, True, False]
    assert limiter.allow("ip", 61) is True


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.binary(max_size=300) | st.text(max_size=300).map(str.encode),
    path=st.sampled_from(["/webhooks/whatsapp", "/webhooks/messenger", "/forms/contact"]),
    content_type=st.sampled_from(
        [
            "application/json",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=xyz",
            "text/plain",
        ]
    ),
)
def test_fuzzed_bodies_never_500_and_never_make_a_lead_from_garbage(
    service, db, body, path, content_type
):
    headers = {**_signed(body), "Content-Type": content_type}
    reply = httpx.post(f"{service}{path}", content=body, headers=headers, timeout=30)
    assert reply.status_code < 500
    if reply.status_code == 200 and path.startswith("/webhooks"):
        assert reply.json()["created"] == 0  # random bytes never carry a whole message


# --- issue 10 §3: the service survives anything a client can send ---------------------------


@pytest.fixture
def quiet_service(db):
    """As `service`, without the sweeper: a database taken down mid-sweep is a race."""
    with serving(create_app(db, dataclasses.replace(CONFIG, sweep_seconds=0))) as url:
        yield url


def _wa_delivery(*messages: tuple[str, str, str]) -> bytes:
    """One signed-able WhatsApp notification carrying (message id, sender, text) messages."""
    return json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "1",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "contacts": [
                                    {"profile": {"name": "Priya"}, "wa_id": sender}
                                    for _, sender, _ in messages
                                ],
                                "messages": [
                                    {
                                        "from": sender,
                                        "id": message_id,
                                        "timestamp": "1763900000",
                                        "type": "text",
                                        "text": {"body": text},
                                    }
                                    for message_id, sender, text in messages
                                ],
                            },
                        }
                    ],
                }
            ],
        }
    ).encode()  # ensure_ascii: "\u0000" and lone surrogates travel as JSON escapes


def _post_signed(service: str, body: bytes, channel: str = "whatsapp") -> httpx.Response:
    return httpx.post(f"{service}/webhooks/{channel}", content=body, headers=_signed(body))


def _rejects(db) -> list[IntakeReject]:
    with db.reading() as session:
        return list(session.execute(select(IntakeReject).order_by(IntakeReject.id)).scalars())


def _take_down(db) -> None:
    """Make the database refuse: PostgreSQL stops taking connections and ends the open ones
    (the service's pool still holds them); a SQLite file is overwritten with junk."""
    url = make_url(db.url)
    if db.is_sqlite:
        db.engine.dispose()
        for suffix in ("-wal", "-shm"):
            Path(f"{url.database}{suffix}").unlink(missing_ok=True)
        Path(url.database).write_bytes(b"this is not a database\n" * 512)
        return
    with _pg_admin() as admin:
        admin.execute(f'ALTER DATABASE "{url.database}" ALLOW_CONNECTIONS false')
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
            (url.database,),
        )


@pytest.mark.parametrize("bad", ["\x00", "\ud800"])
@pytest.mark.parametrize("field", ["name", "message", "utm_source", "referrer"])
def test_nul_or_lone_surrogate_in_a_form_field_keeps_the_lead(service, db, field, bad):
    fields = {"name": "Ana", "email": "ana@example.com", "message": "Hi", field: f"a{bad}b"}
    # As JSON escapes (a lone surrogate has no UTF-8 form, so only JSON can carry it).
    reply = httpx.post(
        f"{service}/forms/contact",
        content=json.dumps(fields).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert reply.status_code == 200, reply.text
    assert _count(db, Lead) == 1


def test_nul_in_a_form_encoded_post_and_in_the_form_slug_keeps_the_lead(service, db):
    reply = httpx.post(
        f"{service}/forms/con%00tact",
        content=b"name=A%00na&email=ana%40example.com&message=Hi%00there",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert reply.status_code == 200, reply.text
    with db.reading() as session:
        inquiry = session.execute(select(Inquiry)).scalar_one()
    assert "\x00" not in inquiry.attributes["form"] and "\x00" not in (inquiry.message or "")


@pytest.mark.parametrize("bad", ["\x00", "\ud800"])
def test_nul_in_email_or_phone_is_never_a_500(service, db, bad):
    """In an email: refused (no address holds one), nothing stored. In a phone: the lead is
    kept with the character replaced and the number flagged unusable."""

    def post(field):
        fields = {"name": "Ana", "email": "ana@example.com", field: f"1{bad}2"}
        return httpx.post(
            f"{service}/forms/contact",
            content=json.dumps(fields).encode(),
            headers={"Content-Type": "application/json"},
        )

    refused = post("email")
    assert refused.status_code == 422 and refused.json()["error"].startswith("invalid email")
    with db.reading() as session:
        assert session.execute(select(Lead)).first() is None
    kept = post("phone")
    assert kept.status_code == 200, kept.text
    with db.reading() as session:
        lead = session.execute(select(Lead)).scalar_one()
    assert (lead.email, lead.phone_raw, lead.phone_e164, lead.phone_flag) == (
        "ana@example.com",
        "1\ufffd2",
        None,
        "unusable",
    )


@pytest.mark.parametrize("bad", ["\u0000", "\ud800"])
def test_a_bad_character_in_one_message_never_blocks_the_others(service, db, bad):
    body = _wa_delivery(
        ("wamid.N1", "447700900001", "first"),
        ("wamid.N2", "447700900002", f"nul{bad}here"),
        ("wamid.N3", "447700900003", "third"),
    )
    for _ in range(2):  # Meta's retry is a no-op, not a second failure
        reply = _post_signed(service, body)
        assert reply.status_code == 200, reply.text
    with db.reading() as session:
        senders = set(session.execute(select(Lead.external_id)).scalars())
    assert {"447700900001", "447700900003"} <= senders
    # The middle message is a lead (cleaned) or kept as a reject: never lost.
    assert "447700900002" in senders or len(_rejects(db)) == 1


def test_a_bad_message_is_set_aside_counted_and_kept(service, db):
    long_sender = "9" * 200  # not a Meta wa_id: on PostgreSQL it overflowed the column (500)
    body = _wa_delivery(
        ("wamid.L1", "447700900001", "first"),
        ("wamid.L2", long_sender, "who am I?"),
        ("wamid.L3", "447700900003", "third"),
    )
    reply = _post_signed(service, body)
    assert reply.json() == {
        "received": 3,
        "created": 2,
        "appended": 0,
        "rejected": 1,
        "statuses": 0,
    }
    assert _post_signed(service, body).status_code == 200  # re-delivered: still fine
    assert _count(db, Lead) == 2
    first = _rejects(db)[0]
    assert first.channel == "whatsapp" and "sender id longer than 128" in first.reason
    kept = json.loads(first.payload)  # the message as it came, a delivery of its own
    assert kept["entry"][0]["changes"][0]["value"]["messages"][0]["from"] == long_sender
    assert httpx.get(f"{service}/healthz").json()["set_aside"] == 2


def test_a_messenger_sender_id_over_128_characters_is_refused(service, db):
    body = json.dumps(
        {
            "object": "page",
            "entry": [
                {
                    "messaging": [
                        {"sender": {"id": f"x{i}" * 100}, "message": {"mid": f"m{i}", "text": "hi"}}
                        for i in range(3)
                    ]
                }
            ],
        }
    ).encode()
    assert _post_signed(service, body, "messenger").json()["rejected"] == 3
    assert _count(db, Lead) == 0 and len(_rejects(db)) == 3


def test_an_unexpected_failure_on_one_message_is_set_aside(service, db, monkeypatch):
    import leadms_tui.intake.service as module

    real = module.receive_message

    def fails_on_boom(session, data, **kwargs):
        if data.message == "boom":
            raise RuntimeError("a bug")
        return real(session, data, **kwargs)

    monkeypatch.setattr(module, "receive_message", fails_on_boom)
    body = _wa_delivery(("wamid.B1", "447700900001", "boom"), ("wamid.B2", "447700900002", "fine"))
    reply = _post_signed(service, body)
    assert reply.json() == {
        "received": 2,
        "created": 1,
        "appended": 0,
        "rejected": 1,
        "statuses": 0,
    }
    assert [r.reason for r in _rejects(db)] == ["could not be stored (RuntimeError)"]


def test_when_even_the_reject_cannot_be_stored_it_is_counted_not_a_500(service, db, monkeypatch):
    import leadms_tui.intake.service as module

    def broken(**fields):
        raise RuntimeError("cannot build a reject")

    monkeypatch.setattr(module, "IntakeReject", broken)
    body = _wa_delivery(("wamid.R1", "9" * 200, "x"), ("wamid.R2", "447700900002", "fine"))
    reply = _post_signed(service, body)
    assert reply.status_code == 200 and reply.json()["created"] == 1
    assert httpx.get(f"{service}/healthz").json()["lost"] == 1


def test_a_signed_body_that_cannot_be_split_is_kept_raw(service, db):
    body = b'{"object": "whatsapp_business_account", "entry": \x00 [\xff'
    assert _post_signed(service, body).status_code == 400
    (reject,) = _rejects(db)
    assert reject.payload.endswith('"entry": \\u0000 [\\xff')  # escaped, nothing lost
    assert _post_signed(service, b"[1, 2]").status_code == 400
    assert len(_rejects(db)) == 2


def test_unsigned_garbage_is_not_kept(service, db):
    assert httpx.post(f"{service}/webhooks/whatsapp", content=b"\x00" * 100).status_code == 403
    assert _rejects(db) == []


def _form_body(kind: str, size: int) -> tuple[bytes, str]:
    """A body of `size` bytes or more, of three fields each under Starlette's part limit."""
    part = "a" * (size // 3)
    if kind == "json":
        return json.dumps({"name": part, "message": part, "email": "a@example.com"}).encode(), (
            "application/json"
        )
    if kind == "urlencoded":
        return f"name={part}&message={part}&email=a%40example.com".encode(), (
            "application/x-www-form-urlencoded"
        )
    chunks = [
        f'--xyz\r\nContent-Disposition: form-data; name="{n}"\r\n\r\n{v}\r\n'
        for n, v in (("name", part), ("message", part), ("email", "a@example.com"))
    ]
    return ("".join(chunks) + "--xyz--\r\n").encode(), "multipart/form-data; boundary=xyz"


@pytest.mark.parametrize("kind", ["json", "urlencoded", "multipart"])
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_every_body_type_is_capped_before_parsing(service, db, kind, chunked):
    body, content_type = _form_body(kind, 2_700_000)
    content = iter([body[i : i + 65536] for i in range(0, len(body), 65536)]) if chunked else body
    reply = httpx.post(
        f"{service}/forms/contact",
        content=content,
        headers={"Content-Type": content_type},
        timeout=30,
    )
    assert reply.status_code == 413
    assert _count(db, Lead) == 0


def _raw(base_url: str, request: bytes, *, timeout: float = 5) -> bytes:
    """Send raw bytes and read the answer until the server closes or `timeout` passes."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(request)
        answer = b""
        with contextlib.suppress(TimeoutError):
            while chunk := sock.recv(65536):
                answer += chunk
                if b"\r\n\r\n" in answer:
                    break
        return answer


def test_an_oversized_content_length_is_refused_unread(service):
    started = time.monotonic()
    answer = _raw(
        service,
        b"POST /forms/contact HTTP/1.1\r\nHost: x\r\nContent-Type: "
        b"application/x-www-form-urlencoded\r\nContent-Length: 97000000\r\n\r\nname=a",
    )
    assert answer.startswith(b"HTTP/1.1 413") and time.monotonic() - started < 3


def test_a_body_sent_too_slowly_is_cut_off(service):
    answer = _raw(
        service,
        b"POST /forms/contact HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100\r\n\r\n{",
    )
    assert answer.startswith(b"HTTP/1.1 408")  # CONFIG.body_seconds = 1


@pytest.mark.parametrize(
    "body",
    [b"[" * 1000 + b"]" * 1000, b'{"name": ' + b"1" * 5000 + b"}", b"[" * 70 + b"]" * 70],
    ids=["1000-deep", "5000-digits", "70-deep"],
)
def test_deep_json_and_huge_numbers_are_400(service, db, body):
    form = httpx.post(
        f"{service}/forms/contact", content=body, headers={"Content-Type": "application/json"}
    )
    assert form.status_code == 400
    assert _post_signed(service, body).status_code == 400
    assert _count(db, Lead) == 0


def test_healthz_queries_and_answers_503_without_naming_the_database(quiet_service, db):
    assert httpx.get(f"{quiet_service}/healthz").status_code == 200
    _take_down(db)
    reply = httpx.get(f"{quiet_service}/healthz", timeout=30)
    assert reply.status_code == 503
    assert reply.json() == {"status": "unavailable", "error": "database unavailable"}
    url = make_url(db.url)
    assert url.database.rsplit("/", 1)[-1] not in reply.text and "127.0.0.1" not in reply.text


def test_deliveries_and_forms_with_the_database_down_are_503(quiet_service, db):
    _take_down(db)
    body = _wa_delivery(("wamid.D1", "447700900001", "hi"))
    delivery = httpx.post(
        f"{quiet_service}/webhooks/whatsapp", content=body, headers=_signed(body), timeout=30
    )
    assert delivery.status_code == 503
    form = httpx.post(f"{quiet_service}/forms/contact", data={"email": "a@example.com"}, timeout=30)
    assert form.status_code == 503


def test_rate_limiter_state_is_bounded_and_expires():
    limiter = RateLimiter(2, max_keys=100)
    for i in range(1000):  # a stream of new addresses
        limiter.allow(f"10.0.{i // 256}.{i % 256}", now=i * 0.01)
    assert len(limiter.hits) == 100
    assert limiter.allow("10.0.3.231", now=10.0) is True  # still limited as before
    limiter.allow("late", now=200)  # every other window is over a minute old
    assert list(limiter.hits) == ["late"]


def test_a_cross_origin_post_from_a_foreign_origin_is_403_and_stores_nothing(service, db):
    fields = {"name": "Ana", "email": "ana@example.com"}
    foreign = httpx.post(
        f"{service}/forms/contact", data=fields, headers={"Origin": "https://evil.example"}
    )
    assert foreign.status_code == 403 and _count(db, Lead) == 0
    null_origin = httpx.post(f"{service}/forms/contact", data=fields, headers={"Origin": "null"})
    assert null_origin.status_code == 403 and _count(db, Lead) == 0
    ours = httpx.post(f"{service}/forms/contact", data=fields, headers={"Origin": ORIGIN})
    assert ours.status_code == 200 and _count(db, Lead) == 1
    server_to_server = httpx.post(
        f"{service}/forms/contact", data={"name": "Bo", "email": "bo@example.com"}
    )
    assert server_to_server.status_code == 200 and _count(db, Lead) == 2


def test_verification_only_for_whatsapp_and_messenger(service):
    params = {"hub.mode": "subscribe", "hub.verify_token": TOKEN, "hub.challenge": "42"}
    for channel in ("telegram", "anything", "WhatsApp"):
        assert httpx.get(f"{service}/webhooks/{channel}", params=params).status_code == 404


def test_a_redirect_that_is_no_url_is_ignored(service, db):
    reply = httpx.post(
        f"{service}/forms/contact", data={"email": "a@example.com", "_redirect": "http://["}
    )
    assert reply.status_code == 200


# --- the server: connections, slow clients, log storms (no database involved) ---------------

SMALL = ServerLimits(max_connections=8, head_seconds=0.5, keep_alive_seconds=1)


@pytest.fixture
def small_server(sqlite_url):
    database = open_database(sqlite_url)
    with serving(create_app(database, CONFIG), SMALL) as url:
        yield url
    database.dispose()


def _connect(base_url: str) -> socket.socket:
    host, port = base_url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=5)


def _closed_within(sock: socket.socket, seconds: float) -> bool:
    sock.settimeout(seconds)
    try:
        return sock.recv(1) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def test_idle_and_slow_connections_are_closed(small_server):
    with _connect(small_server) as idle:
        assert _closed_within(idle, 3)
    with _connect(small_server) as slow:  # slowloris: headers a line at a time, never done
        slow.sendall(b"GET /healthz HTTP/1.1\r\n")
        started = time.monotonic()
        with contextlib.suppress(OSError):
            while time.monotonic() - started < 3:
                slow.sendall(b"X-a: b\r\n")
                time.sleep(0.1)
        assert time.monotonic() - started < 3
        assert _closed_within(slow, 1)


def test_connections_past_the_cap_are_shut_and_healthz_answers_after(small_server):
    sockets = [_connect(small_server) for _ in range(40)]
    try:
        shut_at_once = sum(_closed_within(s, 0.05) for s in sockets)
        assert shut_at_once >= 40 - SMALL.max_connections
    finally:
        for s in sockets:
            s.close()
    time.sleep(SMALL.head_seconds)
    assert httpx.get(f"{small_server}/healthz").status_code == 200


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_a_storm_of_bad_requests_costs_a_few_log_lines(small_server):
    seen = _Records()
    logger = logging.getLogger("uvicorn.error")
    logger.addHandler(seen)
    try:
        for _ in range(60):
            _raw(small_server, b"NOT HTTP AT ALL\r\n\r\n", timeout=1)
    finally:
        logger.removeHandler(seen)
    invalid = [r for r in seen.records if "Invalid HTTP request" in r.getMessage()]
    assert len(invalid) <= 10


# --- `leadms intake serve` --------------------------------------------------------------------

runner = CliRunner()


@pytest.mark.parametrize("port", ["99999", "0", "-1"])
def test_serve_refuses_a_port_out_of_range_in_one_line(sqlite_url, port):
    result = runner.invoke(
        leadms_cli, ["--database-url", sqlite_url, "intake", "serve", "--port", port]
    )
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "--port" in result.stderr


def test_serve_on_a_port_in_use_is_one_line_and_exit_1(sqlite_url):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = runner.invoke(
            leadms_cli, ["--database-url", sqlite_url, "intake", "serve", "--port", port]
        )
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "in use" in result.stderr


def test_serve_runs_with_its_limits(sqlite_url):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [
        str(Path(sys.executable).with_name("leadms")),
        "--database-url",
        sqlite_url,
        "intake",
        "serve",
        "--port",
        str(port),
        "--head-timeout",
        "0.5",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90  # a loaded machine takes long to start a Python process
        while time.time() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/healthz", timeout=30).status_code == 200:
                    break
            time.sleep(0.1)
        assert httpx.get(f"{base}/healthz").json()["status"] == "ok"
        with _connect(base) as idle:
            assert _closed_within(idle, 3)
    finally:
        process.terminate()
        process.wait(timeout=15)
