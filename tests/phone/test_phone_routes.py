"""Twilio status callbacks and the signed phone webhook on the real intake service (uvicorn on
loopback), on both engines: signed calls stored with duration and recording, forged ones refused
with 403 and nothing stored, and whatever a client sends never a 5xx and never a stored call."""

import json
from datetime import UTC, datetime

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import PhoneCall
from leadms_tui.intake.phone_routes import PhoneConfig, webhook_signature
from leadms_tui.intake.service import IntakeConfig, create_app
from leadms_tui.standins.twilio import TwilioCaller
from tests.intake.test_service import serving

TOKEN = "twilio-auth-token"
SECRET = "dialer-shared-secret"
PUBLIC = "https://crm.example.com"
OFFICE = "+442071234567"  # the Twilio number that rings ana (201)
PHONE = {
    "twilio_auth_token": TOKEN,
    "twilio_extensions": ((OFFICE, "201"),),
    "webhook_secret": SECRET,
}
AT = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def service(db):
    app = create_app(db, IntakeConfig(sweep_seconds=0))
    app.state.phone = PhoneConfig(**PHONE)
    with serving(app) as url:
        yield url, app


@pytest.fixture
def lead(db, phones):
    data = LeadCreate(name="Nora", phone="07700 900123", channel="website")
    return create_lead(db, data, actor=SYSTEM, now=AT).lead_id


def _calls(db) -> list[PhoneCall]:
    with db.reading() as session:
        return list(session.execute(select(PhoneCall).order_by(PhoneCall.id)).scalars())


def _count(db) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(PhoneCall))


def test_a_signed_twilio_call_is_stored_with_duration_and_recording(db, service, lead, phones):
    url, _ = service
    twilio = TwilioCaller(f"{url}/phone/twilio", TOKEN)
    rec = "https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE1"
    callbacks = list(twilio.call("CA" + "1" * 32, caller="+447700900123", called=OFFICE,
                                 start=AT, talk_seconds=73, recording_url=rec))  # fmt: skip
    for params in [callbacks[0], callbacks[3], callbacks[1], callbacks[2], callbacks[3]]:
        answer = twilio.post(params)  # out of order, the last one twice
        assert answer.status == 200, answer.body
    [call] = _calls(db)
    assert (call.provider, call.direction, call.lead_id, call.user_id) == (
        "twilio", "inbound", lead, phones["ana"].id
    )  # fmt: skip
    assert (call.state, call.end_status, call.duration_seconds) == ("ended", "answered", 73)
    assert call.recording_url == rec and call.remote_e164 == "+447700900123"
    assert call.answered_at == AT.replace(second=5) and call.ended_at == AT.replace(
        minute=1, second=18
    )


def test_a_reps_twilio_client_calling_out_and_a_busy_line(db, service, lead, phones):
    url, _ = service
    twilio = TwilioCaller(f"{url}/phone/twilio", TOKEN)
    for params in twilio.call("CA" + "2" * 32, caller="client:202", called="+447700900123",
                              start=AT, answered_after=None, end="busy"):  # fmt: skip
        assert twilio.post(params).status == 200
    [call] = _calls(db)
    assert (call.direction, call.user_id, call.lead_id) == ("outbound", phones["bruno"].id, lead)
    assert (call.end_status, call.duration_seconds, call.answered_at) == ("busy", None, None)


def test_forged_twilio_callbacks_are_refused_and_store_nothing(db, service, lead):
    url, app = service
    twilio = TwilioCaller(f"{url}/phone/twilio", TOKEN)
    params = next(twilio.call("CA" + "3" * 32, caller="+447700900123", called=OFFICE, start=AT))
    assert twilio.post(params, token="not-the-token").status == 403
    signed_for_other = TwilioCaller(f"{url}/phone/twilio", TOKEN, public_url="https://evil.example")
    assert signed_for_other.post(params).status == 403  # signed for another URL
    tampered = httpx.post(
        f"{url}/phone/twilio",
        data=params | {"From": "+447700900999"},
        headers={"X-Twilio-Signature": twilio_signature_of(twilio, params)},
    )
    assert tampered.status_code == 403
    assert httpx.post(f"{url}/phone/twilio", data=params).status_code == 403  # unsigned
    app.state.phone = PhoneConfig()
    assert twilio.post(params).status == 403  # not configured: nothing is taken
    assert _count(db) == 0


def twilio_signature_of(twilio: TwilioCaller, params: dict[str, str]) -> str:
    from leadms_tui.intake.phone_routes import twilio_signature

    return twilio_signature(twilio.auth_token, twilio.url, sorted(params.items()))


def test_behind_a_proxy_the_public_url_is_what_is_signed(db, service, lead):
    url, app = service
    app.state.phone = PhoneConfig(**PHONE, public_url=PUBLIC)
    params = next(TwilioCaller("", TOKEN).call("CA" + "4" * 32, caller="+447700900123",
                                               called=OFFICE, start=AT))  # fmt: skip
    local = TwilioCaller(f"{url}/phone/twilio", TOKEN)
    assert local.post(params).status == 403  # signed for the loopback URL Twilio never calls
    public = TwilioCaller(f"{url}/phone/twilio", TOKEN, public_url=f"{PUBLIC}/phone/twilio")
    assert public.post(params).status == 200
    assert _count(db) == 1


