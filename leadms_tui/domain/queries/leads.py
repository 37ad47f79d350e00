"""Lead queries: streaming every lead, and the lead list's search, paged by keyset."""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, Select, and_, column, or_, select, table
from sqlalchemy.orm import InstrumentedAttribute, aliased
from sqlmodel import Session

from leadms_tui.domain.audit import Actor
from leadms_tui.domain.fields.values import (
    FieldFilter,
    FieldShown,
    context,
    filter_condition,
    values_for,
)
from leadms_tui.domain.leads.checks import readable_leads
from leadms_tui.domain.leads.phones import international_start, normalize_phone
from leadms_tui.domain.models import FieldEntity, Lead, User, fold

_NUMBER = re.compile(r"^(LEAD-?(\d{1,8}(-\d*)?)?|\d{8}-\d*)$", re.IGNORECASE)
_NUMBER_PART = re.compile(r"^\d*-?\d*$")  # digits, at most one dash: maybe inside a number
_PHONE_TEXT = re.compile(r"^[\d\s+().\-/]+$")
_HIGHEST = "\uffff"  # upper bound for prefix ranges that can use an index
# SQLite's full-text trigram table over leads (see `Lead`); its rowid is the lead's id
_SEARCH = table("lead_search", column("rowid"), column("lead_search"))


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

    @property
    def phone(self) -> str:
        return self.phone_e164 or self.phone_raw or ""

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


@dataclass(frozen=True)
class LeadFilter:
    """What the lead list is narrowed to; every field is optional."""

    text: str = ""
    status: str | None = None
    channel: str | None = None
    owner_id: int | None = None
    unassigned: bool = False
    date_from: date | None = None
    date_to: date | None = None
    repeats_only: bool = False
    fields: tuple[FieldFilter, ...] = ()  # dynamic lead fields: plan=Gold, budget>=1000


def _lead_rows() -> Select:
    earlier = aliased(Lead)
    return (
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
    )


def lead_id_by_number(*, session: Session, number: str) -> int:
    from leadms_tui.domain.errors import NotFoundError

    lead_id = session.execute(
        select(Lead.id).where(Lead.number == number.strip().upper())
    ).scalar_one_or_none()
    if lead_id is None:
        raise NotFoundError(f"no lead {number!r}")
    return lead_id


def lead_row(*, session: Session, lead_id: int) -> LeadRow:
    """One lead as lists show it."""
    from leadms_tui.domain.errors import NotFoundError

    row = session.execute(_lead_rows().where(Lead.id == lead_id)).first()
    if row is None:
        raise NotFoundError("that lead no longer exists")
    return LeadRow(*row)


def iter_leads(
    *,
    session: Session,
    viewer: Actor,
    day: date | None = None,
    limit: int | None = None,
    batch: int = 1000,
) -> Iterator[LeadRow]:
    """Leads `viewer` may open in number order (of `day`, if given), streamed in batches,
    never all in memory."""
    stmt = _lead_rows().where(Lead.merged_into_id.is_(None)).order_by(Lead.business_date, Lead.seq)
    if (readable := readable_leads(session, viewer)) is not None:
        stmt = stmt.where(readable)
    if day is not None:
        stmt = stmt.where(Lead.business_date == day)
    if limit is not None:
        stmt = stmt.limit(limit)
    for row in session.execute(stmt.execution_options(yield_per=batch)):
        yield LeadRow(*row)


def search_leads(
    *,
    session: Session,
    where: LeadFilter,
    phone_region: str,
    viewer: Actor,
    before_id: int | None = None,
    limit: int = 100,
) -> list[LeadRow]:
    """One page of matching leads `viewer` may open, newest first; pass the last row's id
    for the next page."""
    conditions = [
        Lead.merged_into_id.is_(None),
        *_text_conditions(session, where.text, phone_region),
    ]
    if (readable := readable_leads(session, viewer)) is not None:
        conditions.append(readable)
    if where.status:
        conditions.append(Lead.status == where.status)
    if where.channel:
        conditions.append(Lead.channel == where.channel)
    if where.unassigned:
        conditions.append(Lead.owner_id.is_(None))
    elif where.owner_id is not None:
        conditions.append(Lead.owner_id == where.owner_id)
    if where.date_from:
        conditions.append(Lead.business_date >= where.date_from)
    if where.date_to:
        conditions.append(Lead.business_date <= where.date_to)
    if where.repeats_only:
        conditions.append(Lead.repeat_of_id.is_not(None))
    if where.fields:
        ctx = context(session)
        conditions += [filter_condition(session, FieldEntity.LEAD, f, ctx) for f in where.fields]
    if before_id is not None:
        conditions.append(Lead.id < before_id)
    stmt = _lead_rows().order_by(Lead.id.desc()).limit(limit)
    if conditions:
        stmt = stmt.where(*conditions)
    return [LeadRow(*row) for row in session.execute(stmt)]


def _text_conditions(session: Session, text: str, phone_region: str) -> list:
    """Read the search text as a lead number, an email, a phone or a lead number's digits,
    or a name (accents and case ignored)."""
    text = " ".join(text.split())
    if not text:
        return []
    if _NUMBER.match(text):
        prefix = "LEAD-" + text.upper().removeprefix("LEAD").removeprefix("-")
        return [Lead.number >= prefix, Lead.number < prefix + _HIGHEST]
    if "@" in text:
        prefix = text.lower()
        return [Lead.email_lower >= prefix, Lead.email_lower < prefix + _HIGHEST]
    digits = re.sub(r"\D", "", text)
    if _PHONE_TEXT.match(text) and len(digits) >= 3:
        phone = normalize_phone(text, phone_region)
        found = [_containing(session, Lead.phone_e164, digits)]  # as written: "0019" is not "19"
        if phone.e164 and len(digits) >= 7:
            found.append(Lead.phone_e164 == phone.e164)  # a whole number in any format
        if start := international_start(digits, phone_region):  # "07700" is "+447700…"
            found.append(and_(Lead.phone_e164 >= start, Lead.phone_e164 < start + _HIGHEST))
        if _NUMBER_PART.match(text):  # "1129-005" may be part of LEAD-20261129-005
            found.append(_containing(session, Lead.number, text))
        return [or_(*found)]
    return [_containing(session, Lead.search_name, fold(text))]


def _containing(session: Session, field: InstrumentedAttribute, part: str) -> ColumnElement:
    """Leads whose `field` contains `part`, found through the `lead_search` index.

    Trigrams need three characters: shorter text is matched by a scan (on PostgreSQL the
    planner makes that choice itself).
    """
    if session.get_bind().dialect.name == "sqlite" and len(part) >= 3:
        phrase = part.replace('"', '""')
        found = _SEARCH.c.lead_search.match(f'{{{field.key}}}: "{phrase}"')
        return Lead.id.in_(select(_SEARCH.c.rowid).where(found))
    return field.contains(part, autoescape=True)


def export_leads(
    *, session: Session, where: LeadFilter, phone_region: str, viewer: Actor, page: int = 1000
) -> Iterator[tuple[LeadRow, list[FieldShown]]]:
    """Every lead the list's filter matches (newest first), with its dynamic fields, a page
    at a time: `leads export` streams a list of any size."""
    before_id = None
    while True:
        rows = search_leads(session=session, where=where, phone_region=phone_region,
                            viewer=viewer, before_id=before_id, limit=page)  # fmt: skip
        if not rows:
            return
        fields = values_for(session, FieldEntity.LEAD, [row.id for row in rows])
        for row in rows:
            yield row, fields.get(row.id, [])
        if len(rows) < page:
            return
        before_id = rows[-1].id
