"""Asterisk Manager Interface (AMI) into phone events: the adapter behind `leadms phone bridge`.

A plain asyncio TCP client. It reads the greeting, logs in (`Action: Login`; an `Error` stops it
with the server's message), asks for the call and CDR events (`Events: call,cdr`) and pings
every `ping_seconds`. Messages are `Key: Value` lines ending in a blank line; a bare `\\n` is
taken like `\\r\\n`, a repeated key keeps every value, an unknown event is skipped.

`CallTracker` turns the documented events of one call (all legs share its `Linkedid`) into
`PhoneEvent`s: `Newchannel` / `DialBegin` ring, `DialEnd` with `DialStatus: ANSWER` and
`BridgeEnter` answer, the `Hangup` of the first leg and the `Cdr` end the call (the CDR's
`BillableSeconds` is the talk time). The rep's leg is the channel of a local extension
(`PJSIP/201-0000001a` is extension 201); which side it is on gives the direction.

Storing never holds up the socket: events go to a bounded queue that one worker thread writes
to the database (`record_phone_event`), so a slow database delays the calls' rows, never the
reader (a full queue drops the newest event, counted and logged). A dropped connection is
retried with exponential backoff and the gap logged with its length: Asterisk does not replay
what it sent while the bridge was away, but the `Cdr` of a call that ended in the gap still
arrives if the call ended after the reconnect.
"""

import asyncio
import contextlib
import itertools
import logging
import queue
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from leadms_tui.domain import clock, text
from leadms_tui.domain.errors import ValidationError
from leadms_tui.domain.models import CallDirection, PhoneCallState
from leadms_tui.domain.phone.bridge import EndStatus, PhoneEvent

log = logging.getLogger("leadms.phone.ami")
PROVIDER = "asterisk"
MAX_LINE = 8192  # an AMI line is short; a longer one is a broken or hostile peer
MAX_FIELDS = 256  # per message
DEFAULT_TECHS = ("PJSIP", "SIP", "IAX2", "DAHDI")

DIAL_STATUS = {
    "ANSWER": EndStatus.ANSWERED,
    "BUSY": EndStatus.BUSY,
    "NOANSWER": EndStatus.NO_ANSWER,
    "CANCEL": EndStatus.CANCELED,
    "CHANUNAVAIL": EndStatus.FAILED,
    "CONGESTION": EndStatus.FAILED,
}
DISPOSITION = {
    "ANSWERED": EndStatus.ANSWERED,
    "NO ANSWER": EndStatus.NO_ANSWER,
    "BUSY": EndStatus.BUSY,
    "FAILED": EndStatus.FAILED,
    "CONGESTION": EndStatus.FAILED,
}
HANGUP_CAUSE = {"17": EndStatus.BUSY, "18": EndStatus.NO_ANSWER, "19": EndStatus.NO_ANSWER}
RECORDING_VARIABLES = {"MIXMONITOR_FILENAME", "CALLFILENAME"}  # MixMonitor's, FreePBX's


class AmiLoginError(Exception):
    """The manager refused the login (wrong user or secret, or a host not permitted)."""


# --- the wire format ------------------------------------------------------------------------


class AmiMessage:
    """One AMI message: its `Key: Value` pairs in order (a key may repeat). Keys are looked
    up without regard to case."""

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        self.pairs = list(pairs)

    def get(self, key: str, default: str = "") -> str:
        wanted = key.lower()
        for name, value in self.pairs:
            if name.lower() == wanted:
                return value
        return default

    def all(self, key: str) -> list[str]:
        wanted = key.lower()
        return [value for name, value in self.pairs if name.lower() == wanted]

    @property
    def event(self) -> str:
        return self.get("Event")

    def __repr__(self) -> str:
        return f"AmiMessage({self.pairs!r})"


