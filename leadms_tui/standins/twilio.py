"""A stand-in Twilio: posts Voice status callbacks to a StatusCallback URL the way Twilio does
(form-encoded, `X-Twilio-Signature` over the URL and the sorted parameters), for a call it
makes up, in order or not, once or twice; or forged (signed with the wrong token). And
`TwilioApiStandIn`: the REST API's `Calls.json` that click to call asks, then the callbacks of
the call it made."""

import base64
import hmac
import itertools
import json
import queue
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit
from xml.etree import ElementTree

from leadms_tui.domain import clock
from leadms_tui.intake.phone_routes import twilio_signature


@dataclass(frozen=True)
class Answer:
    status: int
    body: str


@dataclass
class TwilioCaller:
    url: str  # where to post (loopback)
    auth_token: str
    public_url: str | None = None  # what Twilio would sign: the public StatusCallback URL
    account_sid: str = "AC" + "0" * 32

    def post(self, params: dict[str, str], *, token: str | None = None) -> Answer:
        """One callback, signed with `token` (default: the right one)."""
        pairs = sorted(params.items())
        signature = twilio_signature(token or self.auth_token, self.public_url or self.url, pairs)
        request = urllib.request.Request(
            self.url,
            data=urlencode(pairs).encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": signature,
                "User-Agent": "TwilioProxy/1.1",
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as reply:
                return Answer(reply.status, reply.read().decode())
        except urllib.error.HTTPError as refused:
            return Answer(refused.code, refused.read().decode())

    def call(
        self,
        sid: str,
        *,
        caller: str,
        called: str,
        direction: str = "inbound",
        start: datetime,
        answered_after: int | None = 5,
        talk_seconds: int = 60,
        end: str = "completed",
        recording_url: str | None = None,
    ) -> Iterator[dict[str, str]]:
        """The callbacks of one call, as Twilio sends them with StatusCallbackEvent
        `initiated ringing answered completed`."""
        base = {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "CallSid": sid,
            "From": caller,
            "To": called,
            "Direction": direction,
            "CallbackSource": "call-progress-events",
        }
        stamp = start.timestamp()

        def at(seconds: float) -> str:
            return format_datetime(datetime.fromtimestamp(stamp + seconds, start.tzinfo))

        yield base | {"CallStatus": "initiated", "Timestamp": at(0), "SequenceNumber": "0"}
        yield base | {"CallStatus": "ringing", "Timestamp": at(1), "SequenceNumber": "1"}
        if answered_after is not None:
            yield base | {
                "CallStatus": "in-progress",
                "Timestamp": at(answered_after),
                "SequenceNumber": "2",
            }
        ended = (answered_after or 0) + (talk_seconds if answered_after is not None else 20)
        last = base | {"CallStatus": end, "Timestamp": at(ended), "SequenceNumber": "3"}
        if answered_after is not None:
            last["CallDuration"] = str(talk_seconds)
        if recording_url:
            last |= {"RecordingUrl": recording_url, "RecordingSid": "RE" + sid[2:]}
        yield last


# --- the REST API: starting a call ------------------------------------------------------------


TWILIO_ERRORS: dict[int, tuple[int, str]] = {
    20003: (401, "Authenticate"),
    20404: (404, "The requested resource was not found"),
    20429: (429, "Too Many Requests"),
    20500: (500, "Internal Server Error"),
    20503: (503, "Service Unavailable"),
    21201: (400, "No 'To' number is specified"),
    21205: (400, "Url parameter is required."),
    21210: (400, "'From' phone number not verified"),
    21213: (400, "No 'From' number is specified"),
    21215: (400, "Account not authorized to call this number: geo permissions"),
}
_STATUS_CODE = {401: 20003, 404: 20404, 429: 20429, 500: 20500, 503: 20503}


@dataclass(frozen=True)
class CallRequest:
    """One `POST .../Calls.json` as it came (answered or not)."""

    path: str
    authorization: str
    form: list[tuple[str, str]]

    def get(self, name: str) -> str | None:
        return next((value for key, value in self.form if key == name), None)

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.form if key == name]


@dataclass
class _CallPlan:
    kind: str  # status (answer with an HTTP error), die (read, close unanswered)
    status: int = 0
    code: int = 0
    deliver: bool = False  # die: Twilio made the call anyway (its callbacks follow)


