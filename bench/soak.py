"""A soak of the intake service: many clients for minutes on loopback, then every lead counted.

    python -m bench.soak --minutes 10 --clients 50 --engines sqlite,postgres --output soak.md
    python -m bench.soak --minutes 0.5 --clients 20          # a 30-second check

For each engine: a fresh database (migrated, a small team), `leadms intake serve` started as
a subprocess on a free loopback port with the app secret, verify token and form origin set
(and the per-client form rate limit raised: every client here is 127.0.0.1), and `--clients`
concurrent HTTP clients, one keep-alive connection each, sending a mix of signed WhatsApp
Cloud API deliveries (batches, status callbacks, earlier deliveries sent again as Meta
retries them, and duplicates sent by a second client at the same moment), Messenger
messages and postbacks (and the reads, deliveries and echoes that are no inquiries),
website form posts (form-encoded, multipart and JSON; new and repeat people; honeypot hits),
Meta's verification handshake, and a little junk that must be refused (forged signatures,
forms with no contact). The run stops after `--minutes` or `--max-requests`, whichever
comes first. A ledger keeps every message sent; afterwards the leads and inquiries stored
must be exactly what it expects: nothing lost, nothing doubled.

Exit status 1 when a check fails: a 5xx or connection error, any other answer than the one
expected (a 4xx for a valid message), service RSS growing over 10% after the warm-up, a
message set aside in `intake_rejects`, or a count of leads or inquiries off by any amount.
"""

import argparse
import asyncio
import contextlib
import dataclasses
import hashlib
import hmac
import json
import math
import os
import platform
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from random import Random
from typing import Any
from urllib.parse import urlencode

import httpx
import psycopg
from sqlalchemy import func, select

from bench.common import (
    DEFAULT_PG_URL,
    REGION,
    ROOT,
    TIMEZONE,
    conninfo,
    log,
    parse_engines,
    scratch_database,
    sqlite_path,
)
from bench.people import NEW_PEOPLE, email_of, name_of, national, phone_of
from leadms_tui import bootstrap
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.models import Channel, Inquiry, IntakeReject, Lead, Role
from leadms_tui.domain.team.settings import set_setting
from leadms_tui.domain.team.users import add_user

SECRET = "soak-app-secret"
VERIFY_TOKEN = "soak-verify-token"
ORIGIN = "https://www.example.com"
WABA_ID, PHONE_NUMBER_ID, PAGE_ID = "209715200000001", "314572800000001", "104857600000001"
FIRST_PSID = 7_100_000_000_000_000  # Messenger page-scoped ids: 16-17 digit numbers
FORM_RATE_LIMIT = 1_000_000  # per client address per minute: every soak client is 127.0.0.1
MAX_RSS_GROWTH = 0.10
WEBHOOK_ATTEMPTS = 4  # Meta delivers again when it gets no 200
REQUEST_TIMEOUT = 30.0
RECENT = 2_000  # earlier deliveries kept to send again
SAMPLE_SECONDS = 5.0
PROGRESS_SECONDS = 30.0
WEBHOOKS = ("whatsapp", "messenger")
CHANNELS = ("whatsapp", "messenger", "website")

MIX = {  # what one request of a client is, by weight
    "whatsapp message": 30,
    "whatsapp batch": 3,  # 2-3 messages in one delivery, sometimes one sender twice
    "whatsapp retry": 5,  # an earlier delivery sent again, byte for byte
    "whatsapp status": 3,  # sent/delivered/read callbacks: no inquiry
    "whatsapp forged": 1,  # signed with the wrong secret: 403, nothing stored
    "messenger message": 16,
    "messenger postback": 2,
    "messenger retry": 3,
    "messenger read/echo": 2,  # reads, deliveries and the page's own echoes: no inquiry
    "form new person": 14,
    "form repeat person": 6,  # a phone or email seen before: a new lead marked as a repeat
    "form honeypot": 1,  # 200 and discarded
    "form no contact": 1,  # 422, nothing stored
    "verify": 0.5,  # Meta's GET handshake
}
DUPLICATE_SHARE = 0.12  # of new webhook deliveries, also sent by the next free client at once
NEW_SENDER_SHARE = 0.4  # of webhook messages, from someone who has not written before
WA_TEXTS = (
    "Hi! What does the plan cost?",
    "Do you deliver on Saturdays?",
    "Can someone call me back?",
    "Is the offer still on?",
    "Quero saber o preço, por favor",
)
OK = frozenset({200})


@dataclass(frozen=True)
class Shot:
    """One HTTP request a client sends, and what must come back."""

    kind: str
    method: str
    path: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    expect: frozenset[int] = OK
    keys: tuple[tuple[str, str], ...] = ()  # (channel, message key) of the messages it carries
    webhook: str | None = None  # the webhook channel, whose reply counts what was stored
    challenge: str | None = None  # the body a verification must echo