def encode(pairs: Iterable[tuple[str, str]]) -> bytes:
    """A message on the wire; values lose line breaks (a value cannot carry one in AMI)."""
    lines = [f"{k}: {text.clean_line(str(v)).replace(chr(13), ' ')}" for k, v in pairs]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class AmiParser:
    """Bytes in, messages out. Lines end in `\\r\\n` or a bare `\\n`; a blank line ends a
    message; a line without `:` is kept under the key '' (the greeting, alone before any
    message, is a message of its own)."""

    def __init__(self) -> None:
        self._buffer = b""
        self._pairs: list[tuple[str, str]] = []

    def feed(self, data: bytes) -> list[AmiMessage]:
        self._buffer += data
        messages = []
        while True:
            end = self._buffer.find(b"\n")
            if end < 0:
                if len(self._buffer) > MAX_LINE:
                    raise ValueError("an AMI line longer than 8 KiB")
                return messages
            raw, self._buffer = self._buffer[:end], self._buffer[end + 1 :]
            message = self.line(raw.rstrip(b"\r").decode("utf-8", "replace"))
            if message is not None:
                messages.append(message)

    def line(self, line: str) -> AmiMessage | None:
        if not line.strip():
            if not self._pairs:
                return None
            message, self._pairs = AmiMessage(self._pairs), []
            return message
        if len(self._pairs) >= MAX_FIELDS:
            raise ValueError("an AMI message with too many fields")
        key, colon, value = line.partition(":")
        if not colon and not self._pairs:
            return AmiMessage([("", line.strip())])  # the greeting: one line of its own
        self._pairs.append((key.strip(), value.strip()) if colon else ("", line.strip()))
        return None


# --- from events to calls -------------------------------------------------------------------


@dataclass(frozen=True)
class Extensions:
    """Which channels are the team's phones: `TECH/PEER-suffix` with a configured technology
    and a peer name matching `pattern` (digits by default; trunks have names)."""

    techs: tuple[str, ...] = DEFAULT_TECHS
    pattern: str = r"\d{2,8}"

    def of(self, channel: str) -> str | None:
        tech, slash, rest = channel.partition("/")
        if not slash or tech.upper() not in {t.upper() for t in self.techs}:
            return None
        peer = rest.rsplit("-", 1)[0] if "-" in rest else rest
        return peer if re.fullmatch(self.pattern, peer) else None


def _number(value: str) -> str | None:
    """A phone number as the PBX wrote it, or None for what is not one (`s`, `<unknown>`)."""
    value = value.strip()
    if "/" in value:  # a dial string: PJSIP/trunk/+447700900123 or SIP/provider/0770...
        value = value.rsplit("/", 1)[-1]
    value = value.split("@", 1)[0].removeprefix("sip:").removeprefix("tel:")
    digits = re.sub(r"\D", "", value)
    return value if len(digits) >= 6 and len(value) <= 40 else None


@dataclass
class _Call:
    linkedid: str
    direction: CallDirection | None = None
    extension: str | None = None
    remote: str | None = None
    shown: str | None = None  # what stood for the number when it was none (anonymous)
    status: EndStatus | None = None
    recording_file: str | None = None
    answered: bool = False