@dataclass
class TwilioApiStandIn:
    """Twilio's `POST /2010-04-01/Accounts/{AccountSid}/Calls.json` on loopback: HTTP Basic auth
    (account sid, auth token), the form checked (`To`, `From`, `Url` or `Twiml`), answered 201
    with the call resource (`sid` CA...). Then it plays the call's status callbacks, signed as
    Twilio signs them: the rep's leg to `StatusCallback` (the events of `StatusCallbackEvent`),
    and the dialled number's leg to the TwiML `<Number statusCallback>`, as a child call
    (`outbound-dial`, `ParentCallSid`). The next requests can be told to fail (401, 429, 5xx)
    or to die: read, then the socket closed unanswered (`deliver`: the call was made anyway).

    `rep_answers`: whether the rep's phone picks up (else `no-answer` and the lead is never
    dialled); `lead_status`: how the lead's leg ends (completed, busy, no-answer, failed)."""

    account_sid: str = "AC" + "1" * 32
    auth_token: str = "twilio-test-token"
    rep_answers: bool = True
    lead_status: str = "completed"
    talk_seconds: int = 42
    recording_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: list[CallRequest] = []
        self._plans: deque[_CallPlan] = deque()
        self._sids = itertools.count(1)
        self._callbacks: queue.Queue[tuple[str, dict[str, str]] | None] = queue.Queue()
        self._pending = 0
        self.callback_answers: list[tuple[str, int]] = []  # (CallStatus, HTTP status) posted
        self._server: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []

    def start(self) -> str:
        """Serve on a free loopback port in threads; the API's base URL."""
        owner = self

        class Handler(_ApiHandler):
            standin = owner

        self._server = _QuietServer((self.host, self.port), Handler)
        self.port = self._server.server_address[1]
        for target in (self._server.serve_forever, self._post_callbacks):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self.api_url

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        self._callbacks.put(None)
        for thread in self._threads:
            thread.join(timeout=10)

    def __enter__(self) -> "TwilioApiStandIn":
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def calls(self) -> list[CallRequest]:
        """Every Calls.json request received, answered or not."""
        with self._lock:
            return list(self._requests)

    def fail_next(self, status: int, *, times: int = 1) -> None:
        """Answer the next requests with Twilio's error for HTTP `status` (401, 429, 5xx)."""
        with self._lock:
            self._plans.extend(
                [_CallPlan("status", status, _STATUS_CODE.get(status, 20500))] * times
            )

    def refuse_next(self, code: int, *, times: int = 1) -> None:
        """Answer the next requests with Twilio error `code` (e.g. 21215)."""
        status = TWILIO_ERRORS.get(code, (400, ""))[0]
        with self._lock:
            self._plans.extend([_CallPlan("status", status, code)] * times)

    def die_next(self, *, deliver: bool = False) -> None:
        with self._lock:
            self._plans.append(_CallPlan("die", deliver=deliver))

    def idle(self, seconds: float = 10) -> bool:
        """Wait until every callback queued so far was posted; False on timeout."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self._lock:
                if self._pending == 0:
                    return True
            time.sleep(0.02)
        return False

    # --- inside ------------------------------------------------------------------------------

    def error(self, code: int, status: int | None = None) -> tuple[int, dict[str, object]]:
        http_status, message = TWILIO_ERRORS.get(code, (status or 400, "Error"))
        return status or http_status, {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status or http_status,
        }

    def take(
        self, path: str, authorization: str, form: list[tuple[str, str]]
    ) -> tuple[int, dict[str, object], str | None]:
        """(HTTP status, answer, "die" when the socket is to close unanswered)."""
        with self._lock:
            self._requests.append(CallRequest(path, authorization, form))
            plan = self._plans.popleft() if self._plans else None
        request = CallRequest(path, authorization, form)
        expected = (
            "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        )
        if path != f"/2010-04-01/Accounts/{self.account_sid}/Calls.json":
            return (*self.error(20404), None)
        if not hmac.compare_digest(authorization.encode(), expected.encode()):
            return (*self.error(20003), None)
        if plan is not None and plan.kind == "status":
            return (*self.error(plan.code, plan.status), None)
        if not request.get("To"):
            return (*self.error(21201), None)
        if not request.get("From"):
            return (*self.error(21213), None)
        if not (request.get("Url") or request.get("Twiml")):
            return (*self.error(21205), None)
        sid = f"CA{next(self._sids):032x}"
        resource = {
            "sid": sid,
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "direction": "outbound-api",
            "from": request.get("From"),
            "to": request.get("To"),
            "status": "queued",
            "parent_call_sid": None,
            "duration": None,
            "price": None,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Calls/{sid}.json",
        }
        if plan is not None and plan.kind == "die":
            if plan.deliver:
                self._play(sid, request)
            return 0, {}, "die"
        self._play(sid, request)
        return 201, resource, None

    def _play(self, sid: str, request: CallRequest) -> None:
        """Queue the call's callbacks: the rep's leg, then (answered) the lead's leg."""
        events = set(request.all("StatusCallbackEvent")) or {"completed"}
        wanted = {"initiated": "initiated", "ringing": "ringing", "in-progress": "answered"}
        start = clock.now()
        base = {"AccountSid": self.account_sid, "ApiVersion": "2010-04-01", "CallSid": sid,
                "From": request.get("From") or "", "To": request.get("To") or "",
                "Direction": "outbound-api"}  # fmt: skip
        rep_url = request.get("StatusCallback")
        stamp = format_datetime(start)
        rep_end = "completed" if self.rep_answers else "no-answer"
        rep_states = ["initiated", "ringing"] + (["in-progress"] if self.rep_answers else [])
        if rep_url:
            for status in rep_states:
                if wanted[status] in events:
                    self._queue(rep_url, base | {"CallStatus": status, "Timestamp": stamp})
        number, lead_url, lead_events = _twiml_number(request.get("Twiml") or "")
        if self.rep_answers and number and lead_url:
            child = f"CA{next(self._sids):032x}"
            leg = {"AccountSid": self.account_sid, "ApiVersion": "2010-04-01", "CallSid": child,
                   "ParentCallSid": sid, "From": request.get("From") or "", "To": number,
                   "Direction": "outbound-dial"}  # fmt: skip
            answered = self.lead_status == "completed"
            for status in ["initiated", "ringing"] + (["in-progress"] if answered else []):
                if wanted[status] in lead_events:
                    self._queue(lead_url, leg | {"CallStatus": status, "Timestamp": stamp})
            last = leg | {"CallStatus": self.lead_status, "Timestamp": stamp}
            if answered:
                last["CallDuration"] = str(self.talk_seconds)
                if self.recording_url:
                    last |= {"RecordingUrl": self.recording_url, "RecordingSid": "RE" + child[2:]}
            self._queue(lead_url, last)
        if rep_url:
            last = base | {"CallStatus": rep_end, "Timestamp": stamp}
            if self.rep_answers:
                last["CallDuration"] = str(self.talk_seconds + 5)
            self._queue(rep_url, last)

    def _queue(self, url: str, params: dict[str, str]) -> None:
        with self._lock:
            self._pending += 1
        self._callbacks.put((url, params))

    def _post_callbacks(self) -> None:
        """In order, one at a time, signed with the auth token; retried a few times."""
        while (item := self._callbacks.get()) is not None:
            url, params = item
            caller = TwilioCaller(url, self.auth_token, account_sid=self.account_sid)
            status = 0
            for wait in (0.1, 0.2, 0.4, 0.8):
                try:
                    status = caller.post(params).status
                except OSError:
                    status = 0
                if status == 200:
                    break
                time.sleep(wait)
            with self._lock:
                self.callback_answers.append((params["CallStatus"], status))
                self._pending -= 1


def _twiml_number(twiml: str) -> tuple[str | None, str | None, set[str]]:
    """The number a `<Dial><Number statusCallback=...>` dials, its callback URL and events."""
    try:
        root = ElementTree.fromstring(twiml)
    except ElementTree.ParseError:
        return None, None, set()
    number = root.find("./Dial/Number")
    if number is None:
        return None, None, set()
    events = set((number.get("statusCallbackEvent") or "completed").split())
    return (number.text or "").strip() or None, number.get("statusCallback"), events


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass


class _ApiHandler(BaseHTTPRequestHandler):
    standin: TwilioApiStandIn
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        form = parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)
        status, answer, die = self.standin.take(
            urlsplit(self.path).path, self.headers.get("Authorization", ""), form
        )
        if die:
            self.close_connection = True  # read, never answered
            return
        body = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