@dataclass
class Ledger:
    """Every message sent, and what the service answered about them."""

    senders: dict[str, set[str]] = field(default_factory=lambda: {c: set() for c in WEBHOOKS})
    messages: dict[str, set[str]] = field(default_factory=lambda: {c: set() for c in CHANNELS})
    accepted: set[tuple[str, str]] = field(default_factory=set)
    replies: dict[str, Counter] = field(default_factory=lambda: {c: Counter() for c in WEBHOOKS})

    def note(self, channel: str, key: str, sender: str | None = None) -> tuple[str, str]:
        self.messages[channel].add(key)
        if sender is not None:
            self.senders[channel].add(sender)
        return channel, key

    def settle(self, shot: Shot, reply: Any) -> None:
        self.accepted.update(shot.keys)
        if shot.webhook and isinstance(reply, dict):
            self.replies[shot.webhook].update(
                {k: v for k, v in reply.items() if isinstance(v, int)}
            )

    def leads_expected(self) -> dict[str, int]:
        """One lead per webhook sender (their later messages join it), one per form post."""
        return {
            "whatsapp": len(self.senders["whatsapp"]),
            "messenger": len(self.senders["messenger"]),
            "website": len(self.messages["website"]),
        }

    def inquiries_expected(self) -> dict[str, int]:
        return {channel: len(keys) for channel, keys in self.messages.items()}

    @property
    def unsettled(self) -> int:
        """Messages sent that never got the answer expected (a 5xx, an error, a bad 4xx)."""
        return sum(len(keys) for keys in self.messages.values()) - len(self.accepted)


