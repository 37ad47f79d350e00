"""Merging two leads of one person into one, and undoing it.

Every row that hangs off the merged ("other") lead moves to the survivor in the caller's one
transaction; the other lead itself stays (its number is never reused) with `merged_into_id`
set, which hides it from the lead list, search and the day view. A `lead_merges` row records
which rows moved (`moved`: table → ids) and what the changed columns held (`before`), so
`unmerge` puts back exactly that, or refuses with the reason when a moved row has since been
deleted or moved elsewhere.

Rows that cannot simply move: a field both leads have keeps the survivor's value unless
`picks` says take the other's (the two values then swap leads, so nothing is deleted); a lead
has one response clock, so the survivor keeps its own and the other's stays where it is
(recorded); one lead waits for assignment once, so the other's wait moves, or is dropped
(recorded, put back on unmerge) when the survivor already waits.
"""

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, exists, insert, select, update
from sqlmodel import Session, SQLModel, col

from leadms_tui.domain import audit, clock
from leadms_tui.domain.errors import ConflictError, NotFoundError, ValidationError
from leadms_tui.domain.models import (
    AssignmentWait,
    Call,
    Client,
    DialRequest,
    FieldDefinition,
    FieldEntity,
    FieldValue,
    FollowUp,
    Inquiry,
    Lead,
    LeadMerge,
    Meeting,
    Notification,
    OutboundMessage,
    PhoneCall,
    ResponseClock,
    ResponseStep,
    Sale,
    lead_search_name,
    saved_id,
    table_of,
)
from leadms_tui.domain.people.duplicates import check_manages_people

# tables whose rows belong to a lead through `lead_id` and simply move
_BY_LEAD_ID: dict[str, Table] = {
    table_of(model).name: table_of(model)
    for model in (
        Inquiry,
        Call,
        FollowUp,
        Meeting,
        OutboundMessage,
        PhoneCall,
        ResponseStep,
        Notification,
        Sale,
        DialRequest,
    )
}
KEEP, OTHER = "keep", "other"
# the lead's own columns a merge can take from the other lead (`take`), by what people call them
CORE_COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("name",),
    "phone": ("phone_raw", "phone_e164", "phone_flag"),
    "email": ("email", "email_lower"),
}


@dataclass(frozen=True)
class MergeResult:
    merge_id: int | None  # None: a dry run, nothing written
    survivor: str  # lead numbers
    merged: str
    moved: dict[str, int]  # table → rows moved to the survivor
    kept_fields: tuple[str, ...] = ()  # both had it: the survivor's value stays
    taken_fields: tuple[str, ...] = ()  # both had it: the other's value taken (picks)
    notes: tuple[str, ...] = field(default=())
    taken_core: tuple[str, ...] = ()  # the survivor took the other's name, phone, email

    def as_json(self) -> dict[str, Any]:
        return {
            "merge_id": self.merge_id,
            "survivor": self.survivor,
            "merged": self.merged,
            "moved": self.moved,
            "kept_fields": list(self.kept_fields),
            "taken_fields": list(self.taken_fields),
            "notes": list(self.notes),
            "taken_core": list(self.taken_core),
        }


def _lead(session: Session, number: str, *, lock: bool = True) -> Lead:
    stmt = select(Lead).where(Lead.number == number.strip().upper())
    if lock:
        stmt = stmt.with_for_update()
    lead = session.execute(stmt.execution_options(populate_existing=True)).scalar()
    if lead is None:
        raise NotFoundError(f"no lead {number.strip()}")
    return lead


def has_client(session: Session, lead_id: int) -> bool:
    """Whether the lead was sold (a live sale) or made a client."""
    sold = exists().where(Sale.lead_id == lead_id, col(Sale.reversed_at).is_(None))
    made = exists().where(Client.first_lead_id == lead_id)
    return bool(session.scalar(select(sold | made)))


def default_survivor(session: Session, first: str, second: str) -> str:
    """Which of two leads should survive a merge: one with a client, else the older one."""
    leads = [_lead(session, n, lock=False) for n in (first, second)]
    leads.sort(key=lambda lead: (not has_client(session, saved_id(lead)), lead.created_at, lead.id))
    return leads[0].number


