"""Erasing a person: the audit trail keeps personal values apart (`audit_events.personal`),
the database lets an update only clear them, and `audit_seals` holds digests of the trail.

Existing events' personal values (domain/personal.py says which) move out of `changes` in
batches; the trail keeps a marker per personal field, so it still says which fields changed.

Revision ID: 0020
Revises: 0019
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from leadms_tui.domain import personal

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 2_000
_TRAIL = "id, at, actor_id, actor, action, entity, entity_id, changes"
_REFUSE = "SELECT RAISE(ABORT, 'audit events are append-only')"


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.add_column("audit_events", sa.Column("personal", sa.JSON(), nullable=True))
    op.create_table(
        "audit_seals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sealed_at", sa.DateTime(), nullable=False),
        sa.Column("last_event_id", sa.Integer(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    _drop_old_guard(sqlite)
    _move_personal_values()
    _guard(sqlite)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    _drop_guard(sqlite)
    _move_back()
    op.drop_table("audit_seals")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("personal")
    if sqlite:
        op.execute(
            "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
            f"BEGIN {_REFUSE}; END"
        )
    else:
        op.execute(
            "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
        )


def _guard(sqlite: bool) -> None:
    """The trail's columns stay refused; `personal` may only be cleared; seals are fixed."""
    if sqlite:
        op.execute(
            f"CREATE TRIGGER audit_events_no_update BEFORE UPDATE OF {_TRAIL} ON audit_events "
            f"BEGIN {_REFUSE}; END"
        )
        op.execute(
            "CREATE TRIGGER audit_events_personal_erase_only BEFORE UPDATE OF personal "
            f"ON audit_events WHEN NEW.personal IS NOT NULL BEGIN {_REFUSE}; END"
        )
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_seals_no_{verb.lower()} BEFORE {verb} ON audit_seals "
                "BEGIN SELECT RAISE(ABORT, 'audit seals are append-only'); END"
            )
        return
    op.execute(
        f"CREATE TRIGGER audit_events_append_only BEFORE DELETE OR UPDATE OF {_TRAIL} "
        "ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_events_personal_erase_only BEFORE UPDATE OF personal "
        "ON audit_events FOR EACH ROW WHEN (NEW.personal IS NOT NULL) "
        "EXECUTE FUNCTION audit_events_append_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_seals_append_only BEFORE UPDATE OR DELETE ON audit_seals "
        "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
    )


def _drop_old_guard(sqlite: bool) -> None:
    if sqlite:
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")


def _drop_guard(sqlite: bool) -> None:
    if sqlite:
        for name in ("audit_events_personal_erase_only", "audit_seals_no_update",
                     "audit_seals_no_delete", "audit_events_no_update"):  # fmt: skip
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        return
    op.execute("DROP TRIGGER IF EXISTS audit_events_personal_erase_only ON audit_events")
    op.execute("DROP TRIGGER IF EXISTS audit_seals_append_only ON audit_seals")
    op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")


_EVENTS = sa.table(
    "audit_events",
    sa.column("id", sa.Integer()),
    sa.column("action", sa.String()),
    sa.column("entity", sa.String()),
    sa.column("changes", sa.JSON()),
    sa.column("personal", sa.JSON(none_as_null=True)),
)


def _batches():  # type: ignore[no-untyped-def]
    """Every event's (id, action, entity, changes, personal), a batch at a time by id."""
    conn = op.get_bind()
    last = 0
    while True:
        rows = conn.execute(
            sa.select(
                _EVENTS.c.id,
                _EVENTS.c.action,
                _EVENTS.c.entity,
                _EVENTS.c.changes,
                _EVENTS.c.personal,
            )  # fmt: skip
            .where(_EVENTS.c.id > last)
            .order_by(_EVENTS.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        yield rows
        last = rows[-1][0]


_UPDATE = (
    sa.update(_EVENTS)
    .where(_EVENTS.c.id == sa.bindparam("event_id"))
    .values(changes=sa.bindparam("new_changes"), personal=sa.bindparam("new_personal"))
)


def _move_personal_values() -> None:
    conn = op.get_bind()
    for rows in _batches():
        moved = []
        for event_id, action, entity, changes, _ in rows:
            kept, apart = personal.split(action, entity, changes or {})
            if apart is not None:
                moved.append({"event_id": event_id, "new_changes": kept, "new_personal": apart})
        if moved:
            conn.execute(_UPDATE, moved)


def _move_back() -> None:
    conn = op.get_bind()
    for rows in _batches():
        moved = []
        for event_id, _, _, changes, apart in rows:
            if apart is None and personal.MARK not in (changes or {}).values():
                continue
            erased = [personal.ERASED, personal.ERASED]
            merged = {
                k: ((apart or {}).get(k, erased) if v == personal.MARK else v)
                for k, v in changes.items()
            }
            moved.append({"event_id": event_id, "new_changes": merged, "new_personal": None})
        if moved:
            conn.execute(_UPDATE, moved)
