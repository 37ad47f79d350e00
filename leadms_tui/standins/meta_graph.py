"""A stand-in for Meta's Graph API on loopback: the WhatsApp Cloud API and Messenger Send API
requests, answers, errors and status webhooks Lead MS uses, as Meta documents them.

    python -m leadms_tui.standins.meta_graph --port 8099 \\
        --webhooks http://127.0.0.1:8080/webhooks --app-secret APP_SECRET

- `POST /{version}/{phone-number-id}/messages` (WhatsApp, text or template): answers
  `{"messaging_product": "whatsapp", "contacts": [...], "messages": [{"id": "wamid...."}]}`.
- `POST /{version}/{page-id}/messages` (Messenger): answers `recipient_id` and `message_id`.
- `GET /{version}/{waba-id}/message_templates`: the templates, paged (`data`, `paging`).
- Errors in Meta's shape: `{"error": {"message", "type", "code", "error_subcode",
  "fbtrace_id", "error_data": {"details"}}}` with HTTP 400, 401 or 429.
- After a message is taken, its status webhooks are posted to `{webhooks}/whatsapp` (a
  `statuses[]` entry carrying `biz_opaque_callback_data`) or `{webhooks}/messenger` (the
  `message_echoes` event carrying `metadata`, then `delivery` and `read`), signed
  `X-Hub-Signature-256` with the app secret, and retried until answered 200 (as Meta does).

Every request is recorded (`requests`, or `GET /_standin/requests`). It can be told to fail
the next sends with a code (at once, or later in a `failed` status), throttle them (130429,
HTTP 429), delay its answer, or die mid-request: read the request, then close the socket
without answering (whether the message was taken is then up to the test).

A plain `ThreadingHTTPServer`, not an ASGI app: only a raw socket can be closed unanswered.
"""

import argparse
import base64
import hashlib
import hmac
import itertools
import json
import queue
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from leadms_tui.domain import clock

VERSION = "v21.0"
WHATSAPP_TEXT_LIMIT = 4096
MESSENGER_TEXT_LIMIT = 2000
STATUS_ORDER = ("sent", "delivered", "read")

# What Meta answers for the codes a test asks for: (HTTP status, type, title, details).
ERRORS: dict[int, tuple[int, str, str, str]] = {
    100: (400, "OAuthException", "Invalid parameter", "A parameter of the request is invalid."),
    4: (400, "OAuthException", "Application request limit reached", "Too many API calls."),
    10: (
        400,
        "OAuthException",
        "(#10) This message is sent outside of allowed window.",
        "Outside the 24-hour messaging window.",
    ),
    190: (
        401,
        "OAuthException",
        "Error validating access token: Session has expired.",
        "The access token expired or was revoked.",
    ),
    551: (400, "OAuthException", "This person isn't available right now.", ""),
    80007: (429, "OAuthException", "Messenger rate limit reached.", ""),
    130429: (
        429,
        "OAuthException",
        "Rate limit hit",
        "Cloud API message throughput has been reached.",
    ),
    131026: (
        400,
        "OAuthException",
        "Message Undeliverable.",
        "Unable to deliver the message: the recipient may not be a WhatsApp user.",
    ),
    131047: (
        400,
        "OAuthException",
        "Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer "
        "last replied to this number.",
    ),
    131056: (
        400,
        "OAuthException",
        "(Business Account, Consumer Account) pair rate limit hit",
        "Too many messages sent from this phone number to the same phone number.",
    ),
    132000: (
        400,
        "OAuthException",
        "Number of parameters does not match the expected number of params",
        "The number of body parameters does not match the template.",
    ),
    132001: (
        400,
        "OAuthException",
        "Template name does not exist in the translation",
        "The template does not exist in this language.",
    ),
}


