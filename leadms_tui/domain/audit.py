"""The audit trail: every service write records who did what, before and after.

Only `record` writes here, and only inserts: the application has no update or
delete path for audit events.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import ColumnElement, update
from sqlmodel import Session, SQLModel

from leadms_tui.domain import clock, personal
from leadms_tui.domain.models import AuditEvent, table_of


@dataclass(frozen=True)
class Actor:
    """Who is acting: a signed-in user, or an automatic process (`user_id` None).

    `role` is the user's role ("rep", "manager", "admin"); None for automatic processes,
    which act with full rights.
    """

    user_id: int | None
    name: str
    role: str | None = None

    @property
    def is_rep(self) -> bool:
        return self.role == "rep"


SYSTEM = Actor(None, "system")
_INSERT_EVENT = AuditEvent.__table__.insert()  # type: ignore[attr-defined]
_ALREADY_PLAIN = frozenset({str, int, float, bool})


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: object,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Add one audit event to the current transaction (it commits or rolls back with the write)."""
    row = event(actor, action, entity, before=before, after=after, at=at)
    session.connection().execute(_INSERT_EVENT, {**row, "entity_id": str(entity_id)})


def record_row(
    session: Session,
    actor: Actor,
    action: str,
    row: SQLModel,
    *,
    before: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Audit `row` as it is now against `before` (None: a new row); the entity is the
    action's first word ("sale.create" → "sale")."""
    entity = action.split(".", 1)[0]
    after = snapshot(row)
    record(session, actor, action, entity, row.id, before=before, after=after, at=at)  # type: ignore[attr-defined]


def update_each(
    session: Session,
    actor: Actor,
    action: str,
    model: type[SQLModel],
    where: list[ColumnElement[bool]],
    values: dict[str, Any],
    *,
    before: dict[str, Any],
    at: datetime,
) -> int:
    """One UPDATE of every row matching `where`, with one audit event per row it changed
    (its id from RETURNING, so only rows this transaction changed are audited). `before` is
    what the columns held, as `where` implies it (e.g. state open); the entity is the action's
    first word. How many rows changed."""
    table = table_of(model)
    ids = (
        session.execute(
            update(model)
            .where(*where)
            .values(**values)
            .returning(table.c.id)
            .execution_options(synchronize_session=False)
        )
        .scalars()
        .all()
    )
    if ids:
        shown = {k: v for k, v in values.items() if k != "version"}
        row = event(actor, action, action.split(".", 1)[0], before=before, after=shown, at=at)
        session.connection().execute(_INSERT_EVENT, [{**row, "entity_id": str(i)} for i in ids])
    return len(ids)


def event(
    actor: Actor,
    action: str,
    entity: str,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """The audit_events row of a change, but its entity_id (for bulk and one-statement
    inserts). The values of personal fields go to `personal`, `changes` marks them."""
    changes, personal_values = personal.split(action, entity, diff(before or {}, after or {}))
    return {
        "at": at or clock.now(),
        "actor_id": actor.user_id,
        "actor": actor.name[:64],
        "action": action,
        "entity": entity,
        "changes": changes,
        "personal": personal_values,
    }


def changes_of(changes: dict[str, Any], kept_apart: dict[str, Any] | None) -> dict[str, Any]:
    """An event's field -> [before, after] as readers show it: personal values put back
    from `personal`, or shown as erased once `people erase` cleared them. The one reader
    of `AuditEvent.changes` for anything shown or exported."""
    if not any(value == personal.MARK for value in changes.values()):
        return changes
    kept_apart = kept_apart or {}
    erased = [personal.ERASED, personal.ERASED]
    return {
        key: (kept_apart.get(key, erased) if value == personal.MARK else value)
        for key, value in changes.items()
    }


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """Field -> [before, after] for every field whose value changed."""
    if not before:  # a new row (every import row): each field that has a value
        return {
            key: [None, value if type(value) in _ALREADY_PLAIN else plain(value)]
            for key, value in after.items()
            if value is not None
        }
    changes = {}
    for key in dict.fromkeys([*before, *after]):
        old, new = plain(before.get(key)), plain(after.get(key))
        if old != new:
            changes[key] = [old, new]
    return changes


def snapshot(model: SQLModel, *, exclude: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The model's column values, for a before/after diff."""
    columns = model.__table__.columns  # type: ignore[attr-defined]
    return {c.key: getattr(model, c.key) for c in columns if c.key not in exclude}


def plain(value: Any) -> Any:
    """A JSON-safe form of a column value."""
    if value is None or type(value) in _ALREADY_PLAIN:
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value