class Traffic:
    """Plans the next request of any client (all on one event loop: no locks needed)."""

    def __init__(self, ledger: Ledger, seed: int) -> None:
        self.ledger, self.rng = ledger, Random(seed)
        self.tag = uuid.uuid4().hex[:8]  # message ids unique to this run
        self.serial = 0
        self.last_ms = 0
        self.wa_people: list[int] = []  # people who wrote on WhatsApp
        self.psids: list[str] = []
        self.form_people: list[int] = []
        self.next_person = NEW_PEOPLE + Random(seed).randrange(10**6) * 10
        self.recent: dict[str, deque[Shot]] = {c: deque(maxlen=RECENT) for c in WEBHOOKS}
        self.duplicates: deque[Shot] = deque()
        self.sent: Counter[str] = Counter()
        self.kinds, self.weights = list(MIX), list(MIX.values())

    def next_shot(self) -> Shot:
        shot = self.duplicates.popleft() if self.duplicates else self._plan()
        self.sent[shot.kind] += 1
        return shot

    def _plan(self) -> Shot:
        kind = self.rng.choices(self.kinds, self.weights)[0]
        if kind.endswith(" retry"):
            channel = kind.split()[0]
            if self.recent[channel]:
                return dataclasses.replace(self.rng.choice(self.recent[channel]), kind=kind)
            kind = f"{channel} message"
        if kind == "verify":
            return self._verify()
        if kind.startswith("form"):
            return self._form(kind)
        if kind in ("whatsapp status", "whatsapp forged"):
            return self._whatsapp_other(kind)
        if kind == "messenger read/echo":
            return self._messenger_other()
        shot = self._whatsapp(kind) if kind.startswith("whatsapp") else self._messenger(kind)
        self.recent[shot.webhook or ""].append(shot)
        if self.rng.random() < DUPLICATE_SHARE:
            self.duplicates.append(dataclasses.replace(shot, kind=f"{shot.webhook} duplicate"))
        return shot

    # --- the pieces ----------------------------------------------------------------------

    def _id(self) -> int:
        self.serial += 1
        return self.serial

    def _millis(self) -> int:
        """Now in Unix milliseconds, never twice the same (postbacks without a mid are
        told apart by sender and timestamp)."""
        self.last_ms = max(self.last_ms + 1, int(time.time() * 1000))
        return self.last_ms

    def _new_person(self) -> int:
        self.next_person += 1
        return self.next_person

    def _signed(self, kind: str, document: dict, *, secret: str = SECRET, **fields: Any) -> Shot:
        body = json.dumps(document).encode()
        digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={digest}"}
        channel = "whatsapp" if document["object"] == "whatsapp_business_account" else "messenger"
        path = f"/webhooks/{channel}"
        return Shot(kind, "POST", path, body, headers, webhook=channel, **fields)

    def _wa_document(self, value: dict) -> dict:
        metadata = {"display_phone_number": "15550001111", "phone_number_id": PHONE_NUMBER_ID}
        value = {"messaging_product": "whatsapp", "metadata": metadata, **value}
        change = {"field": "messages", "value": value}
        return {
            "object": "whatsapp_business_account",
            "entry": [{"id": WABA_ID, "changes": [change]}],
        }

    def _wa_message(self, person: int) -> tuple[dict, dict, str]:
        """(message, contact, wamid) from `person` (a message of a random type)."""
        wa_id = phone_of(person).removeprefix("+")
        wamid = f"wamid.HBgM{self.tag}{self._id():012d}"
        message: dict[str, Any] = {"from": wa_id, "id": wamid, "timestamp": str(int(time.time()))}
        kind = self.rng.choices(
            ["text", "interactive", "image", "location", "button"], [14, 2, 2, 1, 1]
        )[0]
        message["type"] = kind
        if kind == "text":
            message["text"] = {"body": self.rng.choice(WA_TEXTS)}
        elif kind == "interactive":
            reply = {"id": "plan-gold", "title": "Gold plan"}
            message["interactive"] = {"type": "button_reply", "button_reply": reply}
        elif kind == "image":
            message["image"] = {"id": f"media{self.serial}", "caption": "This one, in blue?"}
        elif kind == "location":
            message["location"] = {"latitude": 51.5, "longitude": -0.12, "name": "Our office"}
        else:
            message["button"] = {"text": "Call me", "payload": "CALL_ME"}
        contact = {"profile": {"name": name_of(person)}, "wa_id": wa_id}
        return message, contact, wamid

    def _wa_sender(self) -> int:
        if not self.wa_people or self.rng.random() < NEW_SENDER_SHARE:
            self.wa_people.append(self._new_person())
            return self.wa_people[-1]
        return self.rng.choice(self.wa_people)

    def _whatsapp(self, kind: str) -> Shot:
        count = self.rng.randint(2, 3) if kind == "whatsapp batch" else 1
        senders = [self._wa_sender() for _ in range(count)]
        if count > 1 and self.rng.random() < 0.3:
            senders[-1] = senders[0]  # one sender writing twice in one delivery
        messages, contacts, keys = [], {}, []
        for person in senders:
            message, contact, wamid = self._wa_message(person)
            messages.append(message)
            contacts[contact["wa_id"]] = contact
            keys.append(self.ledger.note("whatsapp", wamid, sender=contact["wa_id"]))
        document = self._wa_document({"contacts": list(contacts.values()), "messages": messages})
        return self._signed(kind, document, keys=tuple(keys))

    def _whatsapp_other(self, kind: str) -> Shot:
        if kind == "whatsapp forged":  # a new sender, never to be stored
            message, contact, _ = self._wa_message(self._new_person())
            document = self._wa_document({"contacts": [contact], "messages": [message]})
            return self._signed(kind, document, secret="not-the-secret", expect=frozenset({403}))
        recipient = phone_of(self._wa_sender() if self.wa_people else self._new_person())
        status = {
            "id": f"wamid.HBgM{self.tag}out{self._id()}",
            "status": self.rng.choice(["sent", "delivered", "read"]),
            "timestamp": str(int(time.time())),
            "recipient_id": recipient.removeprefix("+"),
        }
        return self._signed(kind, self._wa_document({"statuses": [status]}))

    def _page_document(self, event: dict) -> dict:
        return {
            "object": "page",
            "entry": [{"id": PAGE_ID, "time": event["timestamp"], "messaging": [event]}],
        }

    def _psid(self) -> str:
        if not self.psids or self.rng.random() < NEW_SENDER_SHARE:
            self.psids.append(str(FIRST_PSID + self._id()))
            return self.psids[-1]
        return self.rng.choice(self.psids)

    def _messenger(self, kind: str) -> Shot:
        psid, at = self._psid(), self._millis()
        event: dict[str, Any] = {
            "sender": {"id": psid},
            "recipient": {"id": PAGE_ID},
            "timestamp": at,
        }
        if kind == "messenger postback":
            event["postback"] = {"title": "Get a quote", "payload": "QUOTE"}
            key = f"postback:{psid}:{at}"  # as the service names a postback without a mid
            if self.rng.random() < 0.5:
                key = event["postback"]["mid"] = f"m_{self.tag}{self._id()}"
        else:
            key = f"m_{self.tag}{self._id()}"
            event["message"] = {"mid": key, "text": self.rng.choice(WA_TEXTS)}
        keys = (self.ledger.note("messenger", key, sender=psid),)
        return self._signed(kind, self._page_document(event), keys=keys)

    def _messenger_other(self) -> Shot:
        psid, at = self._psid() if self.psids else str(FIRST_PSID + self._id()), self._millis()
        which = self.rng.choice(["read", "delivery", "echo"])
        if which == "echo":  # the page's own reply: sender and recipient swapped
            event = {
                "sender": {"id": PAGE_ID},
                "recipient": {"id": psid},
                "timestamp": at,
                "message": {
                    "mid": f"m_{self.tag}echo{self._id()}",
                    "is_echo": True,
                    "text": "Thanks!",
                },
            }
        else:
            event = {"sender": {"id": psid}, "recipient": {"id": PAGE_ID}, "timestamp": at}
            event[which] = {"watermark": at}
        return self._signed("messenger read/echo", self._page_document(event))

    def _form(self, kind: str) -> Shot:
        serial = self._id()
        pools = [people for people in (self.form_people, self.wa_people) if people]
        if kind == "form repeat person" and pools:
            person = self.rng.choice(self.rng.choice(pools))
        else:
            person = self._new_person()
            self.form_people.append(person)
        fields = {
            "name": name_of(person),
            "message": f"Please send a quote (ref {self.tag}-{serial})",  # each post its own
            "utm_source": self.rng.choice(["google", "facebook", "newsletter"]),
            "utm_medium": "cpc",
            "utm_campaign": "spring",
            "page_url": f"{ORIGIN}/pricing",
        }
        contact = self.rng.choice(["national phone", "e164 phone", "email", "both"])
        if kind != "form no contact":
            if contact != "email":
                fields["phone"] = (
                    national(phone_of(person)) if contact == "national phone" else phone_of(person)
                )
            if contact in ("email", "both"):
                fields["email"] = email_of(person)
        expect = frozenset({200})
        if self.rng.random() < 0.3:
            fields["_redirect"] = f"{ORIGIN}/thanks"
            expect = frozenset({303})
        keys: tuple[tuple[str, str], ...] = ()
        if kind == "form honeypot":
            fields["_gotcha"] = "http://spam.example/buy"
        elif kind == "form no contact":
            expect = frozenset({422})
        else:
            keys = (self.ledger.note("website", f"form-{serial}"),)
        body, content_type = self._encoded(fields)
        headers = {"Content-Type": content_type}
        if self.rng.random() < 0.5:  # from a browser on the site (else from a server)
            headers["Origin"] = ORIGIN
        slug = self.rng.choice(["contact", "quote"])
        return Shot(kind, "POST", f"/forms/{slug}", body, headers, expect, keys)

    def _encoded(self, fields: dict[str, str]) -> tuple[bytes, str]:
        how = self.rng.choices(["urlencoded", "json", "multipart"], [2, 1, 1])[0]
        if how == "urlencoded":
            return urlencode(fields).encode(), "application/x-www-form-urlencoded"
        if how == "json":
            return json.dumps(fields).encode(), "application/json"
        boundary = f"----soak{self.serial}"
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            for name, value in fields.items()
        ]
        body = ("".join(parts) + f"--{boundary}--\r\n").encode()
        return body, f"multipart/form-data; boundary={boundary}"

    def _verify(self) -> Shot:
        challenge = str(self.rng.randrange(10**9))
        query = urlencode(
            {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": challenge}
        )
        channel = self.rng.choice(WEBHOOKS)
        return Shot("verify", "GET", f"/webhooks/{channel}?{query}", challenge=challenge)


@dataclass
class Answers:
    """What came back: statuses, latencies, and anything other than what was expected."""

    latencies: list[float] = field(default_factory=list)  # seconds, every HTTP answer
    statuses: Counter[str] = field(default_factory=Counter)  # ok (2xx/3xx), 4xx, 5xx, errors
    unexpected: Counter[str] = field(default_factory=Counter)  # "kind: status" -> times
    errors: Counter[str] = field(default_factory=Counter)  # exception name -> times

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    def answered(self, status: int, seconds: float) -> None:
        self.latencies.append(seconds)
        self.statuses["ok" if status < 400 else f"{status // 100}xx"] += 1

    def failed(self, exc: Exception) -> None:
        self.statuses["errors"] += 1
        self.errors[type(exc).__name__] += 1


@dataclass
class Budget:
    """The most requests the whole run may send (retries included)."""

    left: int

    def take(self) -> bool:
        if self.left <= 0:
            return False
        self.left -= 1
        return True


async def _send(
    http: httpx.AsyncClient, shot: Shot, answers: Answers, ledger: Ledger, budget: Budget
) -> None:
    """Send `shot`; a webhook without its answer is sent again, as Meta does."""
    attempts = WEBHOOK_ATTEMPTS if shot.webhook else 1
    for attempt in range(attempts):
        if attempt:
            await asyncio.sleep(0.2 * attempt)
            if not budget.take():
                return
        started = time.perf_counter()
        try:
            response = await http.request(
                shot.method, shot.path, content=shot.body or None, headers=shot.headers
            )
        except httpx.HTTPError as exc:
            answers.failed(exc)
            continue
        status = response.status_code
        answers.answered(status, time.perf_counter() - started)
        expected = status in shot.expect and (
            shot.challenge is None or response.text == shot.challenge
        )
        if expected:
            reply = None
            if shot.webhook and status == 200:
                with contextlib.suppress(ValueError):
                    reply = response.json()
            ledger.settle(shot, reply)
            return
        answers.unexpected[f"{shot.kind}: {status}"] += 1
        if status < 500:
            return  # the service's considered answer (a wrong one): counted, not retried


# --- the service process -------------------------------------------------------------------


@dataclass
class Service:
    process: subprocess.Popen
    base: str
    port: int
    log_path: Path
    exit_code: int | None = None
    died: bool = False  # exited before it was told to stop

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process.poll() is not None:
            self.died = True
        else:
            self.process.terminate()  # uvicorn finishes the requests under way, then exits
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.exit_code = self.process.returncode


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def running_service(url: str, *, workdir: Path, clients: int) -> Iterator[Service]:
    """`leadms intake serve` on a free loopback port, answering /healthz; stopped at the end."""
    port = _free_port()
    env = {
        **os.environ,
        "LEADMS_WA_VERIFY_TOKEN": VERIFY_TOKEN,
        "LEADMS_META_APP_SECRET": SECRET,
        "LEADMS_FORM_ORIGINS": ORIGIN,
        "LEADMS_FORM_RATE_LIMIT": str(FORM_RATE_LIMIT),
    }
    env.pop("LEADMS_DATABASE_URL", None)
    command = [
        sys.executable, "-m", "leadms_tui", "--database-url", url,
        "intake", "serve", "--host", "127.0.0.1", "--port", str(port),
        "--max-connections", str(max(200, 4 * clients)),
    ]  # fmt: skip
    log_path = workdir / f"soak-service-{port}.log"
    with log_path.open("wb") as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, env=env, cwd=ROOT
        )
    service = Service(process, f"http://127.0.0.1:{port}", port, log_path)
    try:
        _wait_until_healthy(service)
        yield service
    finally:
        service.stop()


