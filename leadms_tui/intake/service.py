"""The live intake service: Meta webhooks (WhatsApp, Messenger) and website form posts.

An ASGI app (Starlette) run by uvicorn. Every delivery goes through the same
domain intake service as the CLI and the TUI. Webhooks are verified with the
app secret before their body is parsed, deduplicated by message id, and answered
200 once stored (so a crash before the commit makes Meta retry, and a retry is a
no-op). Bad input gets a 4xx with a short reason, never a 500 and never a partial
lead; an unreachable database is a 503, which Meta retries.

Whatever a client sends, the service stays up and answers: every body is capped
before it is parsed, each webhook message is taken in on its own (one that the
parser refuses or that fails to store is set aside in `intake_rejects`, counted and
logged, and never blocks the others), and the server itself bounds connections,
slow clients and its own log (`server_config`).

With Meta credentials in its environment the service alone sends the reps' chat replies
(`intake.sender`, in the lifespan beside the sweeper); the status webhooks, echoes,
deliveries and reads that come back move those replies on and never make a lead.
"""

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import os
import re
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from anyio import to_thread
from sqlalchemy import text as sql
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from leadms_tui.domain import audit, clock, text
from leadms_tui.domain.db import MAX_CONNECTIONS, Database
from leadms_tui.domain.errors import DatabaseError, ValidationError
from leadms_tui.domain.leads.intake import IntakeResult, LeadCreate, receive_message
from leadms_tui.domain.models import Channel, IntakeReject
from leadms_tui.intake.dialer import DialerConfig
from leadms_tui.intake.importer import to_lead_create
from leadms_tui.intake.meta_client import MetaConfig
from leadms_tui.intake.parsers.webhooks import (
    messenger_statuses,
    parse_messenger_body,
    parse_whatsapp_body,
    whatsapp_statuses,
)
from leadms_tui.intake.records import LeadRecord, ParsedItem
from leadms_tui.intake.sender import SenderConfig
from leadms_tui.intake.twilio_client import TwilioConfig

log = logging.getLogger("leadms.intake")
INTAKE_ACTOR = audit.Actor(None, "intake")
WEBHOOK_OBJECTS = {
    "whatsapp": ({"whatsapp_business_account"}, parse_whatsapp_body),
    "messenger": ({"page", "instagram"}, parse_messenger_body),
}
STATUS_PARSERS = {"whatsapp": whatsapp_statuses, "messenger": messenger_statuses}
NAME_FIELDS = ("name", "full_name", "fullname", "your_name")
PHONE_FIELDS = ("phone", "phone_number", "mobile", "tel", "telephone", "whatsapp")
EMAIL_FIELDS = ("email", "e_mail", "email_address")
MESSAGE_FIELDS = ("message", "comments", "comment", "enquiry", "inquiry", "notes")
KEPT_FIELDS = (
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "referrer",
    "page_url",
    "consent",
)
FIELD_PREFIX = "field."  # a form input named field.budget fills the lead field "budget"
MAX_FORM_FIELDS = 100  # a contact form has a dozen; more is a flood, not a lead
MAX_JSON_DEPTH = 64  # Meta's deepest payload is ~12 levels; deeper is an attack on recursion
MAX_SLUG = 100


