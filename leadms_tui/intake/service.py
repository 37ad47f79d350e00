"""The live intake service: Meta webhooks (WhatsApp, Messenger) and website form posts.

An ASGI app (Starlette) run by uvicorn. Every delivery goes through the same
domain intake service as the CLI and the TUI. Webhooks are verified with the
app secret before their body is parsed, deduplicated by message id, and answered
200 once stored (so a crash before the commit makes Meta retry, and a retry is a
no-op). Bad input gets a 4xx with a short reason, never a 500 and never a partial
lead; an unreachable database is a 503, which Meta retries.
"""

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import os
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from leadms_tui.domain import audit, clock
from leadms_tui.domain.db import Database
from leadms_tui.domain.errors import DatabaseError, ValidationError
from leadms_tui.domain.intake import IntakeResult, LeadCreate, receive_message
from leadms_tui.domain.models import Channel
from leadms_tui.intake.importer import to_lead_create
from leadms_tui.intake.parsers.webhooks import parse_messenger_body, parse_whatsapp_body
from leadms_tui.intake.records import LeadRecord

log = logging.getLogger("leadms.intake")
INTAKE_ACTOR = audit.Actor(None, "intake")
WEBHOOK_OBJECTS = {
    "whatsapp": ({"whatsapp_business_account"}, parse_whatsapp_body),
    "messenger": ({"page", "instagram"}, parse_messenger_body),
}
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


@dataclass(frozen=True)
class IntakeConfig:
    verify_token: str | None = None  # LEADMS_WA_VERIFY_TOKEN: Meta's GET handshake
    app_secret: str | None = None  # LEADMS_META_APP_SECRET: X-Hub-Signature-256 key
    allowed_origins: tuple[str, ...] = ()  # LEADMS_FORM_ORIGINS: CORS and redirect targets
    form_posts_per_minute: int = 10  # LEADMS_FORM_RATE_LIMIT, per client address
    honeypot_field: str = "_gotcha"  # LEADMS_FORM_HONEYPOT: humans leave it empty
    max_body_bytes: int = 1_000_000
    sweep_seconds: float = 60  # time rules every minute; 0 turns the sweeper off

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
        )