def _wait_until_healthy(service: Service, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            raise RuntimeError(f"the service exited at start:\n{service.log_tail()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{service.base}/healthz", timeout=5).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"the service did not answer /healthz in {seconds:.0f} s")


# --- what the process holds ----------------------------------------------------------------


def _children(pid: int) -> list[int]:
    """`pid` and its descendants (uvicorn runs one process here, but workers would count)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(parent, []).append(int(entry.name))
    tree, queue = [], [pid]
    while queue:
        tree.append(queue.pop())
        queue.extend(parents.get(tree[-1], []))
    return tree


def rss_kib(pid: int) -> int:
    """Resident memory of `pid` and its descendants, in KiB (VmRSS)."""
    total = 0
    for member in _children(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


def _fd_targets(pid: int) -> list[str]:
    targets = []
    for member in _children(pid):
        fd_dir = Path(f"/proc/{member}/fd")
        with contextlib.suppress(OSError):
            for fd in fd_dir.iterdir():
                with contextlib.suppress(OSError):
                    targets.append(os.readlink(fd))
    return targets


def http_connections(port: int) -> int:
    """Established TCP connections to the service's port (its side of each)."""
    suffix = f":{port:04X}"
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                count += local.endswith(suffix) and state == "01"
    return count


def db_connections(url: str, pid: int) -> int:
    """PostgreSQL: sessions on the database (ours excluded). SQLite: the service's open
    descriptors of the database file (one per pooled connection; WAL and shm not counted)."""
    if url.startswith("sqlite"):
        path = str(Path(sqlite_path(url)).resolve())
        return sum(target == path for target in _fd_targets(pid))
    with psycopg.connect(conninfo(url), autocommit=True, connect_timeout=10) as conn:
        return conn.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()[0]


