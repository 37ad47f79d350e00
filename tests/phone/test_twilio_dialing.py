"""Click to call through Twilio's calls API (issue 29), on both engines: the intake service's
dialer asks the Twilio stand-in for the call (`POST .../Calls.json`, form-encoded, Basic auth)
and the stand-in's signed status callbacks come back into the real intake service, so the call
lands on the lead's timeline. 429/5xx are asked again with backoff, a refusal fails the request
in words told to the rep, an answer that never came is never asked again, and the service
killed with SIGKILL between the claim and the call, or between Twilio's answer and its commit,
never originates a request twice."""

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from leadms_tui.domain import clock
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import AuditEvent, DialRequest, Notification, PhoneCall
from leadms_tui.domain.phone.dialing import expire_dialing, request_dial
from leadms_tui.intake.dialer import Dialer, DialerConfig
from leadms_tui.intake.phone_routes import PhoneConfig
from leadms_tui.intake.service import IntakeConfig, create_app
from leadms_tui.intake.twilio_client import TwilioClient, TwilioConfig
from leadms_tui.standins.twilio import TwilioApiStandIn
from tests.intake.test_chat_sending import _free_port
from tests.intake.test_service import serving

CALLER_ID = "+442071234567"
LEAD_PHONE = "+447700900123"


@pytest.fixture
def standin() -> Iterator[TwilioApiStandIn]:
    with TwilioApiStandIn() as running:
        yield running


@pytest.fixture
def service(db, standin) -> Iterator[str]:
    """The intake service taking Twilio callbacks (signed with the stand-in's token); it does
    not dial itself: each test runs the dialer's rounds."""
    app = create_app(db, IntakeConfig(sweep_seconds=0))
    app.state.phone = PhoneConfig(twilio_auth_token=standin.auth_token)
    with serving(app) as url:
        yield url
        standin.idle()


@pytest.fixture
def lead(db, phones) -> int:
    data = LeadCreate(name="Nora", phone="07700 900123", channel="website")
    return create_lead(db, data, actor=SYSTEM).lead_id


def _twilio(standin: TwilioApiStandIn, public_url: str, **more) -> TwilioConfig:
    given = {
        "account_sid": standin.account_sid,
        "auth_token": standin.auth_token,
        "caller_id": CALLER_ID,
        "public_url": public_url,
        "api_url": standin.api_url,
    }
    return TwilioConfig(**(given | more))  # fmt: skip


def _round(db, config: TwilioConfig) -> int:
    """One round of the dialer in this process (as the service, or a restarted one, runs)."""

    async def once() -> int:
        async with TwilioClient(config) as client:
            return await Dialer(db, client, DialerConfig(first_backoff=0.01)).run_once()

    return asyncio.run(once())


def _ask(db, phones, lead: int) -> int:
    return db.write(lambda s: request_dial(s, lead, actor=phones["ana"].actor).id)


def _request(db, request_id: int) -> DialRequest:
    with db.reading() as session:
        return session.get(DialRequest, request_id)


def _told(db) -> list[str]:
    with db.reading() as session:
        return list(session.execute(select(Notification.message)).scalars())


def _calls(db) -> list[PhoneCall]:
    with db.reading() as session:
        return list(session.execute(select(PhoneCall)).scalars())


def _until(check: Callable[[], object], seconds: float = 20) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.05)
    raise AssertionError(f"not within {seconds} s")


def test_the_call_rings_the_rep_dials_the_lead_and_lands_on_the_timeline(
    db, standin, service, lead, phones
):
    request_id = _ask(db, phones, lead)
    assert _round(db, _twilio(standin, service)) == 1
    [call] = standin.calls
    assert call.path == f"/2010-04-01/Accounts/{standin.account_sid}/Calls.json"
    assert call.authorization.startswith("Basic ")
    assert (call.get("To"), call.get("From")) == ("client:201", CALLER_ID)
    assert call.get("StatusCallback") == f"{service}/phone/twilio?dial={request_id}"
    assert call.all("StatusCallbackEvent") == ["initiated", "ringing", "answered", "completed"]
    assert f">{LEAD_PHONE}</Number>" in call.get("Twiml")
    row = _request(db, request_id)
    assert row.state == "sent" and row.detail.startswith("Twilio call CA")
    assert standin.idle() and {status for _, status in standin.callback_answers} == {200}
    [stored] = _until(lambda: [c for c in _calls(db) if c.state == "ended"])
    assert (stored.provider, stored.direction, stored.lead_id, stored.user_id) == (
        "twilio", "outbound", lead, phones["ana"].id
    )  # fmt: skip
    assert (stored.end_status, stored.duration_seconds) == ("answered", 42)
    assert _round(db, _twilio(standin, service)) == 0 and len(standin.calls) == 1
    assert _told(db) == []
    with db.reading() as session:
        actions = set(session.execute(select(AuditEvent.action)).scalars())
    assert {"dial.request", "dial.sent"} <= actions