def merge_leads(
    session: Session,
    keep_number: str,
    other_number: str,
    *,
    actor: audit.Actor,
    dry_run: bool = False,
    picks: dict[str, str] | None = None,
    take: frozenset[str] = frozenset(),
    now: datetime | None = None,
) -> MergeResult:
    """Merge lead `other_number` into `keep_number` (audited `lead.merge`). A dry run does all
    of it in a savepoint and rolls it back: what it reports is what a merge would move.
    `picks`: lead field key → KEEP or OTHER, whose value stays where both have one; `take`:
    the survivor's own name, phone or email (CORE_COLUMNS) replaced by the other's."""
    check_manages_people(actor)
    at = clock.as_utc(now or clock.now())
    if keep_number.strip().upper() == other_number.strip().upper():
        raise ValidationError("a lead cannot be merged with itself")
    first, second = sorted([keep_number, other_number], key=lambda n: n.strip().upper())
    locked = {lead.number: lead for lead in (_lead(session, first), _lead(session, second))}
    keep = locked[keep_number.strip().upper()]
    other = locked[other_number.strip().upper()]
    for lead in (keep, other):
        if lead.merged_into_id is not None:
            into = session.get(Lead, lead.merged_into_id)
            raise ValidationError(
                f"{lead.number} is already merged into {into.number if into else '?'}"
            )
    live = {
        lead_id: client
        for lead_id, client in session.execute(
            select(Sale.lead_id, Client.number)
            .join(Client, Client.id == Sale.client_id)
            .where(col(Sale.lead_id).in_([keep.id, other.id]), col(Sale.reversed_at).is_(None))
        )
    }
    if len(live) == 2:
        raise ConflictError(
            f"both leads were sold (clients {live[keep.id]} and {live[other.id]}, each with a "
            "live sale): reverse one sale first"
        )
    definitions = _lead_definitions(session)
    picks = dict(picks or {})
    for key, side in picks.items():
        if key not in definitions.values():
            raise ValidationError(f"no lead field {key!r}")
        if side not in (KEEP, OTHER):
            raise ValidationError(f"pick {KEEP!r} or {OTHER!r} for {key}, not {side!r}")
    if unknown := set(take) - set(CORE_COLUMNS):
        raise ValidationError(f"take {', '.join(CORE_COLUMNS)}, not {', '.join(sorted(unknown))}")
    if dry_run:
        savepoint = session.begin_nested()
        try:
            result = _merge(session, keep, other, definitions, picks, take, actor, at)
        finally:
            savepoint.rollback()
        return replace(result, merge_id=None)
    return _merge(session, keep, other, definitions, picks, take, actor, at)