# --- the database before and after ---------------------------------------------------------


def prepare(url: str) -> None:
    """Migrate and set up a small team (settings as the other benchmarks use)."""
    db = bootstrap.database(url)
    try:
        db.upgrade()

        def team(session: Any) -> None:
            set_setting(session, "timezone", TIMEZONE, actor=SYSTEM)
            set_setting(session, "phone_region", REGION, actor=SYSTEM)
            for username in ("ana", "bruno", "chloe"):
                add_user(session, username, role=Role.REP, actor=SYSTEM)
            add_user(session, "maria", role=Role.MANAGER, actor=SYSTEM)

        db.write(team)
    finally:
        db.dispose()


@dataclass
class Stored:
    leads: dict[str, int]
    inquiries: dict[str, int]
    doubled_senders: int  # webhook senders with more than one lead
    rejects: int  # rows in intake_rejects


def stored(url: str) -> Stored:
    db = bootstrap.database(url)
    try:
        with db.reading() as session:
            leads = session.execute(select(Lead.channel, func.count()).group_by(Lead.channel))
            inquiries = session.execute(
                select(Inquiry.channel, func.count()).group_by(Inquiry.channel)
            )
            senders = (
                select(Lead.channel, Lead.external_id)
                .where(Lead.external_id.is_not(None))
                .group_by(Lead.channel, Lead.external_id)
                .having(func.count() > 1)
                .subquery()
            )
            return Stored(
                leads={Channel(c).value: n for c, n in leads.all()},
                inquiries={Channel(c).value: n for c, n in inquiries.all()},
                doubled_senders=session.scalar(select(func.count()).select_from(senders)),
                rejects=session.scalar(select(func.count()).select_from(IntakeReject)),
            )
    finally:
        db.dispose()