@dataclass
class RateLimiter:
    """At most `per_minute` hits per key in any sliding minute (in this process)."""

    per_minute: int
    hits: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))

    def allow(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        window = self.hits[key]
        while window and window[0] <= now - 60:
            window.popleft()
        if len(window) >= self.per_minute:
            return False
        window.append(now)
        return True


def signature_is_valid(secret: str, body: bytes, header: str | None) -> bool:
    """`header` is "sha256=<hex HMAC-SHA256 of the raw body>"; compared in constant time."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256=").strip().lower())


def _error(status: int, reason: str) -> JSONResponse:
    return JSONResponse({"error": reason}, status_code=status)


def create_app(db: Database, config: IntakeConfig) -> Starlette:
    limiter = RateLimiter(config.form_posts_per_minute)

    def store(records: Iterable[LeadRecord]) -> list[IntakeResult]:
        """Each record in its own transaction: one bad message never blocks the others."""
        results = []
        for record in records:
            data = to_lead_create(record)
            try:
                results.append(
                    db.write(
                        lambda session, data=data: receive_message(
                            session, data, actor=INTAKE_ACTOR
                        )
                    )
                )
            except ValidationError as exc:
                log.warning("refused %s: %s", record.payload_ref, exc)
        return results

    async def healthz(request: Request) -> Response:
        try:
            await run_in_threadpool(db.schema_revision)
        except DatabaseError as exc:
            return _error(503, str(exc))
        return JSONResponse({"status": "ok"})

    async def verify(request: Request) -> Response:
        params = request.query_params
        token = params.get("hub.verify_token", "")
        if (
            params.get("hub.mode") == "subscribe"
            and config.verify_token
            and hmac.compare_digest(token.encode(), config.verify_token.encode())
        ):
            return PlainTextResponse(params.get("hub.challenge", ""))
        return PlainTextResponse("forbidden", status_code=403)

    async def webhook(request: Request) -> Response:
        if request.path_params["channel"] not in WEBHOOK_OBJECTS:
            return _error(404, "no such webhook; use /webhooks/whatsapp or /webhooks/messenger")
        objects, parse = WEBHOOK_OBJECTS[request.path_params["channel"]]
        body = await _limited_body(request, config.max_body_bytes)
        if body is None:
            return _error(413, "body too large")
        if not config.app_secret:
            return _error(403, "webhooks are not configured (LEADMS_META_APP_SECRET)")
        if not signature_is_valid(
            config.app_secret, body, request.headers.get("x-hub-signature-256")
        ):
            return _error(403, "missing or wrong X-Hub-Signature-256")
        try:
            document = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _error(400, "body is not JSON")
        if not isinstance(document, dict) or document.get("object") not in objects:
            return _error(400, f"expected object {' or '.join(sorted(objects))}")
        records = [
            item for item in parse(document, source="webhook") if isinstance(item, LeadRecord)
        ]
        results = await run_in_threadpool(store, records)
        return JSONResponse(
            {
                "received": len(records),
                "created": sum(r.created for r in results),
                "appended": sum(r.appended for r in results),
            }
        )

    async def form(request: Request) -> Response:
        client = request.client.host if request.client else "unknown"
        if not limiter.allow(client):
            return _error(429, "too many submissions; try again in a minute")
        try:
            fields = await _form_fields(request, config.max_body_bytes)
        except ValueError as exc:
            return _error(400, str(exc))
        redirect_to = _allowed_redirect(
            fields.pop("_redirect", "") or request.query_params.get("redirect", ""),
            config.allowed_origins,
        )
        if fields.pop(config.honeypot_field, "").strip():
            log.info(
                "honeypot filled on form %s from %s: discarded", request.path_params["slug"], client
            )
            return _form_reply(redirect_to)  # bots are told it worked
        data = _form_lead(request, request.path_params["slug"], fields)
        try:
            await run_in_threadpool(
                db.write, lambda session: receive_message(session, data, actor=INTAKE_ACTOR)
            )
        except ValidationError as exc:
            return _error(422, str(exc))
        return _form_reply(redirect_to)

    def guarded(handler: Callable[[Request], Awaitable[Response]]):
        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except DatabaseError as exc:
                log.error("database unavailable: %s", exc)
                return _error(503, "storage unavailable; retry later")

        return run

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        """Run the time rules every minute while the service is up (cron may run them too)."""
        from leadms_tui.domain.rules import sweep

        async def sweeper() -> None:
            while True:
                try:
                    report = await run_in_threadpool(sweep, db)
                    if report.fired or report.missed_followups or report.missed_meetings:
                        log.info("sweep: %s", report.describe())
                except Exception:  # keep sweeping; a failed round is retried next minute
                    log.exception("sweep failed")
                await asyncio.sleep(config.sweep_seconds)

        task = asyncio.create_task(sweeper()) if config.sweep_seconds > 0 else None
        yield
        if task is not None:
            task.cancel()

    return Starlette(
        lifespan=lifespan,
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/webhooks/{channel:str}", verify, methods=["GET"]),
            Route("/webhooks/{channel:str}", guarded(webhook), methods=["POST"]),
            Route("/forms/{slug:str}", guarded(form), methods=["POST"]),
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


async def _not_found(request: Request, exc: Exception) -> Response:
    return _error(404, "no such endpoint")


async def _not_allowed(request: Request, exc: Exception) -> Response:
    return _error(405, "method not allowed")


async def _limited_body(request: Request, limit: int) -> bytes | None:
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def _form_fields(request: Request, limit: int) -> dict[str, str]:
    """Form-encoded, multipart or JSON bodies, as lower-case field -> text."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        body = await _limited_body(request, limit)
        if body is None:
            raise ValueError("body too large")
        try:
            document = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ValueError("body is not JSON") from None
        if not isinstance(document, dict):
            raise ValueError("expected a JSON object of fields")
        items = document.items()
    elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        try:
            form = await request.form(max_files=0, max_fields=100)
        except Exception as exc:  # the multipart parser has many ways to say "malformed"
            raise ValueError(f"malformed form body: {type(exc).__name__}") from None
        items = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    else:
        raise ValueError("send form-encoded, multipart or JSON fields")
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
        json.dumps([slug, sorted(fields.items())], ensure_ascii=False).encode()
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
    )


def _allowed_redirect(target: str, origins: tuple[str, ...]) -> str | None:
    """Only redirect to a page on a configured origin (no open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    origin = f"{parts.scheme}://{parts.netloc}"
    return target if parts.scheme in ("http", "https") and origin in origins else None


def _form_reply(redirect_to: str | None) -> Response:
    if redirect_to:
        return RedirectResponse(redirect_to, status_code=303)
    return JSONResponse({"ok": True})