def _merge(
    session: Session,
    keep: Lead,
    other: Lead,
    definitions: dict[int, str],
    picks: dict[str, str],
    take: frozenset[str],
    actor: audit.Actor,
    at: datetime,
) -> MergeResult:
    keep_id, other_id = keep.id, other.id
    kept_core = {c: getattr(keep, c) for c in ("search_name", "version", *_core(CORE_COLUMNS))}
    assert keep_id is not None and other_id is not None
    moved: dict[str, list[int]] = {}
    before: dict[str, Any] = {}
    notes: list[str] = []
    for name, table in _BY_LEAD_ID.items():
        ids = _move(session, table, table.c.lead_id, other_id, keep_id)
        if ids:
            moved[name] = ids

    # field values: the survivor's stays on a field both have, unless picked
    values = session.execute(
        select(FieldValue.id, FieldValue.definition_id, FieldValue.entity_id).where(
            col(FieldValue.entity_id).in_([keep_id, other_id]),
            col(FieldValue.definition_id).in_(list(definitions)),
        )
    ).all()
    keep_defs = {d for _, d, e in values if e == keep_id}
    other_defs = {d for _, d, e in values if e == other_id}
    both = keep_defs & other_defs
    taken = {d for d in both if picks.get(definitions[d]) == OTHER}
    to_keep = [i for i, d, e in values if e == other_id and (d not in both or d in taken)]
    to_other = [i for i, d, e in values if e == keep_id and d in taken]
    _swap_values(session, to_keep, keep_id, to_other, other_id)
    if to_keep:
        moved["field_values"] = to_keep
    if to_other:
        before["field_values_to_other"] = to_other

    # one response clock per lead: the survivor keeps its own
    clocks = dict(
        session.execute(
            select(ResponseClock.lead_id, ResponseClock.id).where(
                col(ResponseClock.lead_id).in_([keep_id, other_id])
            )
        ).all()
    )
    if other_id in clocks and keep_id not in clocks:
        moved["response_clocks"] = _move(
            session, table_of(ResponseClock), table_of(ResponseClock).c.lead_id, other_id, keep_id
        )
    elif other_id in clocks:
        before["response_clock_left"] = clocks[other_id]
        notes.append("the survivor keeps its own response clock")

    # one assignment wait per lead
    waits = {
        w.lead_id: w
        for w in session.execute(
            select(AssignmentWait).where(col(AssignmentWait.lead_id).in_([keep_id, other_id]))
        ).scalars()
    }
    if other_id in waits:
        wait = waits[other_id]
        if keep_id in waits:
            before["assignment_wait_dropped"] = {
                "since": audit.plain(wait.since),
                "reason": wait.reason,
            }
            session.execute(delete(AssignmentWait).where(AssignmentWait.lead_id == other_id))
        else:
            session.execute(
                update(AssignmentWait)
                .where(AssignmentWait.lead_id == other_id)
                .values(lead_id=keep_id)
                .execution_options(synchronize_session=False)
            )
            moved["assignment_waits"] = [keep_id]  # its key is the lead it waits for

    # leads that were repeats of the other lead: now repeats of the survivor
    survivor_before: dict[str, Any] = {}
    if keep.repeat_of_id == other_id:
        survivor_before["repeat_of_id"] = keep.repeat_of_id
        session.execute(
            update(Lead)
            .where(Lead.id == keep_id)
            .values(repeat_of_id=other.repeat_of_id)
            .execution_options(synchronize_session=False)
        )
    leads = table_of(Lead)
    repeat_ids = session.scalars(
        select(Lead.id).where(Lead.repeat_of_id == other_id, Lead.id != keep_id)
    ).all()
    if repeat_ids:
        session.execute(
            update(leads).where(leads.c.id.in_(repeat_ids)).values(repeat_of_id=keep_id)
        )
        moved["leads"] = sorted(int(i) for i in repeat_ids)  # ids of rows read: never None

    taken_core = tuple(what for what in CORE_COLUMNS if what in take)
    if taken_core:  # the survivor's own columns, put back on unmerge
        values = {c: getattr(other, c) for what in taken_core for c in CORE_COLUMNS[what]}
        name = values.get("name", kept_core["name"])
        email = values["email"] if "email" in take else kept_core["email"]
        values["search_name"] = lead_search_name(name, email)
        values["version"] = kept_core["version"] + 1
        survivor_before.update({c: audit.plain(kept_core[c]) for c in values})
        session.execute(update(leads).where(leads.c.id == keep_id).values(**values))
    before["survivor"] = survivor_before
    before["other"] = {
        "merged_into_id": None,
        "version": other.version,
        "updated_at": audit.plain(other.updated_at),
    }
    session.execute(
        update(leads)
        .where(leads.c.id == other_id)
        .values(merged_into_id=keep_id, version=other.version + 1, updated_at=at)
    )
    row = LeadMerge(survivor_id=keep_id, merged_id=other_id, merged_at=at,
                    merged_by_id=actor.user_id, moved=moved, before=before)  # fmt: skip
    session.add(row)
    session.flush()
    counts = {name: len(ids) for name, ids in moved.items()}
    names = [definitions[d] for d in sorted(both)]
    result = MergeResult(
        row.id, keep.number, other.number, counts,
        tuple(n for n in names if picks.get(n) != OTHER),
        tuple(n for n in names if picks.get(n) == OTHER), tuple(notes), taken_core,
    )  # fmt: skip
    after = {"merged_into_id": keep_id, "merge_id": row.id, "moved": counts}
    if taken_core:
        after["survivor_took"] = list(taken_core)
    audit.record(session, actor, "lead.merge", "lead", other_id, at=at,
                 before={"merged_into_id": None}, after=after)  # fmt: skip
    session.expire_all()
    return result