# --- one engine ----------------------------------------------------------------------------


@dataclass
class SoakResult:
    engine: str
    clients: int
    seconds: float
    warmup: float
    answers: Answers
    ledger: Ledger
    sent: Counter[str]
    rss_start: int  # KiB, after the warm-up
    rss_end: int
    rss_samples: list[tuple[float, int]]  # (seconds into the load, KiB) every few seconds
    http_during: int  # connections open to the service at the last sample of the load
    http_after: int  # ... a moment after the clients closed theirs
    db_connections: int
    sockets: int  # the service's open sockets after the load (listener, database, clients)
    health: dict[str, Any]
    found: Stored
    service_exit: int | None
    service_died: bool

    @property
    def requests(self) -> int:
        return self.answers.requests

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile_ms(self, fraction: float) -> float:
        ordered = sorted(self.answers.latencies)
        if not ordered:
            return math.nan
        return 1000 * ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]

    @property
    def rss_change(self) -> float:
        return (self.rss_end - self.rss_start) / self.rss_start if self.rss_start else 0.0

    @property
    def leads_expected(self) -> int:
        return sum(self.ledger.leads_expected().values())

    @property
    def leads_found(self) -> int:
        return sum(self.found.leads.values())

    @property
    def inquiries_expected(self) -> int:
        return sum(self.ledger.inquiries_expected().values())

    @property
    def inquiries_found(self) -> int:
        return sum(self.found.inquiries.values())

    @property
    def failures(self) -> dict[str, str]:
        """Check name -> what went wrong; empty when the soak passed."""
        failed = {}
        statuses = self.answers.statuses
        if statuses["5xx"] or statuses["errors"]:
            errors = ", ".join(f"{n} {name}" for name, n in self.answers.errors.most_common())
            failed["errors"] = (
                f"{statuses['5xx']} 5xx and {statuses['errors']} connection errors"
                + (f" ({errors})" if errors else "")
            )
        if self.answers.unexpected:
            shown = ", ".join(f"{what} x{n}" for what, n in self.answers.unexpected.most_common(5))
            failed["answers"] = f"unexpected answers: {shown}"
        if self.rss_change > MAX_RSS_GROWTH:
            failed["rss"] = f"RSS grew {self.rss_change:.1%} after the warm-up"
        for what, expected, found in (
            ("leads", self.ledger.leads_expected(), self.found.leads),
            ("inquiries", self.ledger.inquiries_expected(), self.found.inquiries),
        ):
            if _by_channel(expected) != _by_channel(found):
                failed[what] = f"{what} expected {expected}, found {found}"
        if self.found.doubled_senders:
            failed["doubled"] = f"{self.found.doubled_senders} webhook senders have two leads"
        rejected = sum(r["rejected"] for r in self.ledger.replies.values())
        if self.found.rejects or rejected or self.health.get("lost"):
            failed["set aside"] = (
                f"{self.found.rejects} messages in intake_rejects, {rejected} rejected in "
                f"replies, {self.health.get('lost')} lost"
            )
        created = sum(r["created"] for r in self.ledger.replies.values())
        webhook_leads = sum(self.found.leads.get(c, 0) for c in WEBHOOKS)
        if created != webhook_leads:
            failed["replies"] = (
                f"webhook replies say {created} leads created, {webhook_leads} stored"
            )
        if self.service_died:
            failed["service"] = f"the service exited during the soak ({self.service_exit})"
        return failed


def _by_channel(counts: dict[str, int]) -> dict[str, int]:
    """Every channel, zero when absent (a channel outside the mix shows up too)."""
    return {channel: counts.get(channel, 0) for channel in (*CHANNELS, *counts)}


