"""The intake service's sending loop: queued chat replies out to Meta, paced, never twice.

Each round: a cheap read asks whether anything is due (nothing is written while idle); if so,
a batch is claimed and committed (`outbox.claim_due`) *before* any request leaves; each claim
is sent when the token bucket allows, and Meta's answer is committed on its own
(`record_sent` / `record_failed`). A throttling answer pauses every send (1 s, doubling up to
a minute) and puts the row back with its own backoff. An answer that never came leaves the
row `sending`: its status webhook or echo may still tell, else `expire_unconfirmed` (run here
every `expire_seconds`) shows it as not confirmed, and only a person sends it again.

`LEADMS_SENDER_DIE_AT` (tests only): `claimed` or `answered` kills the process with SIGKILL
right after the claim's commit, or right after Meta's answer and before it is committed.
"""

import asyncio
import logging
import math
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import exists, or_, select
from starlette.concurrency import run_in_threadpool

from leadms_tui.domain import clock
from leadms_tui.domain.chat import outbox
from leadms_tui.domain.chat.outbox import Claim
from leadms_tui.domain.db import Database
from leadms_tui.domain.models import MessageState, OutboundMessage
from leadms_tui.intake.meta_client import MetaClient, Refused, SendResult, Sent, Unknown

log = logging.getLogger("leadms.sender")
DIE_POINTS = ("claimed", "answered")
LONGEST_PAUSE = 60.0


@dataclass(frozen=True)
class SenderConfig:
    rate: float = 20.0  # LEADMS_CHAT_RATE: messages a second at most (Meta allows 80 by default)
    poll_seconds: float = 0.5  # LEADMS_CHAT_POLL: how often the queue is looked at
    expire_seconds: float = 30.0  # how often unconfirmed claims are looked for
    concurrency: int = 8  # requests in flight at once
    die_at: str | None = None  # LEADMS_SENDER_DIE_AT: tests only

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "SenderConfig":
        env = dict(os.environ if env is None else env)
        die_at = env.get("LEADMS_SENDER_DIE_AT") or None
        return cls(
            rate=max(0.1, float(env.get("LEADMS_CHAT_RATE") or 20)),
            poll_seconds=max(0.05, float(env.get("LEADMS_CHAT_POLL") or 0.5)),
            die_at=die_at if die_at in DIE_POINTS else None,
        )


class TokenBucket:
    """At most `rate` takes a second on average, `burst` at once; `pause` stops every take
    until then (throttled by Meta)."""

    def __init__(
        self, rate: float, burst: float | None = None, now: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate, self.burst = rate, burst if burst is not None else max(1.0, rate)
        self._now = now
        self._tokens, self._stamp = self.burst, now()
        self._paused_until = 0.0

    def wait(self) -> float:
        """Take a token; the seconds to wait before using it (0: at once)."""
        now = self._now()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        self._tokens -= 1
        wait = 0.0 if self._tokens >= 0 else -self._tokens / self.rate
        return max(wait, self._paused_until - now)

    async def take(self) -> None:
        if (wait := self.wait()) > 0:
            await asyncio.sleep(wait)

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self._now() + seconds)


class Sender:
    """Sends queued replies of `db` through `client` (see the module's words)."""

    def __init__(self, db: Database, client: MetaClient, config: SenderConfig) -> None:
        self.db, self.client, self.config = db, client, config
        self.bucket = TokenBucket(config.rate)
        self.throttled_in_a_row = 0
        self._last_expiry = 0.0
        self._in_flight = asyncio.Semaphore(config.concurrency)

    async def run(self) -> None:
        """Until cancelled: a round every `poll_seconds`, at once again while busy."""
        while True:
            try:
                await self.expire_now_and_then()
                busy = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database went away, a bug: log, wait, go on
                log.exception("sending round failed")
                busy = 0
            if not busy:
                await asyncio.sleep(self.config.poll_seconds)

    async def run_once(self) -> int:
        """Claim what is due and send it; how many were claimed."""
        if not await run_in_threadpool(self._anything_due):
            return 0
        limit = max(1, min(100, math.ceil(self.config.rate)))  # about a second's worth
        claims = await run_in_threadpool(
            self.db.write, lambda session: outbox.claim_due(session, limit=limit)
        )
        if claims:
            self._die_if("claimed")
        async with asyncio.TaskGroup() as group:
            for claim in claims:
                await self.bucket.take()
                await self._in_flight.acquire()
                group.create_task(self._send_one(claim))
        return len(claims)

    async def expire_now_and_then(self) -> int:
        if time.monotonic() - self._last_expiry < self.config.expire_seconds:
            return 0
        self._last_expiry = time.monotonic()
        expired = await run_in_threadpool(self._expire)
        if expired:
            log.warning("%d chat replies not confirmed: shown to their reps to retry", expired)
        return expired

    def _expire(self) -> int:
        with self.db.reading() as session:
            sending = session.scalar(
                select(exists().where(OutboundMessage.state == MessageState.SENDING))
            )
        return self.db.write(outbox.expire_unconfirmed) if sending else 0

    def _anything_due(self) -> bool:
        """One indexed read: is a queued row due? (Idle rounds write nothing.)"""
        at = clock.now()
        with self.db.reading() as session:
            return bool(
                session.scalar(
                    select(
                        exists().where(
                            OutboundMessage.state == MessageState.QUEUED,
                            or_(
                                OutboundMessage.not_before.is_(None),
                                OutboundMessage.not_before <= at,
                            ),
                        )
                    )
                )
            )

    async def _send_one(self, claim: Claim) -> None:
        try:
            result = await self.client.send(claim)
            self._die_if("answered")
            throttled = await run_in_threadpool(self._record, claim, result)
        except Exception:  # recorded nothing: the row stays `sending`, then unconfirmed
            log.exception("could not record the answer for message %s", claim.message_id)
            return
        finally:
            self._in_flight.release()
        if throttled:
            self.throttled_in_a_row += 1
            pause = min(LONGEST_PAUSE, 2.0 ** (self.throttled_in_a_row - 1))
            self.bucket.pause(pause)
            log.warning("Meta throttled the sends: pausing them %.0f s", pause)
        elif isinstance(result, Sent):
            self.throttled_in_a_row = 0

    def _record(self, claim: Claim, result: SendResult) -> bool:
        """Meta's answer committed; whether it was a throttling one."""
        if isinstance(result, Sent):
            self.db.write(
                lambda s: outbox.record_sent(s, claim.message_id, claim.attempt, result.provider_id)
            )
        elif isinstance(result, Refused):
            return self.db.write(
                lambda s: outbox.record_failed(
                    s,
                    claim.message_id,
                    claim.attempt,
                    code=result.code,
                    title=result.title,
                    detail=result.detail,
                )
            )
        elif isinstance(result, Unknown):
            log.warning(
                "message %s: no answer from Meta (%s); left to its status or to expire",
                claim.message_id,
                result.reason,
            )
        return False

    def _die_if(self, point: str) -> None:
        if self.config.die_at == point:
            os.kill(os.getpid(), signal.SIGKILL)
