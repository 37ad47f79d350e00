"""Field values: set (validated, audited, optimistic like lead edits), read for display and
JSON, and filter by (one indexed lookup per filter)."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, delete, func, insert, select
from sqlmodel import Session

from leadms_tui.domain import audit, clock
from leadms_tui.domain.errors import ConflictError, NotFoundError, ValidationError
from leadms_tui.domain.fields import kinds
from leadms_tui.domain.fields.definitions import FieldSpec, active_fields, list_fields
from leadms_tui.domain.fields.files import file_info
from leadms_tui.domain.leads.checks import check_may_edit
from leadms_tui.domain.models import (
    Client,
    FieldDefinition,
    FieldEntity,
    FieldKind,
    FieldValue,
    Lead,
    Meeting,
    fold,
    table_of,
)
from leadms_tui.domain.team.settings import load_settings

ENTITY_MODELS = {FieldEntity.LEAD: Lead, FieldEntity.CLIENT: Client, FieldEntity.MEETING: Meeting}
_VALUES = table_of(FieldValue)


def context(session: Session, now: datetime | None = None) -> kinds.Context:
    settings = load_settings(session)
    return kinds.Context(
        settings.timezone,
        settings.phone_region,
        settings.currency,
        clock.as_utc(now or clock.now()),
        settings.numbers,
    )


def item_of(row: FieldValue) -> kinds.Item:
    return kinds.Item(
        row.value_text,
        row.value_key,
        row.value_number,
        row.value_date,
        row.value_datetime,
        row.value_bool,
        row.file_id,
    )


def write_items(
    session: Session, definition_id: int, entity_id: int, items: list[kinds.Item]
) -> None:
    """Replace the record's value of one field with `items` (none: the field is blank)."""
    session.execute(
        delete(FieldValue).where(
            FieldValue.definition_id == definition_id, FieldValue.entity_id == entity_id
        )
    )
    if items:
        session.execute(
            insert(_VALUES),
            [
                {
                    "definition_id": definition_id,
                    "entity_id": entity_id,
                    "item": i,
                    "value_text": item.text,
                    "value_key": item.key,
                    "value_number": item.number,
                    "value_date": item.day,
                    "value_datetime": item.moment,
                    "value_bool": item.flag,
                    "file_id": item.file_id,
                }
                for i, item in enumerate(items)
            ],
        )


@dataclass(frozen=True)
class FieldShown:
    """One field of one record, as a form, a detail screen and `--json` show it."""

    field: FieldSpec
    items: list[kinds.Item]
    text: str  # as it reads on screen
    value: object  # typed JSON

    @property
    def key(self) -> str:
        return self.field.key

    @property
    def file_id(self) -> int | None:
        return self.items[0].file_id if self.items else None

    @property
    def canonical(self) -> str:
        return kinds.canonical(self.field.kind, self.items)


def values_for(
    session: Session, entity: FieldEntity, entity_ids: list[int], *, include_retired: bool = False
) -> dict[int, list[FieldShown]]:
    """Every field of each record, in form order (blank ones too), in two queries."""
    fields = list_fields(session, entity, include_retired=include_retired)
    by_id = {f.id: f for f in fields}
    rows = (
        session.execute(
            select(FieldValue)
            .where(FieldValue.entity_id.in_(entity_ids), FieldValue.definition_id.in_(list(by_id)))
            .order_by(FieldValue.entity_id, FieldValue.definition_id, FieldValue.item)
        )
        .scalars()
        .all()
        if by_id and entity_ids
        else []
    )
    stored: dict[tuple[int, int], list[kinds.Item]] = {}
    for row in rows:
        stored.setdefault((row.entity_id, row.definition_id), []).append(item_of(row))
    files = file_info(session, [r.file_id for r in rows if r.file_id is not None])
    info = {file_id: f.as_json() for file_id, f in files.items()}
    settings = load_settings(session)
    result: dict[int, list[FieldShown]] = {}
    for entity_id in entity_ids:
        shown = []
        for field in fields:
            items = stored.get((entity_id, field.id), [])
            text = kinds.as_text(
                field.kind, items, currency=settings.currency, timezone=settings.timezone
            )
            shown.append(FieldShown(field, items, text, kinds.as_json(field.kind, items, info)))
        result[entity_id] = shown
    return result


