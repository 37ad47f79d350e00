"""The intake service's click-to-call loop through Twilio: the reps' dial requests out as
Twilio calls, each originated at most once.

Each round: a cheap read asks whether a request is pending (nothing is written while idle);
if so, they are claimed (`dialing`) and committed *before* any request leaves; each is then
asked of Twilio (`twilio_client`). A 429 or 5xx (Twilio created nothing) is asked again after
0.5, 1, 2, 4 s (or Twilio's `Retry-After`), within the request's `STALE_AFTER`; a refusal
fails the request with its reason in words, told to the rep; no answer at all (a timeout, a
dropped connection) leaves it `dialing`: the rep leg's status callback confirms it, else
`expire_dialing` fails it after two minutes. Nothing is ever asked twice after an answer that
might have been a yes.

It runs in the intake service because that process already holds the Twilio auth token (it
checks the callbacks) and knows the public URL the callbacks come back to.

`LEADMS_DIALER_DIE_AT` (tests only): `claimed` or `answered` kills the process with SIGKILL
right after the claim's commit, or right after Twilio's answer and before it is committed.
"""

import asyncio
import logging
import os
import signal
import time
from dataclasses import dataclass

from sqlalchemy import exists, select
from starlette.concurrency import run_in_threadpool

from leadms_tui.domain.db import Database
from leadms_tui.domain.models import DialRequest
from leadms_tui.domain.phone import dialing
from leadms_tui.domain.phone.dialing import Dial
from leadms_tui.intake.twilio_client import (
    Busy,
    CallResult,
    Created,
    Refused,
    TwilioClient,
    Unknown,
)

log = logging.getLogger("leadms.dialer")
DIE_POINTS = ("claimed", "answered")


@dataclass(frozen=True)
class DialerConfig:
    poll_seconds: float = 0.5  # LEADMS_DIAL_POLL: how often pending requests are looked for
    tries: int = 5  # asks of one request when Twilio answers 429/5xx
    first_backoff: float = 0.5  # seconds before the second ask; doubling
    expire_seconds: float = 30.0  # how often unconfirmed claims are looked for
    die_at: str | None = None  # LEADMS_DIALER_DIE_AT: tests only

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "DialerConfig":
        env = dict(os.environ if env is None else env)
        die_at = env.get("LEADMS_DIALER_DIE_AT") or None
        return cls(
            poll_seconds=max(0.05, float(env.get("LEADMS_DIAL_POLL") or 0.5)),
            die_at=die_at if die_at in DIE_POINTS else None,
        )


class Dialer:
    """Originates the pending dial requests of `db` through `client`."""

    def __init__(self, db: Database, client: TwilioClient, config: DialerConfig) -> None:
        self.db, self.client, self.config = db, client, config
        self._last_expiry = 0.0

    async def run(self) -> None:
        """Until cancelled: a round every `poll_seconds`."""
        while True:
            try:
                await self.expire_now_and_then()
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database went away, a bug: log, wait, go on
                log.exception("dialling round failed")
            await asyncio.sleep(self.config.poll_seconds)

    async def run_once(self) -> int:
        """Claim the pending requests and ask Twilio for each; how many were claimed."""
        if not await run_in_threadpool(self._anything_pending):
            return 0
        dials = await run_in_threadpool(
            self.db.write, lambda s: dialing.take_pending(s, claimed_as="dialing")
        )
        if dials:
            self._die_if("claimed")
        async with asyncio.TaskGroup() as group:
            for dial in dials:
                group.create_task(self._dial_one(dial))
        return len(dials)

    async def expire_now_and_then(self) -> int:
        if time.monotonic() - self._last_expiry < self.config.expire_seconds:
            return 0
        self._last_expiry = time.monotonic()
        expired = await run_in_threadpool(self.db.write, dialing.expire_dialing)
        if expired:
            log.warning("%d click-to-call requests not confirmed: their reps were told", expired)
        return expired

    def _anything_pending(self) -> bool:
        with self.db.reading() as session:
            return bool(session.scalar(select(exists().where(DialRequest.state == "pending"))))

    async def ask(self, dial: Dial) -> CallResult:
        """Twilio's answer for `dial`, asked again while it says 429/5xx (nothing created)."""
        wait = self.config.first_backoff
        result: CallResult = Unknown("not asked")
        for attempt in range(1, self.config.tries + 1):
            result = await self.client.create_call(dial)
            if not isinstance(result, Busy) or attempt == self.config.tries:
                break
            pause = min(result.retry_after if result.retry_after is not None else wait, 10.0)
            log.warning(
                "dial request %s: Twilio answered %s; asking again in %.1f s",
                dial.request_id, result.http_status, pause,
            )  # fmt: skip
            await asyncio.sleep(pause)
            wait *= 2
        return result

    async def _dial_one(self, dial: Dial) -> None:
        try:
            result = await self.ask(dial)
            self._die_if("answered")
            await run_in_threadpool(self._record, dial, result)
        except Exception:  # recorded nothing: the claim stays `dialing`, then expires
            log.exception("could not record Twilio's answer for dial request %s", dial.request_id)

    def _record(self, dial: Dial, result: CallResult) -> None:
        address = self.client.config.rep(dial.extension)
        if isinstance(result, Created):
            self.db.write(
                lambda s: dialing.record_twilio_call(
                    s, dial.request_id, result.sid, address=f"your phone ({address})"
                )
            )
        elif isinstance(result, Refused):
            words = dialing.twilio_words(result.code, result.message, result.http_status)
            self.db.write(lambda s: dialing.record_dial_failure(s, dial.request_id, words))
        elif isinstance(result, Busy):
            words = (
                f"Twilio was too busy to place the call (HTTP {result.http_status}, "
                f"{self.config.tries} tries): press d again"
            )
            self.db.write(lambda s: dialing.record_dial_failure(s, dial.request_id, words))
        else:
            log.warning(
                "dial request %s: no answer from Twilio (%s); left to its callback or to expire",
                dial.request_id, result.reason,
            )  # fmt: skip

    def _die_if(self, point: str) -> None:
        if self.config.die_at == point:
            os.kill(os.getpid(), signal.SIGKILL)
