"""Lead queries."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from leadms_tui.domain.models import Lead, User


@dataclass(frozen=True)
class LeadRow:
    """One lead as lists show it."""

    id: int
    number: str
    name: str
    phone_e164: str | None
    phone_raw: str | None
    email: str | None
    channel: str
    status: str
    owner: str | None
    repeat_of: str | None
    repeat_count: int
    created_at: datetime

    def as_json(self) -> dict[str, object]:
        return {
            "number": self.number,
            "name": self.name,
            "phone_e164": self.phone_e164,
            "phone_raw": self.phone_raw,
            "email": self.email,
            "channel": self.channel,
            "status": self.status,
            "owner": self.owner,
            "repeat_of": self.repeat_of,
            "repeat_count": self.repeat_count,
            "created_at": self.created_at.isoformat(),
        }


def iter_leads(
    *, session: Session, day: date | None = None, limit: int | None = None, batch: int = 1000
) -> Iterator[LeadRow]:
    """Leads in number order (of `day`, if given), streamed in batches, never all in memory."""
    earlier = aliased(Lead)
    stmt = (
        select(
            Lead.id,
            Lead.number,
            Lead.name,
            Lead.phone_e164,
            Lead.phone_raw,
            Lead.email,
            Lead.channel,
            Lead.status,
            User.username,
            earlier.number,
            Lead.repeat_count,
            Lead.created_at,
        )
        .outerjoin(User, User.id == Lead.owner_id)
        .outerjoin(earlier, earlier.id == Lead.repeat_of_id)
        .order_by(Lead.business_date, Lead.seq)
    )
    if day is not None:
        stmt = stmt.where(Lead.business_date == day)
    if limit is not None:
        stmt = stmt.limit(limit)
    result = session.execute(stmt.execution_options(yield_per=batch))
    for row in result:
        yield LeadRow(*row)