def parse_values(
    session: Session,
    entity: FieldEntity,
    raw: Mapping[str, "str | kinds.Upload | None"],
    ctx: kinds.Context,
    *,
    check_required: bool = False,
    fields: "list[FieldSpec] | None" = None,
) -> dict[int, list[kinds.Item]]:
    """Validate `raw` (field key → text or upload) against the definitions: the items per
    definition id, or one ValidationError listing every bad field by its label."""
    by_key = {f.key: f for f in (fields if fields is not None else active_fields(session, entity))}
    errors, parsed = [], {}
    for key, value in raw.items():
        field = by_key.get(key.strip().lower())
        if field is None:
            known = ", ".join(by_key) or "none defined"
            errors.append(f"unknown {entity.value} field {key!r} (fields: {known})")
            continue
        try:
            parsed[field.id] = kinds.parse(field.kind, value, field.options, ctx)
        except ValidationError as exc:
            errors.append(f"{field.label}: {exc}")
    if check_required:
        given = {by_key[k.strip().lower()].id for k in raw if k.strip().lower() in by_key}
        for field in by_key.values():
            if (
                field.required
                and not parsed.get(field.id)
                and (field.id in given or not field.default)
            ):
                errors.append(f"{field.label}: required")
    if errors:
        raise ValidationError("; ".join(errors))
    return parsed