def test_a_sip_rep_address_and_a_busy_lead(db, standin, service, lead, phones):
    standin.lead_status = "busy"
    _ask(db, phones, lead)
    config = _twilio(standin, service, rep_address="sip:{extension}@acme.sip.twilio.com")
    assert _round(db, config) == 1
    assert standin.calls[0].get("To") == "sip:201@acme.sip.twilio.com"
    assert standin.idle()
    [stored] = _until(lambda: [c for c in _calls(db) if c.state == "ended"])
    assert (stored.end_status, stored.user_id, stored.lead_id) == ("busy", phones["ana"].id, lead)


def test_429_and_5xx_are_asked_again_with_backoff_and_the_call_made_once(
    db, standin, service, lead, phones
):
    standin.fail_next(429)
    standin.fail_next(503)
    request_id = _ask(db, phones, lead)
    assert _round(db, _twilio(standin, service)) == 1
    assert len(standin.calls) == 3  # two refusals that created nothing, then the call
    assert _request(db, request_id).state == "sent"
    assert standin.idle()
    _until(lambda: [c for c in _calls(db) if c.state == "ended"])
    assert len(_calls(db)) == 1


def test_twilio_busy_every_time_fails_in_words(db, standin, service, lead, phones):
    standin.fail_next(500, times=5)
    request_id = _ask(db, phones, lead)
    _round(db, _twilio(standin, service))
    row = _request(db, request_id)
    assert len(standin.calls) == 5 and row.state == "failed"
    assert "too busy" in row.detail
    [told] = _told(db)
    assert told.startswith("Click to call LEAD-") and "press d again" in told


@pytest.mark.parametrize(
    ("fail", "words"),
    [
        (401, "credentials"),
        (21215, "geo permissions"),
    ],
)
def test_a_refusal_is_not_asked_again_and_the_rep_reads_why(
    db, standin, service, lead, phones, fail, words
):
    if fail == 401:
        standin.fail_next(401)
    else:
        standin.refuse_next(fail)
    request_id = _ask(db, phones, lead)
    _round(db, _twilio(standin, service))
    row = _request(db, request_id)
    assert len(standin.calls) == 1 and row.state == "failed" and words in row.detail
    [told] = _told(db)
    assert words in told
    with db.reading() as session:
        notified = session.execute(select(Notification.user_id)).scalar_one()
    assert notified == phones["ana"].id


def test_wrong_credentials_are_refused_by_the_stand_in(db, standin, service, lead, phones):
    request_id = _ask(db, phones, lead)
    _round(db, _twilio(standin, service, auth_token="not-the-token"))
    assert "credentials" in _request(db, request_id).detail
    assert standin.calls and standin.idle() and standin.callback_answers == []


def test_the_reps_phone_not_answering_fails_the_request_and_dials_no_one(
    db, standin, service, lead, phones
):
    standin.rep_answers = False
    request_id = _ask(db, phones, lead)
    _round(db, _twilio(standin, service))
    assert standin.idle()
    row = _until(lambda: (r := _request(db, request_id)).state == "failed" and r)
    assert row.detail == "your phone did not answer"
    assert _calls(db) == [] and "your phone did not answer" in _told(db)[0]


def test_an_answer_that_never_comes_is_never_asked_again(db, standin, service, lead, phones):
    standin.die_next()  # read the request, close the socket: no call made
    request_id = _ask(db, phones, lead)
    config = _twilio(standin, service)
    assert _round(db, config) == 1
    assert [_round(db, config) for _ in range(3)] == [0, 0, 0]
    assert (len(standin.calls), _request(db, request_id).state) == (1, "dialing")
    later = clock.now() + timedelta(minutes=3)
    assert db.write(lambda s: expire_dialing(s, now=later)) == 1
    row = _request(db, request_id)
    assert row.state == "failed" and "not confirmed" in row.detail
    assert len(_told(db)) == 1
    assert db.write(lambda s: expire_dialing(s, now=later)) == 0  # told once