def unmerge(
    session: Session, merge_id: int, *, actor: audit.Actor, now: datetime | None = None
) -> LeadMerge:
    """Undo merge `merge_id` exactly (audited `lead.unmerge`), or refuse with the reason when
    a row it moved was deleted or moved elsewhere since."""
    check_manages_people(actor)
    at = clock.as_utc(now or clock.now())
    merge = session.get(LeadMerge, merge_id, with_for_update=True, populate_existing=True)
    if merge is None:
        raise NotFoundError(f"no merge {merge_id}")
    if merge.unmerged_at is not None:
        raise ValidationError(f"merge {merge_id} was already undone")
    if merge.before.get("erased"):
        raise ValidationError(f"merge {merge_id} is of a person since erased: it cannot be undone")
    keep_id, other_id = merge.survivor_id, merge.merged_id
    other = session.get(Lead, other_id, with_for_update=True, populate_existing=True)
    keep = session.get(Lead, keep_id, with_for_update=True, populate_existing=True)
    assert other is not None and keep is not None
    if other.merged_into_id != keep_id:
        raise ConflictError(f"{other.number} is no longer merged into {keep.number}")
    moved: dict[str, list[int]] = merge.moved
    before: dict[str, Any] = merge.before
    problems: list[str] = []
    for name, ids in moved.items():
        table = _table_named(name)
        key = _owner_column(name, table)
        pk = table.c.lead_id if name == "assignment_waits" else table.c.id
        now_at = dict(session.execute(select(pk, key).where(pk.in_(ids))).all())
        gone = [i for i in ids if i not in now_at]
        elsewhere = [i for i in ids if i in now_at and now_at[i] != keep_id]
        if gone:
            problems.append(f"{len(gone)} {name} row(s) deleted since (ids {_some(gone)})")
        if elsewhere:
            problems.append(f"{len(elsewhere)} {name} row(s) moved elsewhere since "
                            f"(ids {_some(elsewhere)})")  # fmt: skip
    to_other = before.get("field_values_to_other", [])
    if to_other:
        now_at = dict(session.execute(select(FieldValue.id, FieldValue.entity_id)
                                      .where(col(FieldValue.id).in_(to_other))).all())  # fmt: skip
        if any(now_at.get(i) != other_id for i in to_other):
            problems.append("a field value the merge took from the other lead changed since")
    if "assignment_wait_dropped" in before and session.get(AssignmentWait, other_id):
        problems.append(f"{other.number} waits for assignment again")
    took = before.get("survivor", {}).get("version")
    if took is not None and keep.version != took + 1:  # it took the other's name, phone, email
        problems.append(f"{keep.number} was edited since (its name, phone or email)")
    if problems:
        raise ConflictError(f"merge {merge_id} cannot be undone: " + "; ".join(problems))

    for name, ids in moved.items():
        table = _table_named(name)
        if name == "field_values":
            continue
        if name == "leads":
            session.execute(update(table).where(table.c.id.in_(ids)).values(repeat_of_id=other_id))
        elif name == "assignment_waits":
            session.execute(
                update(table).where(table.c.lead_id == keep_id).values(lead_id=other_id)
            )
        else:
            session.execute(update(table).where(table.c.id.in_(ids)).values(lead_id=other_id))
    _swap_values(session, moved.get("field_values", []), other_id, to_other, keep_id)
    if dropped := before.get("assignment_wait_dropped"):
        session.execute(
            insert(table_of(AssignmentWait)).values(
                lead_id=other_id,
                since=datetime.fromisoformat(dropped["since"]),
                reason=dropped["reason"],
            )
        )
    leads = table_of(Lead)
    if before.get("survivor"):
        session.execute(update(leads).where(leads.c.id == keep_id).values(**before["survivor"]))
    restored = dict(before["other"])
    restored["updated_at"] = datetime.fromisoformat(restored["updated_at"])
    session.execute(update(leads).where(leads.c.id == other_id).values(**restored))
    merge.unmerged_at = at
    merge.unmerged_by_id = actor.user_id
    session.add(merge)
    session.flush()
    audit.record(session, actor, "lead.unmerge", "lead", other_id, at=at,
                 before={"merged_into_id": keep_id, "merge_id": merge_id},
                 after={"merged_into_id": None})  # fmt: skip
    session.expire_all()
    return merge


def _core(columns: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    return tuple(c for names in columns.values() for c in names)


def _lead_definitions(session: Session) -> dict[int, str]:
    return dict(
        session.execute(
            select(FieldDefinition.id, FieldDefinition.key).where(
                FieldDefinition.entity == FieldEntity.LEAD
            )
        ).all()
    )


def _move(session: Session, table: Table, column: Any, from_id: int, to_id: int) -> list[int]:
    """Move the rows of `from_id` to `to_id` in one statement; their ids, in order."""
    moved = session.scalars(
        update(table).where(column == from_id).values({column.key: to_id}).returning(table.c.id)
    ).all()
    return sorted(int(i) for i in moved)


def _swap_values(session: Session, to_a: list[int], a: int, to_b: list[int], b: int) -> None:
    """Field value rows `to_a` go to record `a` and `to_b` to `b`, through a parking id so the
    unique (definition, record, item) never sees two at once."""
    values = table_of(FieldValue)
    if to_b:
        session.execute(update(values).where(values.c.id.in_(to_b)).values(entity_id=-b))
    if to_a:
        session.execute(update(values).where(values.c.id.in_(to_a)).values(entity_id=a))
    if to_b:
        session.execute(update(values).where(values.c.id.in_(to_b)).values(entity_id=b))


def _table_named(name: str) -> Table:
    if name in _BY_LEAD_ID:
        return _BY_LEAD_ID[name]
    models: dict[str, type[SQLModel]] = {
        "field_values": FieldValue,
        "response_clocks": ResponseClock,
        "assignment_waits": AssignmentWait,
        "leads": Lead,
    }
    return table_of(models[name])


def _owner_column(name: str, table: Table) -> Any:
    """The column naming the lead a moved row belongs to."""
    if name == "leads":
        return table.c.repeat_of_id
    if name == "field_values":
        return table.c.entity_id
    return table.c.lead_id


def _some(ids: list[int]) -> str:
    return ", ".join(map(str, ids[:5])) + (", ..." if len(ids) > 5 else "")