@dataclass
class CallTracker:
    """What the bridge remembers of recent calls (bounded): their direction, the rep's
    extension, the person's number, the last dial status and the recording file, so each
    event can be turned into a complete `PhoneEvent`."""

    extensions: Extensions = field(default_factory=Extensions)
    recording_url: str | None = None  # a template: {uniqueid}, {linkedid}, {file}
    max_calls: int = 20_000
    calls: OrderedDict[str, _Call] = field(default_factory=OrderedDict)
    linked: OrderedDict[str, str] = field(default_factory=OrderedDict)  # uniqueid -> linkedid

    def events(self, message: AmiMessage, now: datetime | None = None) -> list[PhoneEvent]:
        """The phone events `message` says (none for what is not about a call)."""
        handler = getattr(self, f"_on_{message.event.lower()}", None)
        if handler is None:
            return []
        at = _timestamp(message.get("Timestamp")) or now or clock.now()
        return [e for e in handler(message, at) if e is not None]

    # each handler: the events of one AMI event

    def _on_newchannel(self, m: AmiMessage, at: datetime) -> list[PhoneEvent | None]:
        call = self._call(m)
        if call is None:
            return []
        if m.get("Uniqueid") != call.linkedid or call.direction is not None:
            return []  # a later leg: its Dial events say what it is
        extension = self.extensions.of(m.get("Channel"))
        if extension is not None:  # a rep's phone started the call
            call.direction, call.extension = CallDirection.OUTBOUND, extension
            call.remote = call.remote or _number(m.get("Exten"))
        else:
            call.direction = CallDirection.INBOUND
            call.remote = call.remote or _number(m.get("CallerIDNum"))
            call.shown = _shown(m.get("CallerIDNum"))
        return [self._event(call, PhoneCallState.RINGING, at)]

    def _on_dialbegin(self, m: AmiMessage, at: datetime) -> list[PhoneEvent | None]:
        call = self._call(m)
        if call is None:
            return []
        dest = self.extensions.of(m.get("DestChannel"))
        caller = self.extensions.of(m.get("Channel"))
        if call.direction is None:
            outbound = caller is not None and dest is None
            call.direction = CallDirection.OUTBOUND if outbound else CallDirection.INBOUND
        if call.direction == CallDirection.INBOUND:
            call.extension = call.extension or dest
            call.remote = call.remote or _number(m.get("CallerIDNum"))
        else:
            call.extension = call.extension or caller
            call.remote = call.remote or _first_number(
                m.get("DialString"), m.get("DestCallerIDNum"), m.get("DestExten")
            )
        return [self._event(call, PhoneCallState.RINGING, at)]

    def _on_dialend(self, m: AmiMessage, at: datetime) -> list[PhoneEvent | None]:
        call = self._call(m)
        if call is None:
            return []
        status = DIAL_STATUS.get(m.get("DialStatus").upper())
        if status is None:
            return []
        call.status = status
        if status == EndStatus.ANSWERED:
            if call.direction == CallDirection.INBOUND:
                # the phone that answered (a ring group rang several)
                call.extension = self.extensions.of(m.get("DestChannel")) or call.extension
            return [self._answer(call, at)]
        return []

    def _on_bridgeenter(self, m: AmiMessage, at: datetime) -> list[PhoneEvent | None]:
        call = self._call(m)
        return [self._answer(call, at)] if call is not None else []

    def _on_hangup(self, m: AmiMessage, at: datetime) -> list[PhoneEvent | None]:
        call = self._call(m)
        if call is None or m.get("Uniqueid") != call.linkedid:
            return []  # a later leg hanging up does not end the call
        status = call.status or HANGUP_CAUSE.get(m.get("Cause"))
        if status is None:
            status = EndStatus.ANSWERED if call.answered else EndStatus.NO_ANSWER
        return [self._event(call, PhoneCallState.ENDED, at, end_status=status)]

    def _on_cdr(self, m: AmiMessage, at: datetime) -> list[PhoneEvent | None]:
        uniqueid = m.get("UniqueID")
        linkedid = self.linked.get(uniqueid) or m.get("LinkedID") or uniqueid
        if not linkedid:
            return []
        call = self._remember(linkedid)
        if call.direction is None:  # a call that began while the bridge was away
            source = self.extensions.of(m.get("Channel"))
            call.direction = CallDirection.OUTBOUND if source else CallDirection.INBOUND
            if source:
                call.extension, call.remote = source, _number(m.get("Destination"))
            else:
                call.extension = self.extensions.of(m.get("DestinationChannel"))
                call.remote = _number(m.get("Source"))
        status = DISPOSITION.get(m.get("Disposition").upper())
        billable = m.get("BillableSeconds").strip()
        seconds = int(billable) if billable.isdigit() and len(billable) < 9 else None
        return [
            self._event(
                call,
                PhoneCallState.ENDED,
                at,
                end_status=status,
                duration=seconds,
                uniqueid=uniqueid,
            )
        ]

    def _on_varset(self, m: AmiMessage, at: datetime) -> list[PhoneEvent | None]:
        if m.get("Variable").upper() not in RECORDING_VARIABLES or not m.get("Value"):
            return []
        call = self._call(m)
        if call is not None:
            call.recording_file = m.get("Value").rsplit("/", 1)[-1]
        return []

    def _on_mixmonitorstart(self, m: AmiMessage, at: datetime) -> list[PhoneEvent | None]:
        return []  # carries no file name: the recording is named by its VarSet or the template

    # helpers

    def _call(self, m: AmiMessage) -> _Call | None:
        uniqueid, linkedid = m.get("Uniqueid"), m.get("Linkedid") or m.get("Uniqueid")
        if not linkedid:
            return None
        if uniqueid:
            self.linked[uniqueid] = linkedid
            self.linked.move_to_end(uniqueid)
            while len(self.linked) > self.max_calls * 4:
                self.linked.popitem(last=False)
        return self._remember(linkedid)

    def _remember(self, linkedid: str) -> _Call:
        call = self.calls.get(linkedid)
        if call is None:
            call = self.calls[linkedid] = _Call(linkedid)
            while len(self.calls) > self.max_calls:
                self.calls.popitem(last=False)
        return call

    def _answer(self, call: _Call, at: datetime) -> PhoneEvent | None:
        call.answered = True
        return self._event(call, PhoneCallState.ANSWERED, at)

    def _event(
        self,
        call: _Call,
        state: PhoneCallState,
        at: datetime,
        *,
        end_status: EndStatus | None = None,
        duration: int | None = None,
        uniqueid: str | None = None,
    ) -> PhoneEvent | None:
        if call.direction is None:
            return None
        recording = None
        if state == PhoneCallState.ENDED and (end_status or call.status) == EndStatus.ANSWERED:
            recording = self._recording(call, uniqueid or call.linkedid)
        return PhoneEvent(
            provider=PROVIDER,
            call_id=call.linkedid,
            state=state,
            at=at,
            direction=call.direction,
            extension=call.extension,
            remote_number=call.remote or call.shown,
            duration_seconds=duration,
            end_status=end_status,
            recording_url=recording,
        )

    def _recording(self, call: _Call, uniqueid: str) -> str | None:
        if not self.recording_url:
            return None
        if "{file}" in self.recording_url and not call.recording_file:
            return None
        try:
            return self.recording_url.format(
                uniqueid=uniqueid, linkedid=call.linkedid, file=call.recording_file or ""
            )
        except (KeyError, IndexError, ValueError):
            return None


