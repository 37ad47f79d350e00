"""A stand-in Asterisk manager on loopback: greets, checks `Action: Login`, answers `Ping` and
`Events`, and replays a recorded event log (AMI messages as text, blank-line separated) at a
chosen speed. It can drop the connection after a number of events (the next connection goes on
from where the last left off, repeating the last few, as a PBX's restart can), send events twice
and swap neighbours, so the bridge meets what a real manager does to it.
"""

import asyncio
import contextlib
import random
from dataclasses import dataclass, field
from pathlib import Path

from leadms_tui.domain import clock
from leadms_tui.phone.ami import AmiMessage, AmiParser, encode

GREETING = b"Asterisk Call Manager/7.0.3\r\n"


def read_log(source: str | Path) -> list[AmiMessage]:
    """The messages of a recorded log (a path, or the text itself)."""
    raw = Path(source).read_text() if isinstance(source, Path) else source
    parser = AmiParser()
    return parser.feed((raw.rstrip("\n") + "\n\n").encode())


@dataclass
class ReplayPlan:
    """How the recorded log is played."""

    speed: float = (
        0  # 1 = as recorded (by the Timestamp fields), 10 = ten times faster, 0 = flat out
    )
    drop_after: tuple[int, ...] = ()  # close the connection once these many events were sent
    rewind: int = 0  # a new connection first repeats this many events sent before the drop
    repeat: float = 0  # the chance an event is sent twice
    reorder: float = 0  # the chance an event swaps with the next (of another channel)
    seed: int = 29


@dataclass
class AmiStandIn:
    messages: list[AmiMessage]
    username: str = "leadms"
    secret: str = "s3cret"
    plan: ReplayPlan = field(default_factory=ReplayPlan)
    sent: int = 0  # events of the log sent so far (the cursor a new connection goes on from)
    connections: int = 0
    logins: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    originated: list[AmiMessage] = field(default_factory=list)  # the Originate actions
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    port: int = 0
    _server: asyncio.Server | None = None
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._order = self._planned_order()
        self._drops = sorted(self.plan.drop_after)

    def _planned_order(self) -> list[AmiMessage]:
        chance = random.Random(self.plan.seed)
        order: list[AmiMessage] = []
        for message in self.messages:
            order.append(message)
            if chance.random() < self.plan.repeat:
                order.append(message)
        for i in range(len(order) - 1):
            # legs (and calls) interleave; one channel's own events stay in order, as Asterisk
            # sends them (its hang-up never comes before its dial ended)
            apart = order[i].get("Channel") != order[i + 1].get("Channel")
            if apart and chance.random() < self.plan.reorder:
                order[i], order[i + 1] = order[i + 1], order[i]
        return order

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        self._server = await asyncio.start_server(self._serve, host, port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):
                writer.transport.abort()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)
        writer.write(GREETING)
        parser = AmiParser()
        replay: asyncio.Task | None = None
        try:
            while True:
                data = await reader.read(4096)
                if not data:
                    return
                for action in parser.feed(data):
                    name = action.get("Action").lower()
                    self.actions.append(name)
                    action_id = action.get("ActionID")
                    if name == "login":
                        user, secret = action.get("Username"), action.get("Secret")
                        self.logins.append(user)
                        if (user, secret) != (self.username, self.secret):
                            writer.write(_response(action_id, "Error", "Authentication failed"))
                            await writer.drain()
                            return
                        writer.write(
                            _response(action_id, "Success", "Authentication accepted")
                            + encode([("Event", "FullyBooted"), ("Privilege", "system,all")])
                        )
                    elif name == "ping":
                        writer.write(
                            encode(
                                [
                                    ("Response", "Success"),
                                    ("ActionID", action_id),
                                    ("Ping", "Pong"),
                                    ("Timestamp", f"{clock.now().timestamp():.6f}"),
                                ]
                            )
                        )
                    elif name == "events":
                        writer.write(_response(action_id, "Success", "Events on"))
                        if replay is None:
                            replay = asyncio.create_task(self._replay(writer))
                    elif name == "originate":
                        self.originated.append(action)
                        writer.write(
                            _response(action_id, "Success", "Originate successfully queued")
                        )
                    elif name == "logoff":
                        writer.write(_response(action_id, "Goodbye", "Thanks for all the fish."))
                        await writer.drain()
                        return
                    else:
                        writer.write(_response(action_id, "Success", f"{name} queued"))
                await writer.drain()
        except (ConnectionError, OSError):
            return
        finally:
            if replay is not None:
                replay.cancel()
            self._writers.discard(writer)
            writer.close()

    async def _replay(self, writer: asyncio.StreamWriter) -> None:
        if self.connections > 1:
            self.sent = max(0, self.sent - self.plan.rewind)
        previous: float | None = None
        while self.sent < len(self._order):
            if self._drops and self.sent >= self._drops[0]:
                self._drops.pop(0)
                writer.transport.abort()  # a drop, not a goodbye
                return
            message = self._order[self.sent]
            stamp = _float(message.get("Timestamp"))
            if self.plan.speed > 0 and stamp is not None and previous is not None:
                await asyncio.sleep(max(0.0, stamp - previous) / self.plan.speed)
            previous = stamp if stamp is not None else previous
            writer.write(encode(message.pairs))
            self.sent += 1
            if self.sent % 50 == 0:
                await writer.drain()
        await writer.drain()
        self.finished.set()


def _response(action_id: str, response: str, message: str) -> bytes:
    return encode([("Response", response), ("ActionID", action_id), ("Message", message)])


def _float(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


async def serve_forever(log: Path, port: int, speed: float = 1) -> None:  # pragma: no cover
    """`python -m leadms_tui.standins.ami LOG PORT [SPEED]`: a manager to point a bridge at."""
    stand_in = AmiStandIn(read_log(log), plan=ReplayPlan(speed=speed))
    await stand_in.start(port=port)
    print(f"stand-in AMI on 127.0.0.1:{stand_in.port} (user leadms, secret s3cret)")
    await asyncio.Event().wait()


if __name__ == "__main__":  # pragma: no cover
    import sys

    asyncio.run(
        serve_forever(
            Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]) if len(sys.argv) > 3 else 1
        )
    )