async def _drive(
    service: Service,
    *,
    seconds: float,
    clients: int,
    max_requests: int,
    warmup: float,
    traffic: Traffic,
    answers: Answers,
) -> dict[str, Any]:
    """`clients` clients until the time or the request budget runs out; RSS sampled."""
    pid, budget = service.process.pid, Budget(max_requests)
    started = time.monotonic()
    stop_at = started + seconds
    rss: dict[str, Any] = {"start": None, "samples": []}

    async def client() -> None:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(
            base_url=service.base, timeout=REQUEST_TIMEOUT, limits=limits
        ) as http:
            while time.monotonic() < stop_at and budget.take():
                await _send(http, traffic.next_shot(), answers, traffic.ledger, budget)

    async def sampler() -> None:
        await asyncio.sleep(warmup)
        rss["start"] = rss_kib(pid)
        rss["http_during"] = http_connections(service.port)
        last_progress = time.monotonic()
        while True:
            await asyncio.sleep(SAMPLE_SECONDS)
            rss["samples"].append((time.monotonic() - started, rss_kib(pid)))
            rss["http_during"] = http_connections(service.port)
            if time.monotonic() - last_progress >= PROGRESS_SECONDS:
                last_progress = time.monotonic()
                log(
                    f"  {last_progress - started:.0f} s: {answers.requests:,} requests, "
                    f"RSS {rss['samples'][-1][1] / 1024:.1f} MiB"
                )

    sampling = asyncio.create_task(sampler())
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.monotonic() - started
    rss["end"] = rss_kib(pid)
    sampling.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await sampling
    if rss["start"] is None:  # stopped on the request budget before the warm-up ended
        rss["start"] = rss["end"]
    return {"seconds": elapsed, **rss}


def run_soak(
    engine: str,
    *,
    seconds: float,
    clients: int,
    max_requests: int = 1_000_000,
    warmup: float | None = None,
    url: str | None = None,
    workdir: Path,
    pg_server: str = DEFAULT_PG_URL,
    seed: int = 17,
) -> SoakResult:
    """The soak on one engine; `url` is an empty database to use (else a scratch one)."""
    warmup = min(60.0, seconds / 10) if warmup is None else warmup
    with contextlib.ExitStack() as stack:
        if url is None:
            url = stack.enter_context(
                scratch_database(engine, name="soak", workdir=workdir, pg_server=pg_server)
            )
        prepare(url)
        ledger, answers = Ledger(), Answers()
        traffic = Traffic(ledger, seed)
        with running_service(url, workdir=workdir, clients=clients) as service:
            log(f"{engine}: {clients} clients for {seconds:.0f} s on {service.base}")
            load = asyncio.run(
                _drive(
                    service,
                    seconds=seconds,
                    clients=clients,
                    max_requests=max_requests,
                    warmup=warmup,
                    traffic=traffic,
                    answers=answers,
                )
            )
            time.sleep(0.5)  # the server notices the clients' closed connections
            health = httpx.get(f"{service.base}/healthz", timeout=10).json()
            http_after = http_connections(service.port)
            sockets = sum(t.startswith("socket:") for t in _fd_targets(service.process.pid))
            connections = db_connections(url, service.process.pid)
        found = stored(url)
        result = SoakResult(
            engine=engine,
            clients=clients,
            seconds=load["seconds"],
            warmup=warmup,
            answers=answers,
            ledger=ledger,
            sent=traffic.sent,
            rss_start=load["start"],
            rss_end=load["end"],
            rss_samples=load["samples"],
            http_during=load.get("http_during", 0),
            http_after=http_after,
            db_connections=connections,
            sockets=sockets,
            health=health,
            found=found,
            service_exit=service.exit_code,
            service_died=service.died,
        )
        if result.failures:
            log(f"{engine}: the service's log ends with:\n{service.log_tail()}")
        return result


# --- the report ----------------------------------------------------------------------------


def _mib(kib: int) -> str:
    return f"{kib / 1024:.1f} MiB"


def _trend(r: SoakResult, points: int = 12) -> str:
    """A dozen RSS samples spread over the load, then the peak."""
    samples = r.rss_samples
    step = max(1, math.ceil(len(samples) / points))
    shown = samples[::step] + ([samples[-1]] if (len(samples) - 1) % step else [])
    peak = max([r.rss_start, r.rss_end, *(kib for _, kib in samples)])
    trend = ", ".join(f"{at:.0f} s {kib / 1024:.1f}" for at, kib in shown)
    return f"{trend} MiB; peak {_mib(peak)}"


def _ending(code: int | None) -> str:
    if code is not None and code < 0:  # uvicorn re-raises the signal once it has shut down
        return f"stopped on {signal.Signals(-code).name}"
    return f"exited with {code}"


