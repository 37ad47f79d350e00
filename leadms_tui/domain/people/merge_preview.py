"""What the side-by-side merge screen shows of two leads: their own columns and lead fields,
field by field, which differ, and which lead a merge keeps by default."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from leadms_tui.domain import audit, clock
from leadms_tui.domain.errors import NotFoundError, ValidationError
from leadms_tui.domain.fields.values import values_for
from leadms_tui.domain.models import FieldEntity, Lead, User, saved_id
from leadms_tui.domain.people.duplicates import check_manages_people
from leadms_tui.domain.people.merge import CORE_COLUMNS, default_survivor, has_client


@dataclass(frozen=True)
class MergeRow:
    """One field of the two leads. `key`: a CORE_COLUMNS name or a lead field key to pick;
    None: shown, not picked (the channel, the status: the survivor's stay)."""

    label: str
    first: str
    second: str
    key: str | None
    core: bool  # one of the lead's own columns (merge `take`), else a lead field (`picks`)

    @property
    def conflict(self) -> bool:
        """Both leads have a value to pick and they differ: one of them has to go."""
        both = bool(self.first and self.second)
        return self.key is not None and both and self.first != self.second


@dataclass(frozen=True)
class MergeSide:
    id: int
    number: str
    created_at: datetime
    client: bool  # sold or made a client: it survives by default


@dataclass(frozen=True)
class MergePreview:
    first: MergeSide
    second: MergeSide
    rows: tuple[MergeRow, ...]
    survivor: str  # the number a merge keeps by default: a client wins, else the older


def _when(moment: datetime, timezone: str) -> str:
    return f"{clock.local(moment, timezone):%Y-%m-%d %H:%M}"


def _lead(session: Session, number: str) -> Lead:
    lead = session.execute(select(Lead).where(Lead.number == number.strip().upper())).scalar()
    if lead is None:
        raise NotFoundError(f"no lead {number.strip()}")
    if lead.merged_into_id is not None:
        raise ValidationError(f"{lead.number} is already merged into another lead")
    return lead


def merge_preview(
    session: Session,
    first_number: str,
    second_number: str,
    *,
    viewer: audit.Actor,
    timezone: str = "UTC",
) -> MergePreview:
    """The two leads side by side (managers and admins); times in `timezone`."""
    check_manages_people(viewer)
    first, second = _lead(session, first_number), _lead(session, second_number)
    if first.id == second.id:
        raise ValidationError("a lead cannot be merged with itself")
    owners = dict(
        session.execute(
            select(User.id, User.username).where(
                col(User.id).in_([o for o in (first.owner_id, second.owner_id) if o])
            )
        ).all()
    )

    def core(lead: Lead) -> dict[str, str]:
        return {
            "name": lead.name or "",
            "phone": lead.phone_e164 or lead.phone_raw or "",
            "email": lead.email or "",
        }

    a, b = core(first), core(second)
    rows = [MergeRow(what.capitalize(), a[what], b[what], what, True) for what in CORE_COLUMNS]
    shown = (
        ("Channel", str(first.channel), str(second.channel)),
        ("Status", str(first.status).replace("_", " "), str(second.status).replace("_", " ")),
        ("Owner", owners.get(first.owner_id, ""), owners.get(second.owner_id, "")),
        ("Created", _when(first.created_at, timezone), _when(second.created_at, timezone)),
    )
    rows += [MergeRow(label, x, y, None, True) for label, x, y in shown]
    ids = [saved_id(first), saved_id(second)]
    values = values_for(session, FieldEntity.LEAD, ids, include_retired=True)
    by_key = [{f.key: f for f in values.get(i, [])} for i in ids]
    # values_for lists every field of each lead, blank ones too: one pass covers both
    for shown_field in values.get(ids[0], []):
        key = shown_field.key
        x = shown_field.text
        y = by_key[1][key].text if key in by_key[1] else ""
        if x or y:
            rows.append(MergeRow(shown_field.field.label, x, y, key, False))
    sides = [
        MergeSide(saved_id(lead), lead.number, lead.created_at, has_client(session, saved_id(lead)))
        for lead in (first, second)
    ]
    survivor = default_survivor(session, first.number, second.number)
    return MergePreview(sides[0], sides[1], tuple(rows), survivor)
