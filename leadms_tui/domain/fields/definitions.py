"""Field definitions: admins add, edit, reorder, retire and retype the fields of leads,
clients and meetings. Every change is audited; a change that would lose data is refused."""

import re
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session

from leadms_tui.domain import audit, clock, recent
from leadms_tui.domain.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from leadms_tui.domain.fields import kinds
from leadms_tui.domain.models import (
    FieldDefinition,
    FieldEntity,
    FieldKind,
    FieldValue,
    Role,
    saved_id,
)
from leadms_tui.domain.text import clean_line

_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
MAX_OPTION = FieldValue.__table__.c.value_key.type.length  # type: ignore[attr-defined]
_LISTED_FAILURES = 5  # values a refused type change names (the count says how many in all)
BUILT_IN = {  # what a field key may not shadow: the entity's own data and filters
    FieldEntity.LEAD: {
        "number",
        "name",
        "phone",
        "email",
        "status",
        "channel",
        "owner",
        "message",
        "lost_reason",
        "created",
        "id",
    },
    FieldEntity.CLIENT: {"number", "name", "phone", "email", "status", "owner", "id"},
    FieldEntity.MEETING: {"kind", "starts_at", "place", "video_link", "notes", "outcome", "id"},
}


@dataclass(frozen=True)
class FieldSpec:
    """A definition as forms, lists and the CLI read it."""

    id: int
    entity: FieldEntity
    key: str
    label: str
    kind: FieldKind
    options: list[str]
    required: bool
    default: str | None
    help_text: str | None
    section: str
    position: int
    active: bool
    version: int

    def as_json(self) -> dict[str, object]:
        return {
            "entity": self.entity.value,
            "key": self.key,
            "label": self.label,
            "type": self.kind.value,
            "options": self.options,
            "required": self.required,
            "default": self.default,
            "help": self.help_text,
            "section": self.section,
            "position": self.position,
            "active": self.active,
        }


def spec(row: FieldDefinition) -> FieldSpec:
    return FieldSpec(
        row.id,
        FieldEntity(row.entity),
        row.key,
        row.label,
        FieldKind(row.kind),  # type: ignore[arg-type]
        list(row.options or []),
        row.required,
        row.default,
        row.help_text,
        row.section,
        row.position,
        row.active,
        row.version,
    )


def parse_entity(text: str) -> FieldEntity:
    word = text.strip().lower().removesuffix("s")
    word = "meeting" if word == "demo" else word
    try:
        return FieldEntity(word)
    except ValueError:
        raise ValidationError(f"unknown entity {text!r} (use lead, client or meeting)") from None


def parse_kind(text: str) -> FieldKind:
    try:
        return FieldKind(text.strip().lower().replace("-", "_").replace(" ", "_"))
    except ValueError:
        known = ", ".join(k.value for k in FieldKind)
        raise ValidationError(f"unknown field type {text!r} (use one of {known})") from None


def list_fields(
    session: Session, entity: FieldEntity | None = None, *, include_retired: bool = False
) -> list[FieldSpec]:
    """Definitions in form order (section order is the order of their first field)."""
    query = select(FieldDefinition).order_by(
        FieldDefinition.entity, FieldDefinition.position, FieldDefinition.id
    )
    if entity is not None:
        query = query.where(FieldDefinition.entity == entity)
    if not include_retired:
        query = query.where(FieldDefinition.active)
    return [spec(row) for row in session.execute(query).scalars()]


def has_image_fields(session: Session) -> bool:
    """Whether any entity has an active image field (the TUI then prepares image previews)."""
    query = select(FieldDefinition.id).where(
        FieldDefinition.kind == FieldKind.IMAGE, FieldDefinition.active
    )
    return session.execute(query.limit(1)).first() is not None


def active_fields(session: Session, entity: FieldEntity) -> list[FieldSpec]:
    """The entity's active fields, remembered for a moment: every filter and intake reads them."""
    return recent.remembered(
        session, f"fields:{entity.value}", lambda: list_fields(session, entity)
    )


def get_field(
    session: Session, entity: FieldEntity, key: str, *, lock: bool = False
) -> FieldDefinition:
    query = select(FieldDefinition).where(
        FieldDefinition.entity == entity, FieldDefinition.key == key.strip().lower()
    )
    row = session.execute(query.with_for_update() if lock else query).scalar()
    if row is None:
        raise NotFoundError(f"no {entity.value} field {key!r}")
    return row


def require_admin(actor: audit.Actor) -> None:
    if actor.role not in (None, Role.ADMIN):
        raise PermissionDeniedError("only an admin can change field definitions")