@dataclass(frozen=True)
class IntakeConfig:
    verify_token: str | None = None  # LEADMS_WA_VERIFY_TOKEN: Meta's GET handshake
    app_secret: str | None = None  # LEADMS_META_APP_SECRET: X-Hub-Signature-256 key
    allowed_origins: tuple[str, ...] = ()  # LEADMS_FORM_ORIGINS: CORS and redirect targets
    form_posts_per_minute: int = 10  # LEADMS_FORM_RATE_LIMIT, per client address
    honeypot_field: str = "_gotcha"  # LEADMS_FORM_HONEYPOT: humans leave it empty
    max_body_bytes: int = 1_000_000  # every body type, enforced before parsing
    body_seconds: float = 30  # to receive a whole body (a slow upload is cut off: 408)
    health_seconds: float = 5  # /healthz gives up on a database that does not answer
    # time rules and the speed-to-lead ladder: from the start of one sweep to the next, so a
    # step falls due at most this long before a sweep sees it; 0 turns the sweeper off
    sweep_seconds: float = 30
    # chat replies: sent only when Meta credentials are set (LEADMS_WHATSAPP_*, LEADMS_MESSENGER_*)
    meta: MetaConfig = field(default_factory=MetaConfig)
    sender: SenderConfig = field(default_factory=SenderConfig)
    # click to call through Twilio: only when LEADMS_TWILIO_* and LEADMS_PUBLIC_URL are set
    twilio: TwilioConfig = field(default_factory=TwilioConfig)
    dialer: DialerConfig = field(default_factory=DialerConfig)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "IntakeConfig":
        env = dict(os.environ if env is None else env)
        origins = [o.strip().rstrip("/") for o in env.get("LEADMS_FORM_ORIGINS", "").split(",")]
        return cls(
            verify_token=env.get("LEADMS_WA_VERIFY_TOKEN") or None,
            app_secret=env.get("LEADMS_META_APP_SECRET") or None,
            allowed_origins=tuple(o for o in origins if o),
            form_posts_per_minute=int(env.get("LEADMS_FORM_RATE_LIMIT", "10")),
            honeypot_field=env.get("LEADMS_FORM_HONEYPOT", "_gotcha"),
            meta=MetaConfig.from_env(env),
            sender=SenderConfig.from_env(env),
            twilio=TwilioConfig.from_env(env),
            dialer=DialerConfig.from_env(env),
        )


@dataclass
class RateLimiter:
    """At most `per_minute` hits per key in any sliding minute (in this process).

    Its memory is bounded: a key whose minute has passed is forgotten, and at most
    `max_keys` keys are tracked (the one seen longest ago goes first), so a stream of
    new client addresses cannot grow it without end.
    """

    per_minute: int
    max_keys: int = 10_000
    hits: OrderedDict[str, deque[float]] = field(default_factory=OrderedDict)  # oldest first

    def allow(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        self._forget_idle(now)
        window = self.hits.pop(key, None) or deque()
        while window and window[0] <= now - 60:
            window.popleft()
        allowed = len(window) < self.per_minute
        if allowed:
            window.append(now)
        if window:
            self.hits[key] = window  # re-inserted: now the most recently seen
        while len(self.hits) > self.max_keys:
            self.hits.popitem(last=False)
        return allowed

    def _forget_idle(self, now: float) -> None:
        """Drop keys whose last hit is over a minute old (they sit at the front)."""
        while self.hits:
            key, window = next(iter(self.hits.items()))
            if window[-1] > now - 60:
                return
            del self.hits[key]


@dataclass
class RejectCounts:
    """Since the service started (shown on /healthz)."""

    kept: int = 0  # set aside in intake_rejects
    lost: int = 0  # could not even be set aside: only the log has them


@dataclass
class Tally:
    """What became of one webhook delivery's messages (the reply's body)."""

    received: int = 0
    created: int = 0
    appended: int = 0
    rejected: int = 0
    statuses: int = 0  # reports on the replies we sent (statuses, echoes, deliveries, reads)


class Refused(Exception):
    """Answer the request with this 4xx and reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


def signature_is_valid(secret: str, body: bytes, header: str | None) -> bool:
    """`header` is "sha256=<hex HMAC-SHA256 of the raw body>"; compared in constant time."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256=").strip().lower())


def _error(status: int, reason: str) -> JSONResponse:
    # Reasons may quote the client's input: made printable (a lone surrogate cannot be encoded).
    return JSONResponse({"error": text.visible(reason)}, status_code=status)