EXAMPLE = {
    "call_id": "dialer-8841",
    "state": "ended",
    "at": "2026-11-25T10:01:06Z",
    "direction": "outbound",
    "extension": "201",
    "remote_number": "+44 7700 900123",
    "duration_seconds": 60,
    "end_status": "answered",
    "recording_url": "https://dialer.example/rec/8841.mp3",
}


def _post_event(url: str, document, secret: str = SECRET) -> httpx.Response:
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    headers = {"Content-Type": "application/json",
               "X-LeadMS-Signature": webhook_signature(secret, body)}  # fmt: skip
    return httpx.post(f"{url}/phone/events", content=body, headers=headers)


def test_the_signed_webhook_stores_the_readmes_example(db, service, lead, phones):
    url, _ = service
    answer = _post_event(url, EXAMPLE)
    assert answer.status_code == 200, answer.text
    assert answer.json()["lead_id"] == lead
    assert _post_event(url, EXAMPLE).json()["changed"] is False  # a repeat changes nothing
    [call] = _calls(db)
    assert (call.provider, call.provider_call_id, call.user_id, call.duration_seconds) == (
        "webhook", "dialer-8841", phones["ana"].id, 60
    )  # fmt: skip
    assert call.ended_at == datetime(2026, 11, 25, 10, 1, 6, tzinfo=UTC)


def test_forged_or_malformed_webhook_events_store_nothing(db, service, lead):
    url, _ = service
    assert _post_event(url, EXAMPLE, secret="guessed").status_code == 403
    unsigned = httpx.post(f"{url}/phone/events", json=EXAMPLE)
    assert unsigned.status_code == 403
    for broken, reason in [
        (EXAMPLE | {"state": "talking"}, "state: one of"),
        (EXAMPLE | {"duration_seconds": 1.5}, "duration_seconds"),
        (EXAMPLE | {"at": "2026-11-25 10:00"}, "at: an ISO 8601"),
        (EXAMPLE | {"at": "1970-01-01T00:00:00Z"}, "at"),
        (EXAMPLE | {"provider": "Dialer One"}, "provider"),
        (EXAMPLE | {"recording_url": "javascript:alert(1)"}, "recording_url"),
        ({k: v for k, v in EXAMPLE.items() if k != "call_id"}, "call_id"),
        ([EXAMPLE], "a JSON object"),
    ]:
        answer = _post_event(url, broken)
        assert answer.status_code == 400 and reason in answer.json()["error"], (broken, answer.text)
    nobody = EXAMPLE | {"extension": "999", "remote_number": "anonymous"}
    assert _post_event(url, nobody).status_code == 422
    assert _count(db) == 0


# --- fuzz -----------------------------------------------------------------------------------

NASTY = st.lists(
    st.sampled_from(["\x00", "\ud800", "\u202e", "\r\n", "%", "&", "=", "+", "☎", "client:"])
    | st.text(max_size=10),
    max_size=5,
).map("".join)
TWILIO_KEYS = ["CallSid", "From", "To", "Direction", "CallStatus", "CallDuration",
               "RecordingUrl", "Timestamp", "Other"]  # fmt: skip
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | NASTY,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(NASTY, inner, max_size=3),
    max_leaves=8,
)


@FUZZ
@given(
    params=st.dictionaries(st.sampled_from(TWILIO_KEYS) | NASTY, NASTY | st.sampled_from(
        ["completed", "busy", "no-answer", "+447700900123", "client:201", "0", "-1",
         "99999999999999999999", "https://x.example/r"]), max_size=8),
    raw=st.binary(max_size=200),
    sign=st.booleans(),
)  # fmt: skip
def test_twilio_fuzz_never_5xx_and_unsigned_never_stores(db, service, params, raw, sign):
    url, _ = service
    before = _count(db)
    clean = {k: v for k, v in params.items() if _encodable(k) and _encodable(v)}
    twilio = TwilioCaller(f"{url}/phone/twilio", TOKEN)
    answer = twilio.post(clean, token=None if sign else "forged")
    assert answer.status < 500, answer.body
    if not sign:
        assert answer.status == 403
    garbage = httpx.post(f"{url}/phone/twilio", content=raw,
                         headers={"X-Twilio-Signature": "AAAA", "Content-Type":
                                  "application/x-www-form-urlencoded"})  # fmt: skip
    assert garbage.status_code in (400, 403)
    if not sign:
        assert _count(db) == before


@FUZZ
@given(
    document=st.dictionaries(
        st.sampled_from([*list(EXAMPLE), "provider"]) | NASTY, JSON_VALUES, max_size=10
    ).map(lambda d: EXAMPLE | d)
    | JSON_VALUES,
    raw=st.binary(max_size=200),
    sign=st.booleans(),
)
def test_webhook_fuzz_never_5xx_and_unsigned_never_stores(db, service, document, raw, sign):
    url, _ = service
    before = _count(db)
    try:
        body = json.dumps(document).encode()
    except (ValueError, UnicodeEncodeError):
        body = raw
    answer = _post_event(url, body, secret=SECRET if sign else "forged")
    assert answer.status_code < 500, answer.text
    if not sign:
        assert answer.status_code == 403 and _count(db) == before
    garbage = _post_event(url, raw, secret="forged")
    assert garbage.status_code == 403


def _encodable(value: str) -> bool:
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True