def _check_lengths(row: FieldDefinition) -> None:
    """Every text of a definition fits its column, on SQLite (which would keep a longer one)
    as on PostgreSQL (which would refuse the whole write): read from the table, so a limit
    here can never differ from the column's."""
    for column in FieldDefinition.__table__.columns:  # type: ignore[attr-defined]
        limit = getattr(column.type, "length", None)
        value = getattr(row, column.key)
        if limit and isinstance(value, str) and len(clean_line(value)) > limit:
            name = column.key.replace("_", " ")
            raise ValidationError(
                f"field {name}: at most {limit} characters (this one has {len(value)})"
            )


def _check_options(kind: FieldKind, options: list[str]) -> list[str]:
    cleaned = list(dict.fromkeys(o.strip() for o in options if o.strip()))
    too_long = next((o for o in cleaned if len(clean_line(o)) > MAX_OPTION), None)
    if too_long is not None:  # an option is stored as the value's key
        raise ValidationError(
            f"an option has at most {MAX_OPTION} characters (one has {len(too_long)})"
        )
    if kind in kinds.CHOICE_KINDS and not cleaned:
        raise ValidationError("a choice field needs its options (--options a,b,c)")
    if kind not in kinds.CHOICE_KINDS and cleaned:
        raise ValidationError("only choice fields have options")
    if any("," in o for o in cleaned):
        raise ValidationError("an option cannot contain a comma")
    return cleaned


def _check_default(
    kind: FieldKind, default: str | None, options: list[str], ctx: kinds.Context
) -> str | None:
    if default is None or not default.strip():
        return None
    if kind in kinds.FILE_KINDS:
        raise ValidationError("a file field has no default")
    items = kinds.parse(kind, default, options, ctx)
    return kinds.canonical(kind, items)


def add_field(
    session: Session,
    entity: FieldEntity,
    key: str,
    kind: FieldKind,
    *,
    label: str | None = None,
    options: list[str] | None = None,
    required: bool = False,
    default: str | None = None,
    help_text: str | None = None,
    section: str | None = None,
    actor: audit.Actor,
    ctx: kinds.Context,
) -> FieldSpec:
    """A new field at the end of its entity's form."""
    require_admin(actor)
    key = key.strip().lower()
    if not _KEY.match(key):
        raise ValidationError(
            f"field key {key!r}: lowercase letters, digits and _, starting with a letter"
        )
    if key in BUILT_IN[entity]:
        raise ValidationError(f"{key!r} is built into {entity.value}s; choose another key")
    if session.execute(
        select(FieldDefinition.id).where(
            FieldDefinition.entity == entity, FieldDefinition.key == key
        )
    ).first():
        raise ConflictError(f"{entity.value} field {key!r} exists (retired fields keep their key)")
    cleaned = _check_options(kind, options or [])
    at = clock.as_utc(ctx.now)
    last = session.execute(
        select(func.max(FieldDefinition.position)).where(FieldDefinition.entity == entity)
    ).scalar()
    row = FieldDefinition(
        entity=entity,
        key=key,
        label=(label or key.replace("_", " ").capitalize()).strip(),
        kind=kind,
        options=cleaned,
        required=required,
        default=_check_default(kind, default, cleaned, ctx),
        help_text=(help_text or "").strip() or None,
        section=(section or "Details").strip(),
        position=(last or 0) + 1,
        created_at=at,
        updated_at=at,
    )
    _check_lengths(row)
    session.add(row)
    session.flush()
    recent.forget(session)
    audit.record(session, actor, "field.add", "field", row.id, after=audit.snapshot(row), at=at)
    return spec(row)


def edit_field(
    session: Session,
    entity: FieldEntity,
    key: str,
    *,
    expected_version: int | None = None,
    label: str | None = None,
    options: list[str] | None = None,
    required: bool | None = None,
    default: str | None = None,
    help_text: str | None = None,
    section: str | None = None,
    kind: FieldKind | None = None,
    actor: audit.Actor,
    ctx: kinds.Context,
) -> FieldSpec:
    """Change a definition; an option still in use cannot be removed, and a type change is
    refused when a stored value would not convert."""
    require_admin(actor)
    row = get_field(session, entity, key, lock=True)
    if expected_version is not None and row.version != expected_version:
        raise ConflictError(f"field {row.key!r} was changed since you opened it; reload")
    before = audit.snapshot(row)
    new_kind = kind or FieldKind(row.kind)
    new_options = _check_options(new_kind, options if options is not None else row.options)
    if new_kind != row.kind:
        _convert_values(session, row, new_kind, new_options, ctx)
    elif new_kind in kinds.CHOICE_KINDS:
        _check_removed_options(session, row, new_options)
    row.kind = new_kind
    row.options = new_options
    if label is not None:
        if not label.strip():
            raise ValidationError("a field needs a label")
        row.label = label.strip()
    if required is not None:
        row.required = required
    if default is not None:
        row.default = _check_default(new_kind, default, new_options, ctx)
    if help_text is not None:
        row.help_text = help_text.strip() or None
    if section is not None:
        row.section = section.strip() or "Details"
    return _saved(session, row, before, actor, "field.edit", ctx.now)


