"""The server around the intake app: uvicorn with the bounds it lacks by default.

Connection cap, header deadline and keep-alive, a log that a flood cannot fill; the app itself
(`service.create_app`) knows nothing of sockets.
"""

import asyncio
import contextlib
import ctypes
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.applications import Starlette
from uvicorn.protocols.http.h11_impl import H11Protocol


@dataclass(frozen=True)
class ServerLimits:
    """What clients may hold of the server; uvicorn's defaults leave most of it unbounded."""

    max_connections: int = 200  # open sockets; a request beyond gets 503, a socket beyond is shut
    head_seconds: float = 10  # to send a request's line and headers (idle, slowloris: closed)
    keep_alive_seconds: int = 5  # idle between two requests on one connection
    max_header_bytes: int = 16_384  # request line and headers together
    backlog: int = 128  # connections waiting to be accepted
    graceful_shutdown_seconds: int = 10  # for requests under way when asked to stop


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with the two guards uvicorn lacks (it only times out a
    connection that is idle *between* requests):

    - a socket past `limit_concurrency` is closed as soon as it is accepted, so a flood of
      connections never exhausts the process's file descriptors;
    - each request's head must arrive within `head_seconds` of the connection (or of the
      previous response): a socket that sends nothing, or its headers a byte at a time, is
      closed instead of being held for ever.
    """

    head_seconds: float = ServerLimits.head_seconds  # set per server (see server_config)

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._head_deadline: asyncio.TimerHandle | None = None
        limit = self.config.limit_concurrency
        if limit is not None and len(self.connections) > limit:
            transport.close()
            return
        self._await_head()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
        super().connection_lost(exc)

    def _await_head(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
        self._head_deadline = self.loop.call_later(self.head_seconds, self._head_overdue)

    def _head_overdue(self) -> None:
        waiting = self.cycle is None or self.cycle.response_complete  # no request under way
        if waiting and not self.transport.is_closing():
            self.transport.close()


class LogStormFilter(logging.Filter):
    """At most `burst` records of one kind (logger and message) per `period` seconds; the next
    one let through says how many were held back. A storm of bad connections or requests then
    costs a few lines, not megabytes of log a second."""

    def __init__(self, burst: int = 10, period: float = 60) -> None:
        super().__init__()
        self.burst, self.period = burst, period
        self._kinds: dict[tuple[str, str], list[float]] = {}  # -> [since, passed, held back]

    def filter(self, record: logging.LogRecord) -> bool:
        now = time.monotonic()
        kind = (record.name, str(record.msg)[:200])
        state = self._kinds.get(kind)
        if state is None or now - state[0] >= self.period:
            held = int(state[2]) if state else 0
            if len(self._kinds) >= 1000:  # messages with variable text: stay bounded
                self._kinds.clear()
            self._kinds[kind] = state = [now, 0, 0]
            if held:
                record.msg = f"{record.msg} [{held} more like this held back]"
        if state[1] < self.burst:
            state[1] += 1
            return True
        state[2] += 1
        return False


M_ARENA_MAX = -8  # glibc's mallopt parameter


def limit_malloc_arenas(arenas: int = 2) -> None:
    """Let the service's threads share two malloc arenas (glibc; elsewhere nothing to do).

    By default glibc gives threads up to 8 arenas a core, each keeping freed memory of its
    own: under a long soak the service's RSS kept rising while Python's heap stayed flat.
    """
    with contextlib.suppress(OSError, AttributeError):  # not glibc
        ctypes.CDLL("libc.so.6").mallopt(M_ARENA_MAX, arenas)


def release_free_memory() -> bool:
    """Hand the free pages inside malloc's arenas back to the system (glibc's malloc_trim).

    Memory freed in the middle of an arena stays in the process's RSS; under a soak that was
    a steady climb of ~1-2 MiB a minute with the memory in use flat. False where not glibc.
    """
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        return False
    return True


def release_free_memory_every(seconds: float = 60) -> threading.Thread | None:
    """A daemon thread calling `release_free_memory` every `seconds` (None where not glibc)."""
    if not release_free_memory():
        return None

    def run() -> None:
        while True:
            time.sleep(seconds)
            release_free_memory()

    thread = threading.Thread(target=run, name="release free memory", daemon=True)
    thread.start()
    return thread


STORM_LOGGERS = ("uvicorn.error", "uvicorn.access", "asyncio", "leadms.intake", "leadms.sender")


def quiet_log_storms(burst: int = 10, period: float = 60) -> None:
    """Rate-limit the loggers a flood of clients can make talk (once per logger)."""
    for name in STORM_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, LogStormFilter) for f in logger.filters):
            logger.addFilter(LogStormFilter(burst, period))


def server_config(
    app: Starlette,
    *,
    host: str,
    port: int,
    limits: ServerLimits = ServerLimits(),  # frozen: safe to share
    forwarded_allow_ips: str = "127.0.0.1",
    access_log: bool = False,
    log_level: str = "info",
) -> uvicorn.Config:
    """uvicorn's configuration for the intake service, every limit set (tests use it too)."""
    protocol = type(
        "IntakeH11Protocol", (GuardedH11Protocol,), {"head_seconds": limits.head_seconds}
    )
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        http=protocol,  # h11 always: its header limit is the one set here
        lifespan="on",
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
        limit_concurrency=limits.max_connections,
        timeout_keep_alive=limits.keep_alive_seconds,
        h11_max_incomplete_event_size=limits.max_header_bytes,
        backlog=limits.backlog,
        timeout_graceful_shutdown=limits.graceful_shutdown_seconds,
        access_log=access_log,  # a line per request is a storm's best friend: off by default
        log_level=log_level,
    )
    quiet_log_storms()  # after uvicorn.Config: it (re)configures these loggers
    return config