def _shown(value: str) -> str | None:
    value = value.strip()
    return value[:40] if value and value.lower() not in {"<unknown>", "unknown", "s"} else None


def _first_number(*values: str) -> str | None:
    return next((n for n in map(_number, values) if n), None)


def _timestamp(value: str) -> datetime | None:
    """AMI's `Timestamp: 1700000000.123456` (manager.conf `timestampevents = yes`)."""
    try:
        seconds = float(value)
    except ValueError:
        return None
    if not 946_684_800 <= seconds <= 32_503_680_000:  # 2000 .. 3000
        return None
    return datetime.fromtimestamp(seconds, UTC)


# --- storing without blocking ---------------------------------------------------------------


@dataclass
class BridgeStats:
    received: int = 0  # AMI messages read
    events: int = 0  # phone events made of them
    stored: int = 0  # phone events written (a repeat counts: it is a no-op write)
    skipped: int = 0  # refused by the domain (unknown extension and unreadable number)
    dropped: int = 0  # the queue was full
    failed: int = 0  # the database failed them
    connections: int = 0
    gaps: list[float] = field(default_factory=list)  # seconds without a connection


class EventWriter:
    """A bounded queue and one thread storing what is put in it with `store`; `put` never
    blocks. Refused events are logged once per call and skipped."""

    def __init__(
        self,
        store: Callable[[PhoneEvent], object],
        stats: BridgeStats,
        *,
        maxsize: int = 10_000,
    ) -> None:
        self.store, self.stats = store, stats
        self.queue: queue.Queue[PhoneEvent | None] = queue.Queue(maxsize)
        self._refused: OrderedDict[str, None] = OrderedDict()
        self._dropped_logged = 0.0
        self._closing = threading.Event()
        self.thread = threading.Thread(target=self._run, name="ami-writer", daemon=True)
        self.thread.start()

    def put(self, event: PhoneEvent) -> None:
        try:
            self.queue.put_nowait(event)
        except queue.Full:
            self.stats.dropped += 1
            if time.monotonic() - self._dropped_logged > 60:
                self._dropped_logged = time.monotonic()
                log.error("the database is behind: %d phone events dropped", self.stats.dropped)

    def join(self) -> None:
        """Wait until everything queued is stored."""
        self.queue.join()

    def close(self, timeout: float = 30) -> None:
        """Store what is queued (for at most `timeout` seconds), then stop the thread."""
        self._closing.set()
        with contextlib.suppress(queue.Full):
            self.queue.put_nowait(None)
        self.thread.join(timeout)

    def _run(self) -> None:
        while True:
            try:
                event = self.queue.get(timeout=0.5)
            except queue.Empty:
                if self._closing.is_set():
                    return
                continue
            try:
                if event is None:
                    return
                self._store(event)
            finally:
                self.queue.task_done()

    def _store(self, event: PhoneEvent) -> None:
        for attempt in range(3):
            try:
                self.store(event)
                self.stats.stored += 1
                return
            except ValidationError as refused:
                self.stats.skipped += 1
                if event.call_id not in self._refused:
                    self._refused[event.call_id] = None
                    if len(self._refused) > 10_000:
                        self._refused.popitem(last=False)
                    log.warning("skipped: %s", text.visible(str(refused)))
                return
            except Exception:
                if attempt == 2:
                    self.stats.failed += 1
                    log.exception("could not store phone event of call %s", event.call_id)
                    return
                time.sleep(0.5 * (attempt + 1))