def _saved(
    session: Session,
    row: FieldDefinition,
    before: dict,
    actor: audit.Actor,
    action: str,
    now: datetime,
) -> FieldSpec:
    _check_lengths(row)
    row.updated_at = clock.as_utc(now)
    row.version += 1
    session.flush()
    recent.forget(session)
    audit.record(
        session,
        actor,
        action,
        "field",
        row.id,
        before=before,
        after=audit.snapshot(row),
        at=row.updated_at,
    )
    return spec(row)


def _check_removed_options(session: Session, row: FieldDefinition, options: list[str]) -> None:
    removed = set(row.options) - set(options)
    if not removed:
        return
    in_use = session.execute(
        select(FieldValue.value_key, func.count())
        .where(FieldValue.definition_id == row.id, FieldValue.value_key.in_(removed))
        .group_by(FieldValue.value_key)
    ).all()
    if in_use:
        used = ", ".join(f"{option!r} on {count}" for option, count in in_use)
        raise ValidationError(f"options still in use: {used}; change those values first")


def _convert_values(
    session: Session, row: FieldDefinition, kind: FieldKind, options: list[str], ctx: kinds.Context
) -> None:
    """Re-store every value as `kind`, or refuse naming how many would not convert."""
    old = FieldKind(row.kind)
    if (old in kinds.FILE_KINDS) != (kind in kinds.FILE_KINDS):
        raise ValidationError("a file field cannot change to or from another type")
    from leadms_tui.domain.fields.values import item_of

    values = (
        session.execute(
            select(FieldValue)
            .where(FieldValue.definition_id == row.id)
            .order_by(FieldValue.entity_id, FieldValue.item)
        )
        .scalars()
        .all()
    )
    by_entity: dict[int, list[FieldValue]] = {}
    for value in values:
        by_entity.setdefault(value.entity_id, []).append(value)
    converted: dict[int, list[kinds.Item]] = {}
    failures: list[str] = []
    for entity_id, rows in by_entity.items():
        # a number's canonical text (1234.5) is typed in the team's format to re-read it
        text = kinds.as_input(
            old, kinds.canonical(old, [item_of(r) for r in rows]), ctx.number_format
        )
        try:
            converted[entity_id] = (
                [item_of(r) for r in rows]
                if kind in kinds.FILE_KINDS
                else kinds.parse(kind, text, options, ctx)
            )
        except ValidationError as exc:
            failures.append(f"{text!r} ({exc})")
    if failures:
        listed = "; ".join(failures[:_LISTED_FAILURES])
        more = (
            f"; and {len(failures) - _LISTED_FAILURES} more"
            if len(failures) > _LISTED_FAILURES
            else ""
        )
        raise ValidationError(
            f"{len(failures)} value(s) would not convert to {kind.value}: {listed}{more}"
        )
    from leadms_tui.domain.fields.values import write_items

    for entity_id, items in converted.items():
        write_items(session, saved_id(row), entity_id, items)


def retire_field(
    session: Session,
    entity: FieldEntity,
    key: str,
    *,
    actor: audit.Actor,
    now: datetime,
    restore: bool = False,
) -> FieldSpec:
    """Hide a field from forms and lists (or bring it back); values and history stay."""
    require_admin(actor)
    row = get_field(session, entity, key, lock=True)
    before = audit.snapshot(row)
    row.active = restore
    return _saved(session, row, before, actor, "field.restore" if restore else "field.retire", now)


def move_field(
    session: Session, entity: FieldEntity, key: str, step: int, *, actor: audit.Actor, now: datetime
) -> list[FieldSpec]:
    """Move a field up (-1) or down (+1) among its entity's active fields."""
    require_admin(actor)
    fields = (
        session.execute(
            select(FieldDefinition)
            .where(FieldDefinition.entity == entity, FieldDefinition.active)
            .order_by(FieldDefinition.position, FieldDefinition.id)
            .with_for_update()
        )
        .scalars()
        .all()
    )
    keys = [f.key for f in fields]
    if key not in keys:
        raise NotFoundError(f"no active {entity.value} field {key!r}")
    index = keys.index(key)
    target = max(0, min(len(fields) - 1, index + step))
    if target != index:
        fields.insert(target, fields.pop(index))
        for position, field in enumerate(fields, start=1):
            field.position = position
        moved = fields[target]
        audit.record(
            session,
            actor,
            "field.move",
            "field",
            moved.id,
            after={"key": key, "position": target + 1},
            at=clock.as_utc(now),
        )
    session.flush()
    recent.forget(session)
    return [replace(spec(f)) for f in fields]
