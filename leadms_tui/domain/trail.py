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


def _segment(conn: Connection, seed: str, after_id: int, upto_id: int) -> tuple[int, str]:
    """How many events have ids in (after_id, upto_id], and the sha256 of `seed` (the
    previous seal's digest) followed by each of them in id order."""
    digest = hashlib.sha256(seed.encode())
    count = 0
    result = conn.execute(  # the option on the statement: set on `conn` it would stay
        select(*TRAIL_COLUMNS)
        .where(_EVENTS.c.id > after_id, _EVENTS.c.id <= upto_id)
        .order_by(_EVENTS.c.id)
        .execution_options(yield_per=_BATCH)
    )
    for row in result.mappings():
        digest.update(_canonical(dict(row)))
        count += 1
    return count, digest.hexdigest()


def _as_seal(row: AuditSeal) -> Seal:
    return Seal(saved_id(row), row.last_event_id, row.events, row.digest, row.sealed_at)


def _latest(session: Session) -> Seal | None:
    row = session.execute(select(AuditSeal).order_by(AuditSeal.id.desc()).limit(1)).scalar()
    return None if row is None else _as_seal(row)


def seal(session: Session, actor: audit.Actor, *, now: datetime | None = None) -> Seal:
    """Seal the trail as it is now (audited `audit.seal`, after the seal: the next one covers
    that event). Each seal chains on the one before, so only the events since it are read."""
    at = clock.as_utc(now or clock.now())
    conn = session.connection()
    last = conn.execute(select(func.max(_EVENTS.c.id))).scalar() or 0
    previous = _latest(session)
    start, seed, before = (
        (previous.last_event_id, previous.digest, previous.events) if previous else (0, "", 0)
    )
    count, digest = _segment(conn, seed, start, last)
    row = AuditSeal(sealed_at=at, last_event_id=last, events=before + count, digest=digest)
    session.add(row)
    session.flush()
    audit.record(
        session, actor, "audit.seal", "audit_seal", row.id,
        after={"last_event_id": last, "events": row.events, "digest": digest}, at=at,
    )  # fmt: skip
    return _as_seal(row)


def verify(session: Session) -> Verified:
    """Recompute every seal's digest over the trail as it is now: each from the seal before
    it and the events between, so a changed event breaks the seal that covers it."""
    conn = session.connection()
    seals = [
        _as_seal(r) for r in session.execute(select(AuditSeal).order_by(AuditSeal.id)).scalars()
    ]
    broken = []
    previous: Seal | None = None
    for sealed in seals:
        if not _holds(conn, previous, sealed):
            broken.append(
                f"seal {sealed.id} ({sealed.sealed_at:%Y-%m-%d %H:%M} UTC, events "
                f"{previous.last_event_id + 1 if previous else 1}-{sealed.last_event_id}): "
                "the trail no longer gives its digest"
            )
        previous = sealed
    count = conn.execute(select(func.count()).select_from(_EVENTS)).scalar() or 0
    return Verified(count, len(seals), broken)


def _holds(conn: Connection, previous: Seal | None, sealed: Seal) -> bool:
    start, seed, before = (
        (previous.last_event_id, previous.digest, previous.events) if previous else (0, "", 0)
    )
    count, digest = _segment(conn, seed, start, sealed.last_event_id)
    return (before + count, digest) == (sealed.events, sealed.digest)


def check_unchanged(session: Session, sealed: Seal) -> bool:
    """Whether the events `sealed` covers since the seal before it still give its digest."""
    previous = session.execute(
        select(AuditSeal).where(AuditSeal.id < sealed.id).order_by(AuditSeal.id.desc()).limit(1)
    ).scalar()
    return _holds(session.connection(), None if previous is None else _as_seal(previous), sealed)


def digest_of(session: Session, event_ids: list[int]) -> str:
    """The sha256 of these events' trail columns in id order (to show that an update of
    their `personal` left the trail as it was)."""
    digest = hashlib.sha256()
    conn = session.connection()
    ids = sorted(event_ids)
    for start in range(0, len(ids), 1_000):
        result = conn.execute(
            select(*TRAIL_COLUMNS)
            .where(_EVENTS.c.id.in_(ids[start : start + 1_000]))
            .order_by(_EVENTS.c.id)
        )
        for row in result.mappings():
            digest.update(_canonical(dict(row)))
    return digest.hexdigest()