def database_store(db) -> Callable[[PhoneEvent], object]:  # db: domain.db.Database
    from leadms_tui.domain.phone.bridge import record_phone_event

    return lambda event: db.write(lambda session: record_phone_event(session, event))


# --- the client -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AmiConfig:
    host: str = "127.0.0.1"
    port: int = 5038
    username: str = "leadms"
    secret: str = ""
    events: str = "call,cdr"  # the event mask sent with `Action: Events` ("on": all)
    ping_seconds: float = 20
    timeout: float = 10  # to connect, and for an answer to an action
    backoff_first: float = 1
    backoff_max: float = 60
    extensions: Extensions = field(default_factory=Extensions)
    recording_url: str | None = None  # e.g. https://pbx.example/rec/{uniqueid}.wav


class AmiClient:
    """Connects, logs in, reads events and hands the phone events to `writer`; reconnects."""

    def __init__(self, config: AmiConfig, writer: EventWriter) -> None:
        self.config, self.writer, self.stats = config, writer, writer.stats
        self.tracker = CallTracker(config.extensions, config.recording_url)
        self.logged_in = asyncio.Event()
        self._ids = itertools.count(1)
        self._pending: dict[str, asyncio.Future[AmiMessage]] = {}
        self._writer: asyncio.StreamWriter | None = None

    async def run(self, *, stop: asyncio.Event | None = None) -> None:
        """Until `stop` is set (or a refused login, raised as AmiLoginError)."""
        stop = stop or asyncio.Event()
        delay = self.config.backoff_first
        lost_at: float | None = None
        while not stop.is_set():
            try:
                session = asyncio.create_task(self._session(lost_at))
                stopper = asyncio.create_task(stop.wait())
                done, _ = await asyncio.wait({session, stopper}, return_when="FIRST_COMPLETED")
                stopper.cancel()
                if session not in done:
                    session.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await session
                    return
                session.result()
                log.warning("the AMI connection was closed by %s", self._where)
                delay = self.config.backoff_first
            except AmiLoginError:
                raise
            except (OSError, TimeoutError, ValueError, EOFError) as exc:
                log.warning(
                    "AMI %s: %s; retrying in %.0f s",
                    self._where,
                    text.visible(str(exc) or type(exc).__name__),
                    delay,
                )
            if self.logged_in.is_set():
                delay = self.config.backoff_first  # it was up: start the backoff over
            self.logged_in.clear()
            lost_at = lost_at or time.monotonic()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            delay = min(delay * 2, self.config.backoff_max)

    @property
    def _where(self) -> str:
        return f"{self.config.host}:{self.config.port}"

    async def _session(self, lost_at: float | None) -> None:
        c = self.config
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(c.host, c.port, limit=MAX_LINE * 2), c.timeout
        )
        self._writer = writer
        parser = AmiParser()
        reading = asyncio.create_task(self._read(reader, parser))
        try:
            await self._login()
            self.stats.connections += 1
            if lost_at is not None:
                gap = time.monotonic() - lost_at
                self.stats.gaps.append(gap)
                log.warning(
                    "AMI reconnected to %s after a gap of %.1f s: events of that time were not "
                    "received (calls that ended in it keep what was stored before)",
                    self._where,
                    gap,
                )
            else:
                log.info("AMI connected to %s", self._where)
            self.logged_in.set()
            pinging = asyncio.create_task(self._ping())
            try:
                await reading
            finally:
                pinging.cancel()
        finally:
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reading
            self._writer = None
            for pending in self._pending.values():
                pending.cancel()
            self._pending.clear()
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _login(self) -> None:
        c = self.config
        answer = await self.action("Login", Username=c.username, Secret=c.secret)
        if answer.get("Response").lower() != "success":
            message = text.visible(answer.get("Message") or "no reason given")
            raise AmiLoginError(f"the AMI at {self._where} refused user {c.username}: {message}")
        answer = await self.action("Events", EventMask=c.events)
        if answer.get("Response").lower() not in {"success", "events off", "events on"}:
            log.warning("AMI Events %s: %s", c.events, text.visible(answer.get("Message")))

    async def action(self, name: str, **fields: str) -> AmiMessage:
        """Send `Action: name` with `fields` and wait for its response."""
        if self._writer is None:
            raise ConnectionError("not connected")
        action_id = f"leadms-{next(self._ids)}"
        future: asyncio.Future[AmiMessage] = asyncio.get_running_loop().create_future()
        self._pending[action_id] = future
        self._writer.write(encode([("Action", name), ("ActionID", action_id), *fields.items()]))
        try:
            await self._writer.drain()
            return await asyncio.wait_for(future, self.config.timeout)
        finally:
            self._pending.pop(action_id, None)

    async def _ping(self) -> None:
        while True:
            await asyncio.sleep(self.config.ping_seconds)
            try:
                await self.action("Ping")
            except TimeoutError:
                log.warning("AMI %s did not answer a ping; reconnecting", self._where)
                if self._writer is not None:
                    self._writer.close()
                return

    async def _read(self, reader: asyncio.StreamReader, parser: AmiParser) -> None:
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    return
                for message in parser.feed(data):
                    self._dispatch(message)
        finally:  # an action waiting for its answer learns the connection is gone
            for pending in self._pending.values():
                if not pending.done():
                    pending.set_exception(ConnectionError("the AMI connection closed"))

    def _dispatch(self, message: AmiMessage) -> None:
        self.stats.received += 1
        response = message.get("Response")
        if response and not message.event:
            future = self._pending.get(message.get("ActionID"))
            if future is not None and not future.done():
                future.set_result(message)
            return
        if not message.event:
            return  # the greeting, a stray line
        try:
            events = self.tracker.events(message)
        except Exception:  # an event shaped in a way never seen must not stop the bridge
            log.exception("could not read AMI event %s", text.visible(message.event[:64]))
            return
        for event in events:
            self.stats.events += 1
            self.writer.put(event)