def table(results: list[SoakResult]) -> str:
    lines = [
        "| Engine | Clients | Time | Requests | req/s | p50 | p99 | ok / 4xx / 5xx / errors "
        "| RSS start → end | DB conns | HTTP conns | Leads expected / found "
        "| Inquiries expected / found | Verdict |",
        "|" + " --- |" * 14,
    ]
    for r in results:
        s = r.answers.statuses
        verdict = "pass" if not r.failures else "**FAIL**: " + ", ".join(r.failures)
        cells = [
            r.engine,
            str(r.clients),
            f"{r.seconds:.0f} s",
            f"{r.requests:,}",
            f"{r.per_second:,.0f}",
            f"{r.percentile_ms(0.50):.0f} ms",
            f"{r.percentile_ms(0.99):.0f} ms",
            f"{s['ok']:,} / {s['4xx']:,} / {s['5xx']:,} / {s['errors']:,}",
            f"{_mib(r.rss_start)} → {_mib(r.rss_end)} ({r.rss_change:+.1%})",
            str(r.db_connections),
            f"{r.http_during} → {r.http_after}",
            f"{r.leads_expected:,} / {r.leads_found:,}",
            f"{r.inquiries_expected:,} / {r.inquiries_found:,}",
            verdict,
        ]
        lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    return "\n".join(lines)


def details(r: SoakResult) -> str:
    sent = ", ".join(f"{kind} {n:,}" for kind, n in sorted(r.sent.items()))
    expected_leads, expected_inquiries = r.ledger.leads_expected(), r.ledger.inquiries_expected()
    per_channel = "; ".join(
        f"{c} {expected_leads[c]:,}/{r.found.leads.get(c, 0):,} leads, "
        f"{expected_inquiries[c]:,}/{r.found.inquiries.get(c, 0):,} inquiries"
        for c in CHANNELS
    )
    replies = "; ".join(
        f"{c} "
        + ", ".join(
            f"{k} {r.ledger.replies[c][k]:,}"
            for k in ("received", "created", "appended", "rejected")
        )
        for c in WEBHOOKS
    )
    failures = "; ".join(r.failures.values()) or "none"
    return (
        f"- **{r.engine}**: sent {sent}. Expected/found: {per_channel}. Webhook replies: "
        f"{replies}. intake_rejects {r.found.rejects}, senders with two leads "
        f"{r.found.doubled_senders}, messages never answered as expected {r.ledger.unsettled}. "
        f"RSS (start taken after a {r.warmup:.0f} s warm-up) over the load: {_trend(r)}; service "
        f"sockets after the load {r.sockets}; /healthz {json.dumps(r.health)}; the service "
        f"{_ending(r.service_exit)}. Failures: {failures}."
    )


def machine(engines: list[str], pg_server: str) -> str:
    parts = [f"{os.cpu_count()} cores", f"Python {platform.python_version()}"]
    parts.append(f"SQLite {sqlite3.sqlite_version}")
    if "postgres" in engines:
        with psycopg.connect(conninfo(pg_server), connect_timeout=10) as conn:
            parts.append(f"PostgreSQL {conn.execute('SHOW server_version').fetchone()[0]}")
    return ", ".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Soak the intake service on loopback.")
    parser.add_argument("--minutes", type=float, default=10.0, help="per engine (default 10)")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients (default 50)")
    parser.add_argument(
        "--max-requests", type=int, default=1_000_000, help="per engine, retries included"
    )
    parser.add_argument(
        "--warmup", type=float, help="seconds before the first RSS reading (default: 10%%, ≤ 60)"
    )
    parser.add_argument("--engines", default="sqlite,postgres", help="comma-separated")
    parser.add_argument("--seed", type=int, default=17, help="of the traffic mix")
    parser.add_argument("--output", type=Path, help="also write the report here (markdown)")
    parser.add_argument("--workdir", type=Path, help="for SQLite files and the service log")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="any database on the server")
    args = parser.parse_args(argv)
    engines = parse_engines(parser, args.engines)
    if args.minutes <= 0 or args.clients < 1 or args.max_requests < 1:
        parser.error("--minutes, --clients and --max-requests must be more than 0")
    seconds = args.minutes * 60
    with tempfile.TemporaryDirectory(prefix="leadms-soak-") as temporary:
        workdir = args.workdir or Path(temporary)
        workdir.mkdir(parents=True, exist_ok=True)
        results = [
            run_soak(
                engine,
                seconds=seconds,
                clients=args.clients,
                max_requests=args.max_requests,
                warmup=args.warmup,
                workdir=workdir,
                pg_server=args.pg_url,
                seed=args.seed,
            )
            for engine in engines
        ]
    report = (
        f"Soak of the intake service: {args.clients} clients for {args.minutes:g} min per "
        f"engine (at most {args.max_requests:,} requests), seed {args.seed}, finished "
        f"{datetime.now():%Y-%m-%d %H:%M} on {machine(engines, args.pg_url)}.\n\n"
        f"{table(results)}\n\n" + "\n".join(details(r) for r in results) + "\n"
    )
    print(report)
    if args.output:
        args.output.write_text(report)
    return 1 if any(r.failures for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