@dataclass
class Intake:
    """What the routes share, kept on `app.state.intake`: the database, the configuration,
    the form rate limiter and the reject counts, with the storing every route goes through."""

    db: Database
    config: IntakeConfig
    limiter: RateLimiter
    counts: RejectCounts = field(default_factory=RejectCounts)

    def when_down(self, exc: Exception) -> None:
        """Raise DatabaseError (answered 503, so Meta delivers again) when `exc` came from the
        database being down rather than from one message: a driver's error does not say which
        (a SQLite file that is not a database raises no OperationalError), a query does."""
        if isinstance(exc, DatabaseError):
            raise exc
        try:
            _ping(self.db)
        except Exception as down:
            raise DatabaseError("database unavailable") from down

    def set_aside(self, channel: str, payload: str, reason: str) -> None:
        """Keep what could not be taken in; if even that fails, count it and log the payload."""
        log.warning("set aside a %s message: %s", channel, text.visible(reason))
        try:
            reject = IntakeReject(
                received_at=clock.now(), channel=channel, reason=reason[:500], payload=payload
            )
            self.db.write(lambda session: session.add(reject))
        except Exception as exc:
            self.when_down(exc)
            self.counts.lost += 1
            log.error(
                "could not keep the rejected %s message (%s); its payload: %s",
                channel,
                type(exc).__name__,
                text.visible(payload[:2000]),
            )
            return
        self.counts.kept += 1

    def take_one(self, item: ParsedItem) -> IntakeResult | str:
        """One message stored, in its own transaction: its result, or why it was not."""
        if not isinstance(item, LeadRecord):
            return item.reason  # the parser refused it
        try:
            data = to_lead_create(item)
            return self.store(data)
        except ValidationError as exc:
            return str(exc)
        except Exception as exc:
            self.when_down(exc)
            log.exception("could not store a %s message", item.channel.value)
            return f"could not be stored ({type(exc).__name__})"

    def store(self, data: LeadCreate) -> IntakeResult:
        return self.db.write(lambda session: receive_message(session, data, actor=INTAKE_ACTOR))

    def take_in(self, channel: str, document: dict) -> Tally:
        """Message by message: a bad one is set aside, and the rest go on."""
        _, parse = WEBHOOK_OBJECTS[channel]
        tally = Tally()
        for piece in _messages(channel, document):
            try:
                outcomes = [self.take_one(item) for item in parse(piece, source="webhook")]
            except DatabaseError:
                raise
            except Exception as exc:  # a parser bug must not cost the other messages
                log.exception("could not parse a %s message", channel)
                outcomes = [f"could not be parsed ({type(exc).__name__})"]
            for outcome in outcomes:
                tally.received += 1
                if isinstance(outcome, str):
                    tally.rejected += 1
                    payload = _escaped(json.dumps(piece, ensure_ascii=False))
                    self.set_aside(channel, payload, outcome)
                else:
                    tally.created += outcome.created
                    tally.appended += outcome.appended
        tally.statuses = self.take_statuses(channel, document)
        return tally

    def take_statuses(self, channel: str, document: dict) -> int:
        """What Meta says of our replies, each report in its own transaction (repeated and
        out-of-order ones are harmless); never a lead. How many were read."""
        from leadms_tui.domain.chat.outbox import apply_status

        seen = 0
        for report in STATUS_PARSERS[channel](document):
            seen += 1
            try:
                self.db.write(lambda session, report=report: apply_status(session, report))
            except Exception as exc:
                self.when_down(exc)  # the database is down: 503, Meta delivers again
                log.exception("could not apply a %s status", channel)
        return seen


def create_app(db: Database, config: IntakeConfig) -> Starlette:
    """The service on `db`: its routes, and the state they share (`Intake`)."""
    app = Starlette(
        lifespan=_lifespan,
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/webhooks/{channel:str}", _guarded(verify), methods=["GET"]),
            Route("/webhooks/{channel:str}", _guarded(webhook), methods=["POST"]),
            Route("/forms/{slug:str}", _guarded(form), methods=["POST"]),
            Route("/openapi.json", openapi, methods=["GET"]),
        ],
        middleware=[
            Middleware(
                CORSMiddleware,
                allow_origins=list(config.allowed_origins),
                allow_methods=["POST"],
                allow_headers=["content-type"],
            ),
        ],
        exception_handlers={404: _not_found, 405: _not_allowed},
    )
    app.state.intake = Intake(db, config, RateLimiter(config.form_posts_per_minute))
    __import__("leadms_tui.intake.phone_routes", fromlist=["*"]).add_phone_routes(app)
    return app


def _intake(request: Request) -> Intake:
    return request.app.state.intake