async def originate(
    config: AmiConfig, extension: str, number: str, *, context: str, caller_id: str = ""
) -> AmiMessage:
    """Click to call: one connection, `Action: Originate` ringing the rep's `extension`,
    then dialling `number` in `context`; the server's answer."""
    writer = EventWriter(lambda event: None, BridgeStats(), maxsize=1)
    client = AmiClient(config, writer)
    reader, stream = await asyncio.wait_for(
        asyncio.open_connection(config.host, config.port, limit=MAX_LINE * 2), config.timeout
    )
    client._writer = stream
    reading = asyncio.create_task(client._read(reader, AmiParser()))
    try:
        answer = await client.action("Login", Username=config.username, Secret=config.secret)
        if answer.get("Response").lower() != "success":
            raise AmiLoginError(text.visible(answer.get("Message") or "login refused"))
        client.logged_in.set()
        tech = config.extensions.techs[0] if config.extensions.techs else "PJSIP"
        return await client.action(
            "Originate",
            Channel=f"{tech}/{extension}",
            Exten=number,
            Context=context,
            Priority="1",
            CallerID=caller_id or number,
            Async="true",
        )
    finally:
        reading.cancel()
        stream.close()
        writer.close(timeout=1)


async def dial_loop(
    client: AmiClient,
    db,  # domain.db.Database
    *,
    context: str,
    stop: asyncio.Event,
    interval: float = 0.5,
) -> None:
    """Click to call from the reps' terminals: while logged in, take the dial requests they
    left in the database and `Originate` each on the live connection (the rep's extension
    rings, then the number is dialled), recording the PBX's answer."""
    from leadms_tui.domain.phone.dialing import record_answer, take_pending

    tech = client.config.extensions.techs[0] if client.config.extensions.techs else "PJSIP"
    while not stop.is_set():
        if client.logged_in.is_set():
            try:
                dials = await asyncio.to_thread(db.write, lambda s: take_pending(s))
            except Exception:  # the database is away: the next round tries again
                log.exception("could not read the dial requests")
                dials = []
            for dial in dials:
                try:
                    answer = await client.action(
                        "Originate", Channel=f"{tech}/{dial.extension}", Exten=dial.number,
                        Context=context, Priority="1", CallerID=dial.number, Async="true",
                    )  # fmt: skip
                    ok = answer.get("Response").lower() == "success"
                    detail = answer.get("Message") or ("queued" if ok else "refused")
                except (OSError, TimeoutError, ConnectionError) as exc:
                    ok, detail = False, f"not sent: {exc or type(exc).__name__}"
                await asyncio.to_thread(
                    db.write, lambda s, d=dial, o=ok, m=detail: record_answer(
                        s, d.request_id, ok=o, detail=m)
                )  # fmt: skip
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
