"""Lead numbers: LEAD-YYYYMMDD-NNN, unique and gapless per business day.

The number is taken inside the transaction that inserts the lead, with one
upsert on the day's counter row. On PostgreSQL the upsert row-locks the counter
until commit; on SQLite the write transaction already holds the database lock
(`BEGIN IMMEDIATE`). A rollback undoes the increment, so no gap is left.
"""

from datetime import date

from sqlalchemy import bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from leadms_tui.domain.models import DayCounter, table_of


def format_lead_number(day: date, seq: int) -> str:
    """LEAD-20261125-007; the sequence widens past 999 (LEAD-20261125-1000)."""
    return f"{lead_number_prefix(day)}{seq:03d}"


def lead_number_prefix(day: date) -> str:
    return f"LEAD-{day:%Y%m%d}-"


_COUNTERS = table_of(DayCounter)


def _upsert(dialect, step: int):  # type: ignore[no-untyped-def]
    """Insert the day's counter at `step`, or add `step` to it; returns the new value."""
    statement = dialect.insert(_COUNTERS).values(business_date=bindparam("day"), last_seq=step)
    return statement.on_conflict_do_update(
        index_elements=[_COUNTERS.c.business_date],
        set_={"last_seq": _COUNTERS.c.last_seq + step},
    ).returning(_COUNTERS.c.last_seq)


# Built once per dialect: these run for every lead taken in. Only SQLite takes a number alone:
# PostgreSQL takes it inside the lead's insert (numbered_insert).
_TAKE = {"sqlite": _upsert(sqlite, 1)}
_LOCK = {"sqlite": _upsert(sqlite, 0), "postgresql": _upsert(postgresql, 0)}
_SET = (
    _COUNTERS.update()
    .where(_COUNTERS.c.business_date == bindparam("day"))
    .values(last_seq=bindparam("last_seq"))
)


def take_next_seq(session: Session, day: date) -> int:
    """Increment and return the day's counter, locking it until the transaction ends (SQLite;
    PostgreSQL numbers a lead in `numbered_insert`)."""
    conn = session.connection()
    return conn.execute(_TAKE[conn.dialect.name], {"day": day}).scalar_one()


def lock_day(session: Session, day: date) -> int:
    """Lock the day's counter (creating it) without taking a number; returns the last one."""
    conn = session.connection()
    return conn.execute(_LOCK[conn.dialect.name], {"day": day}).scalar_one()


def set_last_seq(session: Session, day: date, last_seq: int) -> None:
    """After `lock_day`: record that the numbers up to `last_seq` are given out."""
    session.connection().execute(_SET, {"day": day, "last_seq": last_seq})
