"""Chat replies: how soon a reply a rep queues is sent, against the Meta Graph stand-in.

The intake service's sender (`leadms_tui.intake.sender`, its defaults: a look at the queue
every 0.5 s, at most 20 sends a second) runs in this process against the stand-in on
loopback, on the big database. Two rows:

- **send-to-sent latency**: replies queued one at a time at 5 a second (below the pace, so
  none waits for another), each on a fresh WhatsApp lead; the time from the rep's commit
  (`created_at`) to the commit of Meta's answer (`sent_at`): the wait for the next look at
  the queue, the claim's commit, the request, the answer's commit.
- **burst**: that many replies queued in one transaction; the time until the last is sent
  (paced at 20 a second, so about count / 20 s).
"""

import asyncio
import threading
import time
from datetime import timedelta

from sqlalchemy import select

from bench.common import Result, engine_of, median, p95
from leadms_tui import bootstrap
from leadms_tui.domain import clock
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.chat import outbox
from leadms_tui.domain.db import Database
from leadms_tui.domain.leads.intake import LeadCreate, receive_message
from leadms_tui.domain.models import Channel, OutboundMessage
from leadms_tui.intake.meta_client import MetaClient, MetaConfig
from leadms_tui.intake.sender import Sender, SenderConfig
from leadms_tui.standins.meta_graph import MetaGraphStandIn

LATENCY_TARGET_MS = 1000  # the poll (0.5 s) plus two commits and a loopback request
QUEUE_EVERY = 0.2  # seconds between replies in the latency run
WAIT_SECONDS = 60.0


def run(url: str, *, messages: int) -> list[Result]:
    engine = engine_of(url)
    clock.set_clock(None)  # the window is counted from real messages, now
    db = bootstrap.database(url)
    try:
        with MetaGraphStandIn() as standin, _sending(db, standin):
            latency = _latency(db, messages)
            burst, seconds = _burst(db, messages)
        received = len(standin.sends())
    finally:
        db.dispose()
    return [
        Result(
            engine,
            "chat: send-to-sent latency",
            p95(latency),
            "ms p95",
            target=f"≤ {LATENCY_TARGET_MS} ms",
            met=p95(latency) <= LATENCY_TARGET_MS,
            note=(
                f"median {median(latency):.0f} ms, worst {max(latency):.0f} ms over {messages} "
                f"replies queued {1 / QUEUE_EVERY:.0f}/s, each from the rep's commit to the "
                "commit of the stand-in's answer (sender: a look every 0.5 s, 20 sends/s)"
            ),
        ),
        Result(
            engine,
            "chat: burst",
            seconds,
            "s",
            note=(
                f"{burst} replies queued at once, all sent ({burst / seconds:.1f}/s, paced at "
                f"20/s); the stand-in received {received} sends for "
                f"{messages + burst} replies"
            ),
        ),
    ]


class _sending:
    """The sender running in a thread of its own (its own event loop), as in the service."""

    def __init__(self, db: Database, standin: MetaGraphStandIn) -> None:
        self.db, self.standin = db, standin
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> "_sending":
        config = MetaConfig(
            graph_url=self.standin.graph_url,
            whatsapp_token=self.standin.whatsapp_token,
            phone_number_id=self.standin.phone_number_id,
        )
        self.thread.start()

        async def start() -> asyncio.Task:
            self.client = MetaClient(config)
            return asyncio.create_task(Sender(self.db, self.client, SenderConfig()).run())

        self.task = asyncio.run_coroutine_threadsafe(start(), self.loop).result()
        return self

    def __exit__(self, *_: object) -> None:
        async def stop() -> None:
            self.task.cancel()
            await asyncio.wait([self.task], timeout=5)
            await self.client.aclose()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


def _leads(db: Database, count: int, prefix: str) -> list[int]:
    at = clock.now() - timedelta(minutes=1)
    stamp = int(time.time())

    def take(session) -> list[int]:
        return [
            receive_message(
                session,
                LeadCreate(
                    name=f"Chat bench {i}",
                    channel=Channel.WHATSAPP,
                    external_id=f"{prefix}{stamp % 100000:05d}{i:05d}",
                    message="Hi, is it still available?",
                    dedupe_key=f"bench-chat-{prefix}-{stamp}-{i}",
                    received_at=at,
                ),
                actor=SYSTEM,
                now=at,
            ).lead_id
            for i in range(count)
        ]

    return db.write(take)


def _wait_sent(db: Database, ids: list[int]) -> list[OutboundMessage]:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        with db.reading() as session:
            rows = list(
                session.execute(
                    select(OutboundMessage).where(OutboundMessage.id.in_(ids))
                ).scalars()
            )
        if all(r.sent_at is not None for r in rows) or time.monotonic() > deadline:
            return rows
        time.sleep(0.05)


def _latency(db: Database, messages: int) -> list[float]:
    ids = []
    for lead_id in _leads(db, messages, "4471"):
        ids.append(
            db.write(
                lambda s, lead_id=lead_id: (
                    outbox.send_text(
                        s, lead_id, "Thanks for your message: yes, it is.", actor=SYSTEM
                    ).id
                )
            )
        )
        time.sleep(QUEUE_EVERY)
    return [
        (r.sent_at - r.created_at).total_seconds() * 1000 if r.sent_at else WAIT_SECONDS * 1000
        for r in _wait_sent(db, ids)
    ]


def _burst(db: Database, messages: int) -> tuple[int, float]:
    leads = _leads(db, messages, "4472")
    started = time.perf_counter()
    ids = db.write(
        lambda s: [
            outbox.send_text(s, lead_id, "We have a slot on Friday.", actor=SYSTEM).id
            for lead_id in leads
        ]
    )
    _wait_sent(db, ids)
    return len(ids), time.perf_counter() - started
