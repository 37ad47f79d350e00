"""A few seconds' memory of rarely changing reads (team settings, which rules exist).

Each intake would otherwise re-read them: a round trip and an ORM load per lead. A change
made in this process forgets the entry at once; other terminals see it within `TTL_SECONDS`.
"""

import time
from collections.abc import Callable
from typing import TypeVar

from sqlmodel import Session

T = TypeVar("T")
TTL_SECONDS = 2.0
_entries: dict[tuple[str, str], tuple[float, object]] = {}


def _database_of(session: Session) -> str:
    return str(session.get_bind().url)


def remembered(
    session: Session, name: str, load: Callable[[], T], *, ttl: float = TTL_SECONDS
) -> T:
    """`load()`, or its result from less than `ttl` seconds ago on this database."""
    key = (_database_of(session), name)
    now = time.monotonic()
    entry = _entries.get(key)
    if entry is not None and now - entry[0] < ttl:
        return entry[1]  # type: ignore[return-value]
    value = load()
    _entries[key] = (now, value)
    return value


def forget(session: Session) -> None:
    """After a write that changes what is remembered for this database."""
    database = _database_of(session)
    for key in [k for k in _entries if k[0] == database]:
        del _entries[key]
