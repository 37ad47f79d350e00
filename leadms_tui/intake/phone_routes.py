"""Phone calls into the intake service: Twilio Voice status callbacks and a signed webhook for
any other dialer, both turned into the domain's `PhoneEvent` (issue 29).

`POST /phone/twilio` takes Twilio's form-encoded status callbacks (`CallSid`, `From`, `To`,
`Direction`, `CallStatus`, `CallDuration`, `RecordingUrl`), verified with `X-Twilio-Signature`:
base64 HMAC-SHA1, keyed with the auth token (`LEADMS_TWILIO_AUTH_TOKEN`), of the URL Twilio
called (`LEADMS_PUBLIC_URL` + the path behind a proxy) followed by every parameter sorted by
name, name then value. The rep is the Twilio side of the call: a Twilio Client identity
(`client:201`, as the rep's extension) or a SIP user (`sip:201@...`), else the Twilio number
looked up in `LEADMS_TWILIO_EXTENSIONS` (`+442071234567=201,+442071234568=202`).
Click to call through Twilio (`intake.dialer`) points its callbacks here too: the rep's leg
with `?dial=ID` (it confirms or fails that request), the lead's leg with `?extension=201`
(the rep, named in the URL Twilio signs).

`POST /phone/events` takes one event as JSON in the `PhoneEvent` shape, signed like Meta's
webhooks: `X-LeadMS-Signature: sha256=<hex HMAC-SHA256 of the raw body>` keyed with
`LEADMS_PHONE_WEBHOOK_SECRET`.

A request that is not signed right is refused (403) before anything is read into the
database; a signed one the domain cannot use (no known extension and no readable number)
gets 422, and a database that is down 503.
"""

import base64
import hashlib
import hmac
import logging
import os
import re
from dataclasses import dataclass, replace
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from leadms_tui.domain import clock, text
from leadms_tui.domain.errors import NotFoundError, ValidationError
from leadms_tui.domain.models import CallDirection, PhoneCallState
from leadms_tui.domain.phone.bridge import EndStatus, PhoneEvent, Recorded, record_phone_event
from leadms_tui.domain.phone.dialing import record_rep_leg
from leadms_tui.intake.service import (
    Refused,
    _error,
    _guarded,
    _intake,
    _json_document,
    _read_body,
    signature_is_valid,
)

log = logging.getLogger("leadms.intake.phone")
MAX_BODY = 64_000  # a callback is a few hundred bytes
MAX_PARAMS = 100
SIGNATURE_HEADER = "X-LeadMS-Signature"

TWILIO_STATUS: dict[str, tuple[PhoneCallState, EndStatus | None]] = {
    "queued": (PhoneCallState.RINGING, None),
    "initiated": (PhoneCallState.RINGING, None),
    "ringing": (PhoneCallState.RINGING, None),
    "in-progress": (PhoneCallState.ANSWERED, None),
    "answered": (PhoneCallState.ANSWERED, None),
    "completed": (PhoneCallState.ENDED, EndStatus.ANSWERED),
    "busy": (PhoneCallState.ENDED, EndStatus.BUSY),
    "failed": (PhoneCallState.ENDED, EndStatus.FAILED),
    "no-answer": (PhoneCallState.ENDED, EndStatus.NO_ANSWER),
    "canceled": (PhoneCallState.ENDED, EndStatus.CANCELED),
}
PROVIDER_NAME = re.compile(r"[a-z][a-z0-9_-]{0,15}")


@dataclass(frozen=True)
class PhoneConfig:
    twilio_auth_token: str | None = None  # LEADMS_TWILIO_AUTH_TOKEN
    public_url: str | None = None  # LEADMS_PUBLIC_URL: https://crm.example.com (behind a proxy)
    twilio_extensions: tuple[tuple[str, str], ...] = ()  # LEADMS_TWILIO_EXTENSIONS
    webhook_secret: str | None = None  # LEADMS_PHONE_WEBHOOK_SECRET

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "PhoneConfig":
        env = dict(os.environ if env is None else env)
        pairs = []
        for item in env.get("LEADMS_TWILIO_EXTENSIONS", "").split(","):
            number, equals, extension = item.partition("=")
            if equals and number.strip() and extension.strip():
                pairs.append((number.strip(), extension.strip()))
        return cls(
            twilio_auth_token=env.get("LEADMS_TWILIO_AUTH_TOKEN") or None,
            public_url=(env.get("LEADMS_PUBLIC_URL") or "").rstrip("/") or None,
            twilio_extensions=tuple(pairs),
            webhook_secret=env.get("LEADMS_PHONE_WEBHOOK_SECRET") or None,
        )