def set_fields(
    session: Session,
    entity: FieldEntity,
    entity_id: int,
    raw: Mapping[str, "str | kinds.Upload | None"],
    *,
    actor: audit.Actor,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> list[FieldShown]:
    """Set some fields of one record in the caller's transaction: all valid or none written.
    With `expected_version`, refused if the record changed since it was read (as lead edits)."""
    ctx = context(session, now)
    record = session.get(ENTITY_MODELS[entity], entity_id, with_for_update=True)
    if record is None:
        raise NotFoundError(f"no {entity.value} #{entity_id}")
    if isinstance(record, Lead):
        check_may_edit(record, actor)
    if expected_version is not None and record.version != expected_version:
        raise ConflictError(f"this {entity.value} was changed since you opened it; reload")
    parsed = parse_values(session, entity, raw, ctx)
    if store_values(session, entity, entity_id, parsed, actor=actor, at=ctx.now):
        record.version += 1
        if hasattr(record, "updated_at"):
            record.updated_at = ctx.now
    return values_for(session, entity, [entity_id])[entity_id]


def set_parsed(
    session: Session,
    entity: FieldEntity,
    entity_id: int,
    parsed: dict[int, list[kinds.Item]],
    *,
    actor: audit.Actor,
    at: datetime,
) -> None:
    """Store values already validated by `parse_values` on a record made in this
    transaction (import, intake, conversion): audited as part of its creation."""
    store_values(session, entity, entity_id, parsed, actor=actor, at=at, new_record=True)


def store_values(
    session: Session,
    entity: FieldEntity,
    entity_id: int,
    parsed: dict[int, list[kinds.Item]],
    *,
    actor: audit.Actor,
    at: datetime,
    new_record: bool = False,
) -> set[str]:
    """The one writer of field values: replace each given field's items and add a
    `fields.update` audit event (field key → before and after, a file as name + sha256) in
    the caller's transaction. The keys that changed; none changed, no event."""
    if not parsed:
        return set()
    specs = {f.id: f for f in list_fields(session, entity, include_retired=True)}
    before = {} if new_record else _audited(session, specs, _stored(session, parsed, entity_id))
    for definition_id, items in parsed.items():
        write_items(session, definition_id, entity_id, items)
    after = _audited(session, specs, parsed)
    changed = [k for k in after if after[k] != before.get(k)]  # in field order, not a set's
    if changed:
        audit.record(
            session,
            actor,
            "fields.update",
            entity.value,
            entity_id,
            before={k: before.get(k) for k in changed} if before else None,
            after={k: after[k] for k in changed},
            at=at,
        )
    return set(changed)


def _stored(
    session: Session, parsed: dict[int, list[kinds.Item]], entity_id: int
) -> dict[int, list[kinds.Item]]:
    """The record's items now of each field in `parsed`."""
    stored: dict[int, list[kinds.Item]] = {i: [] for i in parsed}
    for row in session.execute(
        select(FieldValue)
        .where(FieldValue.entity_id == entity_id, FieldValue.definition_id.in_(list(parsed)))
        .order_by(FieldValue.definition_id, FieldValue.item)
    ).scalars():
        stored[row.definition_id].append(item_of(row))
    return stored


def _audited(
    session: Session, specs: dict[int, FieldSpec], items: dict[int, list[kinds.Item]]
) -> dict[str, object]:
    """Each field's value as the trail keeps it: its text, a file as {name, sha256} (a file
    replaced by another of the same name is still a change); a blank is None."""
    file_ids = [i.file_id for each in items.values() for i in each if i.file_id is not None]
    files = file_info(session, file_ids) if file_ids else {}
    audited: dict[str, object] = {}
    for definition_id, each in items.items():
        field = specs[definition_id]
        if field.kind in kinds.FILE_KINDS and each:
            info = files.get(each[0].file_id)  # type: ignore[arg-type]
            audited[field.key] = {"name": each[0].text, "sha256": info.sha256 if info else None}
        else:
            audited[field.key] = kinds.canonical(field.kind, each) or None
    return audited


# --- filters -------------------------------------------------------------------------

_FILTER = re.compile(r"^\s*([a-zA-Z][\w]*)\s*(>=|<=|!=|=|>|<|~)\s*(.*?)\s*$")


@dataclass(frozen=True)
class FieldFilter:
    """`budget>=1000`, `plan=Gold`, `plan=Gold,Silver` (any of), `visit=2026-12-01..2026-12-31`,
    `notes~roof` (contains), `plan=` (blank)."""

    key: str
    op: str
    value: str

    @classmethod
    def parse(cls, text: str) -> "FieldFilter":
        match = _FILTER.match(text)
        if match is None:
            raise ValidationError(f"filter {text!r} should read KEY=VALUE, KEY>=N, KEY~TEXT ...")
        key, op, value = match.groups()
        return cls(key.lower(), op, value)


COMMON = 5000  # matches past which SQLite is faster probing each listed record (measured)


def filter_condition(
    session: Session, entity: FieldEntity, flt: FieldFilter, ctx: kinds.Context
) -> ColumnElement[bool]:
    """The records (by id) whose field matches, through the covering value indexes."""
    field = next((f for f in active_fields(session, entity) if f.key == flt.key), None)
    if field is None:
        raise ValidationError(f"no {entity.value} field {flt.key!r} to filter by")
    model = ENTITY_MODELS[entity]
    holders = select(FieldValue.entity_id).where(FieldValue.definition_id == field.id)
    if flt.value == "" and flt.op == "=":
        return model.id.not_in(holders)  # type: ignore[attr-defined]
    if flt.op == "~":
        contains = FieldValue.value_key.contains(fold(flt.value), autoescape=True)
        return _records_in(session, model, holders.where(contains))
    column = _column(field.kind)
    if ".." in flt.value and flt.op == "=":
        low, high = flt.value.split("..", 1)
        bounds = []
        if low.strip():
            bounds.append(column >= _typed(field, low, ctx))
        if high.strip():
            bounds.append(column <= _typed(field, high, ctx))
        return _records_in(session, model, holders.where(*bounds))
    if flt.op == "=" and field.kind in kinds.CHOICE_KINDS and "," in flt.value:
        wanted = [_typed(field, part, ctx) for part in flt.value.split(",") if part.strip()]
        return _records_in(session, model, holders.where(column.in_(wanted)))
    value = _typed(field, flt.value, ctx)
    if flt.op == "!=":
        return model.id.not_in(holders.where(column == value))  # type: ignore[attr-defined]
    compare = {
        "=": column == value,
        ">=": column >= value,
        "<=": column <= value,
        ">": column > value,
        "<": column < value,
    }[flt.op]
    return _records_in(session, model, holders.where(compare))


def _records_in(session: Session, model: type, matching: Select) -> ColumnElement[bool]:
    """`id IN (matching)`; on SQLite, when the value is common, a correlated EXISTS instead:
    SQLite would first collect every match, while a page of newest records probes only a few
    hundred (PostgreSQL's planner makes this choice itself)."""
    if session.get_bind().dialect.name == "sqlite":
        sample = select(func.count()).select_from(matching.limit(COMMON).subquery())
        if session.execute(sample).scalar_one() >= COMMON:
            return matching.where(FieldValue.entity_id == model.id).exists()  # type: ignore[attr-defined]
    return model.id.in_(matching)  # type: ignore[attr-defined]


def _column(kind: FieldKind):  # type: ignore[no-untyped-def]
    return getattr(FieldValue, kinds.KINDS[kind].column)


def _typed(field: FieldSpec, text: str, ctx: kinds.Context) -> object:
    """The filter's value in the column's type, parsed as the field parses values."""
    if field.kind in kinds.FILE_KINDS:
        raise ValidationError(f"{field.label}: a file field filters only by blank (KEY=)")
    items = kinds.parse(
        FieldKind.CHOICE if field.kind == FieldKind.MULTI_CHOICE else field.kind,
        text,
        field.options,
        ctx,
    )
    if not items:
        raise ValidationError(f"{field.label}: give a value to compare with")
    item = items[0]
    for value in (item.number, item.day, item.moment, item.flag):
        if value is not None:
            return value
    return item.key if item.key is not None else item.text


def field_definition_id(session: Session, entity: FieldEntity, key: str) -> int:
    found = session.execute(
        select(FieldDefinition.id).where(
            FieldDefinition.entity == entity, FieldDefinition.key == key
        )
    ).scalar()
    if found is None:
        raise NotFoundError(f"no {entity.value} field {key!r}")
    return found