async def healthz(request: Request) -> Response:
    intake = _intake(request)
    try:
        await asyncio.wait_for(run_in_threadpool(_ping, intake.db), intake.config.health_seconds)
    except Exception as exc:  # refused, timed out, not a database: all "unavailable"
        # The details (host, database name) are for the operator's log, not the world.
        log.error("health check: %s", text.visible(str(exc) or type(exc).__name__))
        return JSONResponse(
            {"status": "unavailable", "error": "database unavailable"}, status_code=503
        )
    counts = intake.counts
    return JSONResponse({"status": "ok", "set_aside": counts.kept, "lost": counts.lost})


async def verify(request: Request) -> Response:
    if request.path_params["channel"] not in WEBHOOK_OBJECTS:
        return _error(404, "no such webhook; use /webhooks/whatsapp or /webhooks/messenger")
    params = request.query_params
    token = params.get("hub.verify_token", "")
    expected = _intake(request).config.verify_token
    if (
        params.get("hub.mode") == "subscribe"
        and expected
        and hmac.compare_digest(token.encode(), expected.encode())
    ):
        return PlainTextResponse(params.get("hub.challenge", ""))
    return PlainTextResponse("forbidden", status_code=403)


async def webhook(request: Request) -> Response:
    intake = _intake(request)
    config = intake.config
    channel = request.path_params["channel"]
    if channel not in WEBHOOK_OBJECTS:
        return _error(404, "no such webhook; use /webhooks/whatsapp or /webhooks/messenger")
    objects, _ = WEBHOOK_OBJECTS[channel]
    body = await _read_body(request, config.max_body_bytes, config.body_seconds)
    if not config.app_secret:
        return _error(403, "webhooks are not configured (LEADMS_META_APP_SECRET)")
    if not signature_is_valid(config.app_secret, body, request.headers.get("x-hub-signature-256")):
        return _error(403, "missing or wrong X-Hub-Signature-256")
    # Signed: from Meta (or whoever holds the secret), so even a body that cannot be split
    # into messages is kept for someone to look at.
    try:
        document = _json_document(body)
        if not isinstance(document, dict) or document.get("object") not in objects:
            raise Refused(400, f"expected object {' or '.join(sorted(objects))}")
    except Refused as refused:
        raw = _escaped(body.decode("utf-8", "backslashreplace"))
        await run_in_threadpool(intake.set_aside, channel, raw, refused.reason)
        raise
    tally = await run_in_threadpool(intake.take_in, channel, document)
    return JSONResponse(tally.__dict__)


async def form(request: Request) -> Response:
    intake = _intake(request)
    config = intake.config
    slug = text.clean_line(request.path_params["slug"])[:MAX_SLUG]
    origin = request.headers.get("origin")
    # A browser names the page's origin on every cross-site post (a plain HTML form too,
    # which CORS does not stop); a server-to-server post names none and is let through.
    allowed = config.allowed_origins
    if origin is not None and allowed and origin.rstrip("/") not in allowed:
        return _error(403, "forms may not be posted from this origin")
    client = request.client.host if request.client else "unknown"
    if not intake.limiter.allow(client):
        return _error(429, "too many submissions; try again in a minute")
    body = await _read_body(request, config.max_body_bytes, config.body_seconds)
    fields = await _form_fields(request, body, config.max_body_bytes)
    redirect_to = _allowed_redirect(
        fields.pop("_redirect", "") or request.query_params.get("redirect", ""),
        config.allowed_origins,
    )
    if fields.pop(config.honeypot_field, "").strip():
        log.info("honeypot filled on form %s from %s: discarded", text.visible(slug), client)
        return _form_reply(redirect_to)  # bots are told it worked
    try:
        data = _form_lead(request, slug, fields)
        await run_in_threadpool(intake.store, data)
    except ValidationError as exc:
        return _error(422, str(exc))  # the visitor can correct it; nothing to keep
    except Exception as exc:
        await run_in_threadpool(intake.when_down, exc)
        log.exception("could not store a post to form %s", text.visible(slug))
        content_type = request.headers.get("content-type", "")
        raw = f"POST /forms/{slug}\ncontent-type: {content_type}\n\n"
        payload = _escaped(raw + body.decode("utf-8", "backslashreplace"))
        await run_in_threadpool(
            intake.set_aside, "website", payload, f"could not be stored ({type(exc).__name__})"
        )
        return _error(422, "the form could not be taken in; it was kept for review")
    return _form_reply(redirect_to)