def test_a_lost_answer_is_confirmed_by_the_reps_leg_callback(db, standin, service, lead, phones):
    standin.die_next(deliver=True)  # Twilio made the call; its answer never arrived
    request_id = _ask(db, phones, lead)
    _round(db, _twilio(standin, service))
    assert standin.idle()
    row = _until(lambda: (r := _request(db, request_id)).state == "sent" and r)
    assert row.detail.startswith("Twilio call CA")
    _until(lambda: [c for c in _calls(db) if c.state == "ended"])
    assert len(standin.calls) == 1 and _told(db) == []


def test_a_forged_reps_leg_callback_moves_nothing(db, standin, service, lead, phones):
    from leadms_tui.standins.twilio import TwilioCaller

    request_id = _ask(db, phones, lead)
    caller = TwilioCaller(f"{service}/phone/twilio?dial={request_id}", standin.auth_token)
    params = {"CallSid": "CA" + "9" * 32, "CallStatus": "no-answer"}
    assert caller.post(params, token="forged").status == 403
    assert _request(db, request_id).state == "pending"
    assert caller.post({**params, "CallStatus": "nonsense"}).status == 400


def test_the_service_runs_the_dialer_only_when_twilio_is_configured():
    env = {"LEADMS_TWILIO_ACCOUNT_SID": "AC1", "LEADMS_TWILIO_AUTH_TOKEN": "t",
           "LEADMS_TWILIO_CALLER_ID": CALLER_ID}  # fmt: skip
    assert not IntakeConfig.from_env(env).twilio.dials  # no public URL for the callbacks
    config = IntakeConfig.from_env(env | {"LEADMS_PUBLIC_URL": "https://crm.example.com/"})
    assert config.twilio.dials and config.twilio.rep("201") == "client:201"
    assert "t" not in repr(config.twilio).split("auth_token=")[1]


# --- kill -9 -------------------------------------------------------------------------------------


def _service_killed_at(db_url: str, standin: TwilioApiStandIn, public: str, point: str) -> int:
    """`leadms intake serve` in a process of its own with the Twilio credentials, told to
    SIGKILL itself at `point`; its return code once it did."""
    command = [str(Path(sys.executable).with_name("leadms")), "--database-url", db_url,
               "intake", "serve", "--port", str(_free_port())]  # fmt: skip
    env = {
        **os.environ,
        "LEADMS_TWILIO_ACCOUNT_SID": standin.account_sid,
        "LEADMS_TWILIO_AUTH_TOKEN": standin.auth_token,
        "LEADMS_TWILIO_CALLER_ID": CALLER_ID,
        "LEADMS_TWILIO_API_URL": standin.api_url,
        "LEADMS_PUBLIC_URL": public,  # the callbacks go to the service that stays up
        "LEADMS_DIALER_DIE_AT": point,
        "LEADMS_DIAL_POLL": "0.05",
    }
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        process.wait(timeout=90)
    finally:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
    return process.returncode


def test_killed_between_the_claim_and_the_call_nothing_is_dialled(
    db, db_url, standin, service, lead, phones
):
    request_id = _ask(db, phones, lead)
    assert _service_killed_at(db_url, standin, service, "claimed") == -9
    assert (standin.calls, _request(db, request_id).state) == ([], "dialing")
    assert _round(db, _twilio(standin, service)) == 0  # a restarted service dials nothing
    db.write(lambda s: expire_dialing(s, now=clock.now() + timedelta(minutes=3)))
    assert _request(db, request_id).state == "failed" and len(_told(db)) == 1
    assert standin.calls == []


def test_killed_between_twilios_answer_and_the_commit_the_callback_confirms(
    db, db_url, standin, service, lead, phones
):
    request_id = _ask(db, phones, lead)
    assert _service_killed_at(db_url, standin, service, "answered") == -9
    assert len(standin.calls) == 1  # Twilio made the call; the process died before recording it
    assert standin.idle()
    _until(lambda: _request(db, request_id).state == "sent")
    _until(lambda: [c for c in _calls(db) if c.state == "ended"])
    assert _round(db, _twilio(standin, service)) == 0
    db.write(lambda s: expire_dialing(s, now=clock.now() + timedelta(minutes=3)))
    assert _request(db, request_id).state == "sent" and _told(db) == []
    assert len(standin.calls) == 1
    params = parse_qs(urlsplit(standin.calls[0].get("StatusCallback")).query)
    assert params == {"dial": [str(request_id)]}
