"""Lead numbers: LEAD-YYYYMMDD-NNN, unique and gapless per business day.

The number is taken inside the transaction that inserts the lead, with one
upsert on the day's counter row. On PostgreSQL the upsert row-locks the counter
until commit; on SQLite the write transaction already holds the database lock
(`BEGIN IMMEDIATE`). A rollback undoes the increment, so no gap is left.
"""

from datetime import date

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from leadms_tui.domain.models import DayCounter


def format_lead_number(day: date, seq: int) -> str:
    """LEAD-20261125-007; the sequence widens past 999 (LEAD-20261125-1000)."""
    return f"LEAD-{day:%Y%m%d}-{seq:03d}"


def take_next_seq(session: Session, day: date) -> int:
    """Increment and return the day's counter, locking it until the transaction ends."""
    dialect = sqlite if session.get_bind().dialect.name == "sqlite" else postgresql
    table = DayCounter.__table__
    upsert = dialect.insert(table).values(business_date=day, last_seq=1)
    upsert = upsert.on_conflict_do_update(
        index_elements=[table.c.business_date],
        set_={"last_seq": table.c.last_seq + 1},
    ).returning(table.c.last_seq)
    return session.execute(upsert).scalar_one()


def give_back_seq(session: Session, day: date) -> None:
    """Undo `take_next_seq` in the same transaction (the lock is still held)."""
    table = DayCounter.__table__
    session.execute(
        table.update().where(table.c.business_date == day).values(last_seq=table.c.last_seq - 1)
    )
