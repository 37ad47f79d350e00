"""Saved lead-list filters: a user's search and filters kept under a name, recalled in the
lead list (`ctrl+s` saves, `ctrl+l` recalls) and by `leads export --filter NAME`.

What is kept is what the person typed and chose (dates as typed: "mon" stays next Monday's
meaning on the day it is recalled), so a recalled filter fills the list's boxes as they were.
"""

from dataclasses import asdict, dataclass, fields
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from leadms_tui.domain import audit, clock
from leadms_tui.domain.errors import ConflictError, NotFoundError, ValidationError
from leadms_tui.domain.fields.values import FieldFilter
from leadms_tui.domain.models import SavedFilter
from leadms_tui.domain.queries.leads import LeadFilter
from leadms_tui.domain.spoken_dates import parse_day
from leadms_tui.domain.text import visible

MAX_NAME = 80


class FilterExistsError(ConflictError):
    """A filter of that name is saved already: saving again replaces it only when asked."""


@dataclass(frozen=True)
class FilterCriteria:
    """The lead list's search box and filters, as typed and chosen."""

    text: str = ""
    status: str | None = None
    channel: str | None = None
    owner_id: int | None = None
    unassigned: bool = False
    date_from: str = ""  # as typed: "2026-11-01", "mon", "-7"
    date_to: str = ""
    repeats_only: bool = False
    fields: str = ""  # the field filter box: "budget>=100; goal=Strength"

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "FilterCriteria":
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})

    def lead_filter(self, today: date) -> LeadFilter:
        """The list's filter on `today` (dates read as the list reads them); a date or field
        filter that no longer reads raises ValidationError saying which."""
        return LeadFilter(
            text=self.text,
            status=self.status,
            channel=self.channel,
            owner_id=self.owner_id,
            unassigned=self.unassigned,
            date_from=_day(self.date_from, today, "from date"),
            date_to=_day(self.date_to, today, "to date"),
            repeats_only=self.repeats_only,
            fields=tuple(FieldFilter.parse(p) for p in self.fields.split(";") if p.strip()),
        )


@dataclass(frozen=True)
class SavedFilterInfo:
    id: int
    name: str
    criteria: FilterCriteria
    updated_at: datetime


def _day(text: str, today: date, what: str) -> date | None:
    return parse_day(text, today, what=what, window=clock.historic_day) if text.strip() else None


def _info(row: SavedFilter) -> SavedFilterInfo:
    assert row.id is not None
    return SavedFilterInfo(row.id, row.name, FilterCriteria.from_json(row.criteria), row.updated_at)


def _user_id(actor: audit.Actor) -> int:
    if actor.user_id is None:
        raise ValidationError("saved filters belong to a user: sign in first")
    return actor.user_id


def _name(name: str) -> str:
    cleaned = " ".join(visible(name).split())
    if not cleaned:
        raise ValidationError("a saved filter needs a name")
    if len(cleaned) > MAX_NAME:
        raise ValidationError(f"a filter's name has at most {MAX_NAME} characters")
    return cleaned


def _row(session: Session, user_id: int, name: str) -> SavedFilter | None:
    return session.execute(
        select(SavedFilter).where(SavedFilter.user_id == user_id, SavedFilter.name == name)
    ).scalar()


def list_saved_filters(*, session: Session, user_id: int) -> list[SavedFilterInfo]:
    """A user's saved filters, by name."""
    rows = session.execute(
        select(SavedFilter).where(SavedFilter.user_id == user_id).order_by(SavedFilter.name)
    ).scalars()
    return [_info(row) for row in rows]


def saved_filter(*, session: Session, user_id: int, name: str) -> SavedFilterInfo:
    """The user's filter called `name`; NotFoundError names what they have."""
    row = _row(session, user_id, _name(name))
    if row is None:
        have = ", ".join(f.name for f in list_saved_filters(session=session, user_id=user_id))
        raise NotFoundError(
            f"no saved filter {name.strip()!r}" + (f" (saved: {have})" if have else "")
        )
    return _info(row)


def save_filter(
    session: Session,
    name: str,
    criteria: FilterCriteria,
    *,
    actor: audit.Actor,
    replace: bool = False,
    now: datetime | None = None,
) -> bool:
    """Save the acting user's filter under `name` (audited); True when it replaced one of
    that name, which it does only with `replace` (else FilterExistsError)."""
    at = clock.as_utc(now or clock.now())
    user_id, name = _user_id(actor), _name(name)
    row = _row(session, user_id, name)
    if row is not None and not replace:
        raise FilterExistsError(f"a filter named {name!r} is saved already")
    if row is None:
        row = SavedFilter(user_id=user_id, name=name, criteria=criteria.as_json(),
                          created_at=at, updated_at=at)  # fmt: skip
        session.add(row)
        session.flush()
        audit.record_row(session, actor, "saved_filter.create", row, at=at)
        return False
    before = audit.snapshot(row)
    row.criteria, row.updated_at = criteria.as_json(), at
    session.add(row)
    session.flush()
    audit.record_row(session, actor, "saved_filter.replace", row, before=before, at=at)
    return True


def delete_filter(
    session: Session, name: str, *, actor: audit.Actor, now: datetime | None = None
) -> None:
    """Delete the acting user's filter `name` (audited)."""
    at = clock.as_utc(now or clock.now())
    user_id, name = _user_id(actor), _name(name)
    row = _row(session, user_id, name)
    if row is None:
        raise NotFoundError(f"no saved filter {name!r}")
    audit.record(session, actor, "saved_filter.delete", "saved_filter", row.id, at=at,
                 before=audit.snapshot(row), after=None)  # fmt: skip
    session.delete(row)
    session.flush()
