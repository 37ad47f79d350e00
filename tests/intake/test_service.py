"""The intake service over a real socket on loopback, on SQLite and PostgreSQL."""

import hashlib
import hmac
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from leadms_tui.domain.models import Inquiry, Lead
from leadms_tui.intake.service import IntakeConfig, RateLimiter, create_app

SECRET = "app-secret-for-tests"
TOKEN = "verify-me"
ORIGIN = "https://www.example.com"


@pytest.fixture
def service(db):
    """The real ASGI app under uvicorn on a free loopback port; yields its base URL."""
    config = IntakeConfig(
        verify_token=TOKEN,
        app_secret=SECRET,
        allowed_origins=(ORIGIN,),
        form_posts_per_minute=5,
        sweep_seconds=0.2,
    )
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(db, config), host="127.0.0.1", port=0, log_level="warning", lifespan="on"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 10
    while not server.started and time.time() < deadline:
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


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
    assert httpx.get(f"{service}/healthz").json() == {"status": "ok"}


def test_the_running_service_sweeps_missed_commitments(service, db):
    from datetime import UTC, datetime, timedelta

    from leadms_tui.domain.audit import SYSTEM
    from leadms_tui.domain.followups import add_followup
    from leadms_tui.domain.intake import LeadCreate, create_lead
    from leadms_tui.domain.models import FollowUp

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
    deadline = time.time() + 10
    while time.time() < deadline:
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
    assert reply.json() == {"received": 0, "created": 0, "appended": 0}
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