def add_phone_routes(app: Starlette, config: PhoneConfig | None = None) -> None:
    """`/phone/twilio` and `/phone/events` on the intake service `app`."""
    app.state.phone = config or PhoneConfig.from_env()
    app.router.routes.extend(
        [
            Route("/phone/twilio", _guarded(twilio), methods=["POST"]),
            Route("/phone/events", _guarded(events), methods=["POST"]),
        ]
    )


def twilio_signature(auth_token: str, url: str, params: list[tuple[str, str]]) -> str:
    """What Twilio puts in `X-Twilio-Signature` for a POST of `params` to `url`."""
    data = url + "".join(name + value for name, value in sorted(params))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def webhook_signature(secret: str, body: bytes) -> str:
    """The `X-LeadMS-Signature` header of `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# --- Twilio ---------------------------------------------------------------------------------


async def twilio(request: Request) -> Response:
    config: PhoneConfig = request.app.state.phone
    body = await _read_body(request, MAX_BODY, _intake(request).config.body_seconds)
    if not config.twilio_auth_token:
        return _error(403, "Twilio callbacks are not configured (LEADMS_TWILIO_AUTH_TOKEN)")
    params = _form(body)
    url = _public_url(request, config)
    given = request.headers.get("x-twilio-signature", "")
    expected = twilio_signature(config.twilio_auth_token, url, params)
    if not given or not hmac.compare_digest(expected.encode(), given.strip().encode()):
        log.warning("refused a Twilio callback to %s: wrong X-Twilio-Signature", text.visible(url))
        return _error(403, "missing or wrong X-Twilio-Signature")
    fields = dict(params)
    dial = request.query_params.get("dial", "")
    if dial:  # the rep's leg of a click-to-call (intake.dialer): it moves the request only
        return await _rep_leg(request, dial, fields)
    event = twilio_event(fields, config)
    extension = text.clean_line(request.query_params.get("extension", "")).strip()[:32]
    if extension:  # the lead's leg of a click-to-call: the rep is named in the signed URL
        event = replace(event, extension=extension)
    return await _store(request, event)


async def _rep_leg(request: Request, dial: str, fields: dict[str, str]) -> Response:
    if not dial.isdigit() or len(dial) > 18:
        raise Refused(400, "dial: a dial request id")
    status = fields.get("CallStatus", "").strip().lower()
    if status not in TWILIO_STATUS:
        raise Refused(400, "CallStatus is missing or unknown")
    sid = text.clean_line(fields.get("CallSid", "")).strip()[:64]
    try:
        state = await run_in_threadpool(
            _intake(request).db.write,
            lambda session: record_rep_leg(session, int(dial), status, sid),
        )
    except NotFoundError as missing:
        return _error(404, str(missing))
    return JSONResponse({"dial_request_id": int(dial), "state": state})


def twilio_event(fields: dict[str, str], config: PhoneConfig) -> PhoneEvent:
    """A status (or recording) callback as a phone event; Refused(400) when it is not one."""
    sid = fields.get("CallSid", "").strip()
    if not sid:
        raise Refused(400, "CallSid is missing")
    status = fields.get("CallStatus", "").strip().lower()
    recording = _url(fields.get("RecordingUrl", ""))
    if status:
        if status not in TWILIO_STATUS:
            raise Refused(400, f"unknown CallStatus {status[:40]}")
        state, end_status = TWILIO_STATUS[status]
    elif recording:  # a recording status callback: it adds the link, it moves nothing
        state, end_status = PhoneCallState.RINGING, None
    else:
        raise Refused(400, "CallStatus is missing")
    caller, called = fields.get("From", "").strip(), fields.get("To", "").strip()
    direction_name = fields.get("Direction", "").strip().lower()
    from_rep = _identity(caller) is not None  # a rep's Twilio Client or SIP phone dialling out
    outbound = direction_name.startswith("outbound") or from_rep
    rep, person = (caller, called) if outbound else (called, caller)
    duration = fields.get("CallDuration", "").strip()
    return PhoneEvent(
        provider="twilio",
        call_id=sid[:128],
        state=state,
        at=_twilio_time(fields.get("Timestamp", "")),
        direction=CallDirection.OUTBOUND if outbound else CallDirection.INBOUND,
        extension=_identity(rep) or dict(config.twilio_extensions).get(rep),
        remote_number=person[:64] or None,
        duration_seconds=int(duration) if duration.isdigit() and len(duration) < 9 else None,
        end_status=end_status,
        recording_url=recording,
    )


def _identity(party: str) -> str | None:
    """The rep's extension in `client:201` or `sip:201@pbx.example`."""
    lowered = party.lower()
    if lowered.startswith("client:"):
        return party[7:].strip()[:32] or None
    if lowered.startswith("sip:"):
        return party[4:].split("@", 1)[0].strip()[:32] or None
    return None


