"""The audit trail's seals: a sha256 over every audit_events column but `personal`, in id
order, stored with the last event it covers. `verify` recomputes each seal's digest, so an
event changed or removed after a seal is found; `people erase` seals before it clears
personal values and checks the seal after, proving it touched only `personal`."""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select
from sqlmodel import Session

from leadms_tui.domain import audit, clock
from leadms_tui.domain.audit import plain
from leadms_tui.domain.models import AuditEvent, AuditSeal, saved_id, table_of

_EVENTS = table_of(AuditEvent)
_SEALS = table_of(AuditSeal)
TRAIL_COLUMNS = [c for c in _EVENTS.columns if c.key != "personal"]
_BATCH = 5_000


@dataclass(frozen=True)
class Seal:
    id: int
    last_event_id: int
    events: int
    digest: str
    sealed_at: datetime


@dataclass(frozen=True)
class Verified:
    events: int  # in the whole trail
    seals: int  # seals checked
    broken: list[str]  # one line per seal the trail no longer matches; empty: verified

    @property
    def ok(self) -> bool:
        return not self.broken


def _canonical(row: dict[str, object]) -> bytes:
    return json.dumps(
        {key: plain(value) for key, value in row.items()}, sort_keys=True, default=str
    ).encode()


def _walk(conn: Connection, stops: list[int]) -> tuple[dict[int, tuple[int, str]], int, str]:
    """One pass over the trail in id order: (events, digest) at each id in `stops` (the
    trail up to and with it), and the whole trail's count and digest."""
    digest = hashlib.sha256()
    count = 0
    at_stop: dict[int, tuple[int, str]] = {}
    pending = sorted(set(stops))
    result = conn.execute(  # the option on the statement: set on `conn` it would stay
        select(*TRAIL_COLUMNS).order_by(_EVENTS.c.id).execution_options(yield_per=_BATCH)
    )
    for row in result.mappings():
        while pending and row["id"] > pending[0]:
            at_stop[pending.pop(0)] = (count, digest.hexdigest())
        digest.update(_canonical(dict(row)))
        count += 1
    for stop in pending:
        at_stop[stop] = (count, digest.hexdigest())
    return at_stop, count, digest.hexdigest()


def seal(session: Session, actor: audit.Actor, *, now: datetime | None = None) -> Seal:
    """Seal the trail as it is now (audited `audit.seal`, after the seal: the next one covers
    that event)."""
    at = clock.as_utc(now or clock.now())
    conn = session.connection()
    last = conn.execute(select(func.max(_EVENTS.c.id))).scalar() or 0
    stops, _, _ = _walk(conn, [last])
    events, digest = stops[last]
    row = AuditSeal(sealed_at=at, last_event_id=last, events=events, digest=digest)
    session.add(row)
    session.flush()
    audit.record(
        session, actor, "audit.seal", "audit_seal", row.id,
        after={"last_event_id": last, "events": events, "digest": digest}, at=at,
    )  # fmt: skip
    return Seal(saved_id(row), last, events, digest, at)


def verify(session: Session) -> Verified:
    """Recompute every seal's digest over the trail as it is now."""
    conn = session.connection()
    seals = list(session.execute(select(AuditSeal).order_by(AuditSeal.id)).scalars())
    stops, count, _ = _walk(conn, [s.last_event_id for s in seals])
    broken = []
    for row in seals:
        events, digest = stops[row.last_event_id]
        if (events, digest) != (row.events, row.digest):
            broken.append(
                f"seal {row.id} ({row.sealed_at:%Y-%m-%d %H:%M} UTC, events up to "
                f"{row.last_event_id}): the trail now gives {events} events, digest "
                f"{digest[:12]}…, sealed {row.events}, {row.digest[:12]}…"
            )
    return Verified(count, len(seals), broken)


def check_unchanged(session: Session, sealed: Seal) -> bool:
    """Whether the trail up to `sealed` still gives its digest."""
    stops, _, _ = _walk(session.connection(), [sealed.last_event_id])
    return stops[sealed.last_event_id] == (sealed.events, sealed.digest)