def _guarded(
    handler: Callable[[Request], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    """`handler` answering a refusal with its 4xx, a database that is down with 503 and
    anything else with 400 (logged), never a 500."""

    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except Refused as refused:
            return _error(refused.status, refused.reason)
        except Exception as exc:
            try:
                await run_in_threadpool(_intake(request).when_down, exc)
            except DatabaseError as down:
                log.error("database unavailable: %s", text.visible(str(down)))
                return _error(503, "storage unavailable; retry later")
            # A bug, not the client's doing: logged with its traceback, answered without
            # taking the service down (messages were set aside one by one before this).
            log.exception("unexpected error on %s", text.visible(request.url.path))
            return _error(400, "the request could not be processed")

    return run


@contextlib.asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[None]:
    """Run the time rules and the ladder every `sweep_seconds` while the service is up (cron
    may run them too): a step fires well within a minute of falling due."""
    from leadms_tui.domain.work.rules import sweep

    intake: Intake = app.state.intake

    async def sweeper() -> None:
        while True:
            started = time.monotonic()
            try:
                report = await run_in_threadpool(sweep, intake.db)
                if report.fired or report.missed or report.assigned:
                    log.info("sweep: %s", report.describe())
            except Exception:  # keep sweeping; a failed round is retried next minute
                log.exception("sweep failed")
            elapsed = time.monotonic() - started
            await asyncio.sleep(max(0.0, intake.config.sweep_seconds - elapsed))

    # Requests wait for a database connection in their thread: threads beyond the pool
    # only wait, and each holds its own malloc arena (RSS grew ~2 MiB a minute with 40).
    to_thread.current_default_thread_limiter().total_tokens = MAX_CONNECTIONS
    tasks = [asyncio.create_task(sweeper())] if intake.config.sweep_seconds > 0 else []
    client = None
    if intake.config.meta.configured:  # the only place the Meta tokens are used
        from leadms_tui.intake.meta_client import MetaClient
        from leadms_tui.intake.sender import Sender

        client = MetaClient(intake.config.meta)
        tasks.append(asyncio.create_task(Sender(intake.db, client, intake.config.sender).run()))
    twilio = None
    if intake.config.twilio.dials:  # the only place the Twilio credentials place calls
        from leadms_tui.intake.dialer import Dialer
        from leadms_tui.intake.twilio_client import TwilioClient

        twilio = TwilioClient(intake.config.twilio)
        tasks.append(asyncio.create_task(Dialer(intake.db, twilio, intake.config.dialer).run()))
    yield
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks, timeout=5)
    if client is not None:
        await client.aclose()
    if twilio is not None:
        await twilio.aclose()


async def _not_found(request: Request, exc: Exception) -> Response:
    return _error(404, "no such endpoint")


async def _not_allowed(request: Request, exc: Exception) -> Response:
    return _error(405, "method not allowed")


def _ping(db: Database) -> None:
    """A real query on a Lead MS table: a pooled connection, a fresh file or a closed server
    all fail it, unlike a check that swallows errors."""
    with db.reading() as session:
        session.execute(sql("SELECT version_num FROM alembic_version")).scalar_one()


async def _read_body(request: Request, limit: int, seconds: float) -> bytes:
    """The whole body, at most `limit` bytes, before anything parses it (every content type).

    A declared Content-Length over the limit is refused unread; a chunked or lying stream is
    cut off as soon as it passes the limit; a trickle is cut off after `seconds`.
    """
    declared = request.headers.get("content-length", "").strip()
    if declared.isdigit() and (len(declared) > 12 or int(declared) > limit):
        raise Refused(413, "body too large")
    chunks, size = [], 0
    try:
        async with asyncio.timeout(seconds):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise Refused(413, "body too large")
                chunks.append(chunk)
    except TimeoutError:
        raise Refused(408, "body not received in time") from None
    except ClientDisconnect:
        raise Refused(400, "the client went away") from None  # nobody reads this answer
    return b"".join(chunks)


def _json_document(body: bytes) -> Any:
    """`body` as JSON, or a 400: not JSON, nested too deep, or numbers past Python's digit limit."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):  # decode errors and the int digit limit are ValueErrors
        raise Refused(400, "body is not JSON (or is nested or numbered beyond limits)") from None
    if _deeper_than(document, MAX_JSON_DEPTH):
        raise Refused(400, f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    return document


def _deeper_than(document: Any, limit: int) -> bool:
    """Without recursion: what is stored later (JSON columns, cleaning) recurses."""
    stack = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, list):
            if depth > limit:
                return True
            stack.extend((child, depth + 1) for child in value)
    return False


def _messages(channel: str, document: dict) -> Iterator[dict]:
    """The delivery as one document per message, each shaped like a delivery of its own, so a
    bad message is parsed, stored or set aside alone, and kept exactly as it came."""
    entries = document.get("entry")
    if not isinstance(entries, list):
        yield document  # the parser says what is wrong with it
        return
    for entry in entries:
        if not isinstance(entry, dict):
            continue  # carries nothing (the parser skips it too)
        if channel == "whatsapp":
            for change in entry.get("changes") if isinstance(entry.get("changes"), list) else []:
                value = change.get("value") if isinstance(change, dict) else None
                messages = value.get("messages") if isinstance(value, dict) else None
                for message in messages if isinstance(messages, list) else []:
                    one = {**change, "value": {**value, "messages": [message]}}
                    yield {**document, "entry": [{**entry, "changes": [one]}]}
        else:
            events = entry.get("messaging")
            for event in events if isinstance(events, list) else []:
                yield {**document, "entry": [{**entry, "messaging": [event]}]}


# Characters the text columns would replace: written as \uXXXX escapes instead (valid inside
# JSON strings), so a kept payload says exactly what came (a NUL, a lone surrogate, ...).
_UNSTORABLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def _escaped(raw: str) -> str:
    return _UNSTORABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", raw)


def _replay(body: bytes) -> Callable[[], Awaitable[dict]]:
    """An ASGI `receive` that hands over a body already read (and capped) in one message."""
    sent = False

    async def receive() -> dict:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _form_fields(request: Request, body: bytes, limit: int) -> dict[str, str]:
    """Form-encoded, multipart or JSON bodies (already read), as lower-case field -> text."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        document = _json_document(body)
        if not isinstance(document, dict):
            raise Refused(400, "expected a JSON object of fields")
        if len(document) > MAX_FORM_FIELDS:
            raise Refused(400, f"more than {MAX_FORM_FIELDS} fields")
        items: Any = document.items()
    elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        replayed = Request(request.scope, _replay(body))
        try:
            form = await replayed.form(max_files=0, max_fields=MAX_FORM_FIELDS, max_part_size=limit)
        except Exception as exc:  # the multipart parser has many ways to say "malformed"
            raise Refused(400, f"malformed form body: {type(exc).__name__}") from None
        items = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    else:
        raise Refused(400, "send form-encoded, multipart or JSON fields")
    fields: dict[str, str] = {}
    for key, value in items:
        if isinstance(value, str | int | float | bool) and isinstance(key, str):
            fields[key.strip().lower().replace("-", "_").replace(" ", "_")] = str(value)[:4000]
    return fields


def _first(fields: dict[str, str], names: tuple[str, ...]) -> str | None:
    for name in names:
        if value := fields.get(name, "").strip():
            return value
    return None


def _form_lead(request: Request, slug: str, fields: dict[str, str]) -> LeadCreate:
    name = _first(fields, NAME_FIELDS) or " ".join(
        filter(
            None,
            [
                _first(fields, ("first_name", "firstname")),
                _first(fields, ("last_name", "lastname", "surname")),
            ],
        )
    )
    attributes = {key: fields[key] for key in KEPT_FIELDS if fields.get(key)}
    attributes["form"] = slug
    if "referrer" not in attributes and request.headers.get("referer"):
        attributes["referrer"] = request.headers["referer"][:500]
    fingerprint = hashlib.sha256(
        # surrogatepass: a lone surrogate in a field must not stop the fingerprint
        json.dumps([slug, sorted(fields.items())], ensure_ascii=False).encode(
            "utf-8", "surrogatepass"
        )
    ).hexdigest()[:24]
    minute = clock.now().strftime("%Y%m%d%H%M")  # a double-click within the minute is one lead
    return LeadCreate(
        name=name or "",
        channel=Channel.WEBSITE,
        phone=_first(fields, PHONE_FIELDS),
        email=_first(fields, EMAIL_FIELDS),
        message=_first(fields, MESSAGE_FIELDS),
        dedupe_key=f"form:{fingerprint}:{minute}",
        payload_ref=f"form:{slug}"[:500],
        attributes=attributes,
        fields={  # inputs named field.KEY fill the lead's field KEY (validated: 422 if bad)
            key.removeprefix(FIELD_PREFIX): value
            for key, value in fields.items()
            if key.startswith(FIELD_PREFIX) and value.strip()
        },
    )


def _allowed_redirect(target: str, origins: tuple[str, ...]) -> str | None:
    """Only redirect to a page on a configured origin (no open redirect)."""
    if not target:
        return None
    target = text.clean_line(target)  # no header injection, nothing unencodable
    try:
        parts = urlsplit(target)
    except ValueError:  # e.g. "http://[" (an unclosed IPv6 literal)
        return None
    origin = f"{parts.scheme}://{parts.netloc}"
    return target if parts.scheme in ("http", "https") and origin in origins else None


def _form_reply(redirect_to: str | None) -> Response:
    if redirect_to:
        return RedirectResponse(redirect_to, status_code=303)
    return JSONResponse({"ok": True})


# --- what the service promises, for clients and for property-based tests ------------------

_ERROR = {"type": "object", "properties": {"error": {"type": "string"}}}
_FORM_FIELDS = {
    "type": "object",
    "properties": {
        name: {"type": "string"}
        for name in ("name", "phone", "email", "message", "_redirect", "_gotcha", *KEPT_FIELDS)
    },
}


def _answers(*statuses: int) -> dict[str, Any]:
    json_error = {"content": {"application/json": {"schema": _ERROR}}}
    return {str(status): {"description": str(status), **json_error} for status in statuses}


OPENAPI: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Lead MS intake service", "version": "1"},
    "paths": {
        "/healthz": {
            "get": {
                "summary": "ok when a query on the database answers",
                "responses": {"200": {"description": "ok"}, **_answers(503)},
            }
        },
        "/webhooks/{channel}": {
            "parameters": [
                {
                    "name": "channel",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "enum": ["whatsapp", "messenger"]},
                }
            ],
            "get": {
                "summary": "Meta's verification handshake: echoes hub.challenge",
                "parameters": [
                    {"name": name, "in": "query", "schema": {"type": "string"}}
                    for name in ("hub.mode", "hub.verify_token", "hub.challenge")
                ],
                "responses": {"200": {"description": "the challenge"}, **_answers(403, 404)},
            },
            "post": {
                "summary": "a signed delivery: each message stored, or set aside",
                "parameters": [
                    {"name": "X-Hub-Signature-256", "in": "header", "schema": {"type": "string"}}
                ],
                "requestBody": {
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                "responses": {
                    "200": {
                        "description": "received, created, appended, rejected counts, and "
                        "statuses (reports on the replies we sent)"
                    },
                    **_answers(400, 403, 404, 408, 413, 503),
                },
            },
        },
        "/forms/{slug}": {
            "parameters": [
                {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            "post": {
                "summary": "a website form post",
                "requestBody": {
                    "content": {
                        "application/x-www-form-urlencoded": {"schema": _FORM_FIELDS},
                        "multipart/form-data": {"schema": _FORM_FIELDS},
                        "application/json": {"schema": _FORM_FIELDS},
                    }
                },
                "responses": {
                    "200": {"description": "taken in (or a honeypot hit)"},
                    "303": {"description": "taken in; redirected to an allowed page"},
                    **_answers(400, 403, 408, 413, 422, 429, 503),
                },
            },
        },
    },
}


async def openapi(request: Request) -> Response:
    return JSONResponse(OPENAPI)