@dataclass(frozen=True)
class Received:
    """One request as it came."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any  # parsed JSON (None when there was none or it was not JSON)
    at: float  # clock.now().timestamp()

    @property
    def channel(self) -> str | None:
        """ "whatsapp" or "messenger" for a send, else None."""
        if self.method != "POST" or not self.path.endswith("/messages"):
            return None
        body = self.body if isinstance(self.body, dict) else {}
        return "whatsapp" if body.get("messaging_product") == "whatsapp" else "messenger"

    @property
    def key(self) -> str | None:
        """The reconciliation key a send carried (biz_opaque_callback_data / metadata)."""
        body = self.body if isinstance(self.body, dict) else {}
        if self.channel == "whatsapp":
            return body.get("biz_opaque_callback_data")
        message = body.get("message")
        return message.get("metadata") if isinstance(message, dict) else None


@dataclass
class _Plan:
    """What to do to the next send instead of (or before) answering normally."""

    kind: str  # fail, fail_later, die, delay
    code: int = 0
    seconds: float = 0.0
    deliver: bool = False  # die/delay: whether the message was taken anyway


@dataclass
class MetaGraphStandIn:
    """The stand-in's state and behaviour; `start()` serves it on a free loopback port."""

    whatsapp_token: str = "wa-test-token"
    page_token: str = "page-test-token"
    phone_number_id: str = "106540352242922"
    page_id: str = "104932712185511"
    business_account_id: str = "102290129340398"
    app_id: str = "1517776481860111"
    app_secret: str | None = None
    webhooks: str | None = None  # base URL: {webhooks}/whatsapp, {webhooks}/messenger
    statuses: tuple[str, ...] = STATUS_ORDER  # posted after a message is taken, in order
    status_delay: float = 0.0  # seconds between a message taken and each of its statuses
    templates: list[dict[str, Any]] = field(default_factory=list)
    page_size: int = 25  # templates per page unless `limit` says otherwise
    host: str = "127.0.0.1"
    port: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: list[Received] = []
        self._plans: deque[_Plan] = deque()
        self._ids = itertools.count(1)
        # (message, status, failure code): each webhook is written when it is posted, so its
        # timestamps (a Messenger watermark) are those of the moment it happens
        self._outbox: queue.Queue[tuple[dict[str, Any], str, int | None] | None] = queue.Queue()
        self._server: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self.webhook_answers: list[int] = []  # HTTP status of every webhook post made
        self._pending = 0  # webhooks queued and not yet posted
        self._stopping = threading.Event()

    # --- serving ----------------------------------------------------------------------------

    def start(self) -> str:
        """Serve on `host`:`port` (0: a free one) in threads; the Graph URL with its version."""
        standin = self

        class Handler(_Handler):
            owner = standin

        self._server = _Server((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        for target in (self._server.serve_forever, self._post_webhooks):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self.graph_url

    @property
    def graph_url(self) -> str:
        return f"http://{self.host}:{self.port}/{VERSION}"

    def stop(self) -> None:
        self._stopping.set()  # webhooks still queued are dropped, retries end
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        self._outbox.put(None)
        for thread in self._threads:
            thread.join(timeout=10)

    def __enter__(self) -> "MetaGraphStandIn":
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    # --- what a test reads and tells --------------------------------------------------------

    @property
    def requests(self) -> list[Received]:
        with self._lock:
            return list(self._requests)

    def sends(self, channel: str | None = None) -> list[Received]:
        """Every send received (answered or not), oldest first."""
        return [r for r in self.requests if r.channel and channel in (None, r.channel)]

    def fail_next(self, code: int, *, times: int = 1, later: bool = False) -> None:
        """The next `times` sends fail with `code`: answered with Meta's error, or (`later`)
        taken and then reported `failed` in a status webhook (how 131047 and 131026 come)."""
        self._plan(_Plan("fail_later" if later else "fail", code=code), times)

    def throttle_next(self, times: int = 1, *, code: int = 130429) -> None:
        self._plan(_Plan("fail", code=code), times)

    def delay_next(self, seconds: float, *, times: int = 1) -> None:
        """Answer the next sends (normally) only after `seconds`."""
        self._plan(_Plan("delay", seconds=seconds, deliver=True), times)

    def die_next(self, *, times: int = 1, deliver: bool = False) -> None:
        """Read the next sends, then close the socket unanswered; `deliver`: Meta took the
        message anyway (its status webhooks follow)."""
        self._plan(_Plan("die", deliver=deliver), times)

    def _plan(self, plan: _Plan, times: int) -> None:
        with self._lock:
            self._plans.extend([plan] * times)

    def _next_plan(self) -> _Plan | None:
        with self._lock:
            return self._plans.popleft() if self._plans else None

    def _record(self, request: Received) -> None:
        with self._lock:
            self._requests.append(request)

    # --- answers ----------------------------------------------------------------------------

    def error(self, code: int, *, message: str | None = None) -> tuple[int, dict[str, Any]]:
        status, kind, title, details = ERRORS.get(code, (400, "OAuthException", "Error", ""))
        error: dict[str, Any] = {
            "message": message or title,
            "type": kind,
            "code": code,
            "fbtrace_id": "A" + secrets.token_urlsafe(16),
        }
        if code == 190:
            error["error_subcode"] = 463
        if details:
            error["error_data"] = {"messaging_product": "whatsapp", "details": details}
        return status, {"error": error}

    def send_whatsapp(self, body: Any) -> tuple[int, dict[str, Any], dict[str, Any] | None]:
        """(HTTP status, answer, the message taken or None)."""
        if not isinstance(body, dict) or body.get("messaging_product") != "whatsapp":
            return (*self.error(100, message="(#100) Param messaging_product is required"), None)
        to = str(body.get("to") or "")
        if not to:
            return (*self.error(100, message="(#100) Param to is required"), None)
        kind = body.get("type", "text")
        opaque = body.get("biz_opaque_callback_data")
        if opaque is not None and (not isinstance(opaque, str) or len(opaque) > 512):
            return (*self.error(100, message="(#100) biz_opaque_callback_data too long"), None)
        if kind == "text":
            text = (
                (body.get("text") or {}).get("body") if isinstance(body.get("text"), dict) else None
            )
            if not isinstance(text, str) or not text.strip():
                return (*self.error(100, message="(#100) Param text['body'] is required"), None)
            if len(text) > WHATSAPP_TEXT_LIMIT:
                return (*self.error(100, message="(#100) Param text['body'] is too long"), None)
        elif kind == "template":
            refused = self._check_template(body.get("template"))
            if refused is not None:
                return (*self.error(refused), None)
        else:
            return (*self.error(100, message=f"(#100) Unsupported message type {kind}"), None)
        wamid = "wamid.HBgM" + base64.b64encode(f"{to}:{next(self._ids)}".encode()).decode()
        answer = {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": to.lstrip("+")}],
            "messages": [{"id": wamid, "message_status": "accepted"}],
        }
        return 200, answer, {"channel": "whatsapp", "id": wamid, "to": to, "key": opaque}

    def _check_template(self, template: Any) -> int | None:
        if not isinstance(template, dict) or not template.get("name"):
            return 100
        language = (template.get("language") or {}).get("code")
        known = [
            t
            for t in self.templates
            if t.get("name") == template["name"] and t.get("language") == language
        ]
        if not known or known[0].get("status") != "APPROVED":
            return 132001
        text = next(
            (c.get("text", "") for c in known[0].get("components", []) if c.get("type") == "BODY"),
            "",
        )
        wanted = len(set(_placeholders(text)))
        given = sum(
            len(c.get("parameters") or [])
            for c in template.get("components") or []
            if isinstance(c, dict) and c.get("type") == "body"
        )
        return 132000 if wanted != given else None

    def send_messenger(self, body: Any) -> tuple[int, dict[str, Any], dict[str, Any] | None]:
        if not isinstance(body, dict):
            return (*self.error(100), None)
        recipient = (
            (body.get("recipient") or {}).get("id")
            if isinstance(body.get("recipient"), dict)
            else None
        )
        message = body.get("message") if isinstance(body.get("message"), dict) else {}
        kind, tag = body.get("messaging_type"), body.get("tag")
        if not recipient:
            return (*self.error(100, message="(#100) The parameter recipient is required"), None)
        if kind not in ("RESPONSE", "UPDATE", "MESSAGE_TAG") or (kind == "MESSAGE_TAG") != bool(
            tag
        ):
            return (*self.error(100, message="(#100) messaging_type and tag do not agree"), None)
        text, metadata = message.get("text"), message.get("metadata")
        if not isinstance(text, str) or not text or len(text) > MESSENGER_TEXT_LIMIT:
            return (*self.error(100, message="(#100) message.text is missing or too long"), None)
        if metadata is not None and (not isinstance(metadata, str) or len(metadata) > 1000):
            return (*self.error(100, message="(#100) metadata too long"), None)
        mid = f"m_{secrets.token_urlsafe(18)}{next(self._ids)}"
        taken = {"channel": "messenger", "id": mid, "to": recipient, "key": metadata, "text": text}
        return 200, {"recipient_id": recipient, "message_id": mid}, taken

    def list_templates(self, query: dict[str, str]) -> dict[str, Any]:
        limit = max(1, min(int(query.get("limit") or self.page_size), 1000))
        start = int(base64.b64decode(query["after"]).decode()) if query.get("after") else 0
        page = self.templates[start : start + limit]
        paging: dict[str, Any] = {
            "cursors": {
                "before": base64.b64encode(str(start).encode()).decode(),
                "after": base64.b64encode(str(start + len(page)).encode()).decode(),
            }
        }
        if start + limit < len(self.templates):
            after = paging["cursors"]["after"]
            paging["next"] = (
                f"{self.graph_url}/{self.business_account_id}/message_templates"
                f"?limit={limit}&after={after}"
            )
        data = [{"id": str(1000 + start + i), **t} for i, t in enumerate(page)]
        return {"data": data, "paging": paging}

    # --- status webhooks --------------------------------------------------------------------

    def taken(self, message: dict[str, Any], *, failed: int | None = None) -> None:
        """A message Meta took: its statuses go out (or `failed` with that code)."""
        if not self.webhooks:
            return
        if failed is not None:
            self._queue(message, "failed", failed)
            return
        for status in self.statuses:
            self._queue(message, status, None)

    def _queue(self, message: dict[str, Any], status: str, code: int | None) -> None:
        with self._lock:
            self._pending += 1
        self._outbox.put((message, status, code))

    def whatsapp_status(
        self, message: dict[str, Any], status: str, *, code: int | None = None
    ) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "id": message["id"],
            "status": status,
            "timestamp": str(int(clock.now().timestamp())),
            "recipient_id": str(message["to"]).lstrip("+"),
        }
        if message.get("key") is not None:
            entry["biz_opaque_callback_data"] = message["key"]
        if status == "sent":
            entry["pricing"] = {"billable": True, "pricing_model": "PMP", "category": "service"}
        if code is not None:
            _status, _kind, title, details = ERRORS.get(code, (400, "", "Error", ""))
            entry["errors"] = [
                {
                    "code": code,
                    "title": title,
                    "message": title,
                    "error_data": {"details": details},
                }
            ]
        value = {
            "messaging_product": "whatsapp",
            "metadata": {
                "display_phone_number": "15550001111",
                "phone_number_id": self.phone_number_id,
            },
            "statuses": [entry],
        }
        change = {"field": "messages", "value": value}
        return {
            "object": "whatsapp_business_account",
            "entry": [{"id": self.business_account_id, "changes": [change]}],
        }

    def messenger_event(self, message: dict[str, Any], status: str) -> dict[str, Any]:
        """ "sent": the echo (with `metadata`); "delivered": `delivery` (mids, watermark);
        "read": `read` (watermark)."""
        now = int(clock.now().timestamp() * 1000)
        page, person = {"id": self.page_id}, {"id": message["to"]}
        if status == "sent":
            echo: dict[str, Any] = {
                "is_echo": True,
                "app_id": int(self.app_id),
                "mid": message["id"],
                "text": message.get("text", ""),
            }
            if message.get("key") is not None:
                echo["metadata"] = message["key"]
            event = {"sender": page, "recipient": person, "timestamp": now, "message": echo}
        elif status == "delivered":
            delivery = {"mids": [message["id"]], "watermark": now}
            event = {"sender": person, "recipient": page, "timestamp": now, "delivery": delivery}
        else:
            event = {
                "sender": person,
                "recipient": page,
                "timestamp": now,
                "read": {"watermark": now},
            }
        return {
            "object": "page",
            "entry": [{"id": self.page_id, "time": now, "messaging": [event]}],
        }

    def post(self, channel: str, document: dict[str, Any]) -> int:
        """Post one signed webhook now; its HTTP status (0: not reachable)."""
        body = json.dumps(document).encode()
        headers = {"Content-Type": "application/json"}
        if self.app_secret:
            digest = hmac.new(self.app_secret.encode(), body, hashlib.sha256).hexdigest()
            headers["X-Hub-Signature-256"] = f"sha256={digest}"
        try:
            answer = httpx.post(
                f"{self.webhooks}/{channel}", content=body, headers=headers, timeout=30
            )
            status = answer.status_code
        except httpx.HTTPError:
            status = 0
        with self._lock:
            self.webhook_answers.append(status)
        return status

    def _post_webhooks(self) -> None:
        """One at a time, in order; each retried (0.1 s, doubling, 8 tries) until 200."""
        while (item := self._outbox.get()) is not None and not self._stopping.is_set():
            if self.status_delay:
                self._stopping.wait(self.status_delay)
            message, status, code = item
            channel = message["channel"]
            if channel == "whatsapp":
                document = self.whatsapp_status(message, status, code=code)
            else:
                document = self.messenger_event(message, status)
            wait = 0.1
            for _ in range(8):
                if self.post(channel, document) == 200 or self._stopping.wait(wait):
                    break
                wait *= 2
            with self._lock:
                self._pending -= 1

    def idle(self, seconds: float = 10) -> bool:
        """Wait until every webhook queued so far was posted (or given up); False on timeout."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self._lock:
                if self._pending == 0:
                    return True
            time.sleep(0.02)
        return False


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up on a delayed answer: nothing to report


class _Handler(BaseHTTPRequestHandler):
    owner: MetaGraphStandIn
    protocol_version = "HTTP/1.1"
    server_version = "MetaGraphStandIn/1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the requests are recorded

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        owner = self.owner
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        received = Received(
            method, parts.path, query, {k.lower(): v for k, v in self.headers.items()}, body,
            clock.now().timestamp(),
        )  # fmt: skip
        if parts.path == "/_standin/requests":
            self._answer(200, [r.__dict__ for r in owner.requests])
            return
        owner._record(received)
        segments = parts.path.strip("/").split("/")
        if len(segments) != 3 or segments[0] != VERSION:
            self._answer(*owner.error(100, message="Unknown path components"))
            return
        _, node, edge = segments
        token = self.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        token = token or query.get("access_token", "")
        if method == "GET" and edge == "message_templates" and node == owner.business_account_id:
            if not hmac.compare_digest(token, owner.whatsapp_token):
                self._answer(*owner.error(190))
                return
            self._answer(200, owner.list_templates(query))
            return
        if method != "POST" or edge != "messages":
            self._answer(*owner.error(100, message="Unsupported request"))
            return
        if node == owner.phone_number_id:
            expected, send = owner.whatsapp_token, owner.send_whatsapp
        elif node == owner.page_id:
            expected, send = owner.page_token, owner.send_messenger
        else:
            message = f"Unsupported post request. Object with ID '{node}' does not exist"
            self._answer(*owner.error(100, message=message))
            return
        if not hmac.compare_digest(token, expected):
            self._answer(*owner.error(190))
            return
        plan = owner._next_plan()
        if plan is not None and plan.kind == "fail":
            self._answer(*owner.error(plan.code))
            return
        status, answer, taken = send(body)
        if plan is not None and plan.kind == "delay":
            time.sleep(plan.seconds)
        if plan is not None and plan.kind == "die":
            if taken is not None and plan.deliver:
                owner.taken(taken)
            self.close_connection = True  # read, never answered: the socket just closes
            return
        self._answer(status, answer)
        if taken is not None:
            failed = plan.code if plan is not None and plan.kind == "fail_later" else None
            owner.taken(taken, failed=failed)

    def _answer(self, status: int, document: Any) -> None:
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _placeholders(text: str) -> list[str]:
    return re.findall(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}", text)


DEMO_TEMPLATES = [
    {
        "name": "follow_up",
        "language": "en_US",
        "category": "UTILITY",
        "status": "APPROVED",
        "components": [
            {"type": "BODY", "text": "Hi {{1}}, this is {{2}} following up on your enquiry."}
        ],
    },
    {
        "name": "seguimiento",
        "language": "es",
        "category": "UTILITY",
        "status": "APPROVED",
        "components": [{"type": "BODY", "text": "Hola {{1}}, soy {{2}}: ¿seguimos hablando?"}],
    },
    {
        "name": "spring_offer",
        "language": "en_US",
        "category": "MARKETING",
        "status": "PAUSED",
        "components": [{"type": "BODY", "text": "Spring offer: 20% off for {{1}}."}],
    },
]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a Meta Graph API stand-in on loopback.")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--webhooks", help="where statuses go: {URL}/whatsapp, {URL}/messenger")
    parser.add_argument("--app-secret", help="signs the webhooks (LEADMS_META_APP_SECRET)")
    parser.add_argument("--whatsapp-token", default="wa-test-token")
    parser.add_argument("--page-token", default="page-test-token")
    parser.add_argument("--status-delay", type=float, default=0.5)
    args = parser.parse_args(argv)
    standin = MetaGraphStandIn(
        whatsapp_token=args.whatsapp_token,
        page_token=args.page_token,
        app_secret=args.app_secret,
        webhooks=args.webhooks,
        status_delay=args.status_delay,
        templates=list(DEMO_TEMPLATES),
        port=args.port,
    )
    url = standin.start()
    print(
        f"Meta Graph stand-in on {url}\n"
        f"  LEADMS_META_GRAPH_URL={url}\n"
        f"  LEADMS_WHATSAPP_TOKEN={standin.whatsapp_token} "
        f"LEADMS_WHATSAPP_PHONE_NUMBER_ID={standin.phone_number_id} "
        f"LEADMS_WHATSAPP_BUSINESS_ACCOUNT_ID={standin.business_account_id}\n"
        f"  LEADMS_MESSENGER_PAGE_TOKEN={standin.page_token} "
        f"LEADMS_MESSENGER_PAGE_ID={standin.page_id}",
        flush=True,
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        standin.stop()


if __name__ == "__main__":
    main()