def _twilio_time(value: str) -> datetime:
    """Twilio's `Timestamp` (RFC 2822), or now when it is missing or implausible."""
    try:
        return clock.plausible(parsedate_to_datetime(value), "Timestamp")
    except (TypeError, ValueError, IndexError, OverflowError, ValidationError):
        return clock.now()


def _url(value: str) -> str | None:
    value = value.strip()
    return value[:1000] if re.match(r"https?://[^\s]+$", value) else None


def _form(body: bytes) -> list[tuple[str, str]]:
    try:
        params = parse_qsl(
            body.decode("ascii"),
            keep_blank_values=True,
            strict_parsing=bool(body),
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_PARAMS,
        )
    except ValueError:  # not ASCII, not UTF-8 underneath, malformed, too many fields
        raise Refused(400, "expected a form-encoded body (Twilio's parameters)") from None
    return params


def _public_url(request: Request, config: PhoneConfig) -> str:
    """The URL Twilio called: behind a proxy, `LEADMS_PUBLIC_URL` and the path and query."""
    if config.public_url is None:
        return str(request.url)
    query = request.url.query
    return config.public_url + request.url.path + (f"?{query}" if query else "")


# --- the generic webhook --------------------------------------------------------------------


async def events(request: Request) -> Response:
    config: PhoneConfig = request.app.state.phone
    body = await _read_body(request, MAX_BODY, _intake(request).config.body_seconds)
    if not config.webhook_secret:
        return _error(403, "the phone webhook is not configured (LEADMS_PHONE_WEBHOOK_SECRET)")
    if not signature_is_valid(config.webhook_secret, body, request.headers.get(SIGNATURE_HEADER)):
        log.warning("refused a phone event: wrong %s", SIGNATURE_HEADER)
        return _error(403, f"missing or wrong {SIGNATURE_HEADER}")
    return await _store(request, webhook_event(_json_document(body)))


def webhook_event(document: Any) -> PhoneEvent:
    """A JSON object in the `PhoneEvent` shape; Refused(400) naming what is wrong."""
    if not isinstance(document, dict):
        raise Refused(400, "expected a JSON object")
    provider = _text(document, "provider") or "webhook"
    if not PROVIDER_NAME.fullmatch(provider):
        raise Refused(400, "provider: lower-case letters, digits, - and _, at most 16")
    call_id = _text(document, "call_id")
    if not call_id:
        raise Refused(400, "call_id is missing")
    duration = document.get("duration_seconds")
    if duration is not None and (type(duration) is not int or not 0 <= duration <= 10_000_000):
        raise Refused(400, "duration_seconds: a whole number of seconds")
    ended = document.get("end_status")
    recording = _text(document, "recording_url")
    if recording and not _url(recording):
        raise Refused(400, "recording_url: an http(s) URL")
    return PhoneEvent(
        provider=provider,
        call_id=call_id,
        state=_choice(document, "state", PhoneCallState),
        at=_when(document.get("at")),
        direction=_choice(document, "direction", CallDirection),
        extension=_text(document, "extension"),
        remote_number=_text(document, "remote_number"),
        duration_seconds=duration,
        end_status=None if ended is None else _choice(document, "end_status", EndStatus),
        recording_url=recording,
    )


def _text(document: dict, key: str) -> str | None:
    value = document.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 1000:
        raise Refused(400, f"{key}: a string")
    return text.clean_line(value).strip() or None


def _choice(document: dict, key: str, kind: Any) -> Any:
    value = document.get(key)
    try:
        return kind(value)
    except (ValueError, TypeError):
        names = ", ".join(item.value for item in kind)
        raise Refused(400, f"{key}: one of {names}") from None


def _when(value: Any) -> datetime:
    if value is None:
        return clock.now()
    if not isinstance(value, str):
        raise Refused(400, "at: an ISO 8601 time with its offset")
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise Refused(400, "at: an ISO 8601 time with its offset") from None
    if moment.tzinfo is None:
        raise Refused(400, "at: an ISO 8601 time with its offset")
    try:
        return clock.plausible(moment, "at")
    except ValidationError as exc:
        raise Refused(400, str(exc)) from None


# --- both -----------------------------------------------------------------------------------


async def _store(request: Request, event: PhoneEvent) -> Response:
    db = _intake(request).db
    try:
        recorded: Recorded = await run_in_threadpool(
            db.write, lambda session: record_phone_event(session, event)
        )
    except ValidationError as refused:
        log.warning("skipped a %s call: %s", event.provider, text.visible(str(refused)))
        return _error(422, str(refused))
    return JSONResponse(
        {
            "phone_call_id": recorded.phone_call_id,
            "state": recorded.state.value,
            "changed": recorded.changed,
            "lead_id": recorded.lead_id,
        }
    )
