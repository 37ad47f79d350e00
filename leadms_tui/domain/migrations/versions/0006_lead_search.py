"""Lead search that ignores accents and case, served by an index on both engines.

`leads.search_name` holds the name and email folded in Python (`models.lead_search_name`),
so both engines compare the same text. `lead_search` indexes it with the lead number and
the E.164 phone for substring search: a pg_trgm GIN index on PostgreSQL (pg_trgm is a
trusted extension: the database owner may create it), an FTS5 trigram table on SQLite,
kept in step by triggers.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from leadms_tui.domain.models import lead_search_name

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 5_000
_INDEXED = "search_name, number, phone_e164"
_SQLITE_SEARCH = [
    f"""CREATE VIRTUAL TABLE lead_search USING fts5(
        {_INDEXED}, content='leads', content_rowid='id', tokenize='trigram')""",
    # External content: the index is told the old values to remove, the new ones to add.
    f"""CREATE TRIGGER lead_search_insert AFTER INSERT ON leads BEGIN
        INSERT INTO lead_search(rowid, {_INDEXED})
        VALUES (new.id, new.search_name, new.number, new.phone_e164);
    END""",
    f"""CREATE TRIGGER lead_search_delete AFTER DELETE ON leads BEGIN
        INSERT INTO lead_search(lead_search, rowid, {_INDEXED})
        VALUES ('delete', old.id, old.search_name, old.number, old.phone_e164);
    END""",
    f"""CREATE TRIGGER lead_search_update AFTER UPDATE OF {_INDEXED} ON leads BEGIN
        INSERT INTO lead_search(lead_search, rowid, {_INDEXED})
        VALUES ('delete', old.id, old.search_name, old.number, old.phone_e164);
        INSERT INTO lead_search(rowid, {_INDEXED})
        VALUES (new.id, new.search_name, new.number, new.phone_e164);
    END""",
    "INSERT INTO lead_search(lead_search) VALUES ('rebuild')",
]
_POSTGRES_SEARCH = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX lead_search ON leads USING gin "
    "(search_name gin_trgm_ops, number gin_trgm_ops, phone_e164 gin_trgm_ops)",
]


def upgrade() -> None:
    op.add_column("leads", sa.Column("search_name", sa.String(), server_default="", nullable=False))
    _fill_search_names()
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in _POSTGRES_SEARCH if postgres else _SQLITE_SEARCH:
        op.execute(statement)  # after the fill: one index build, not one update per row


def _fill_search_names() -> None:
    """Fold in Python, as every write does: an SQL fold (unaccent) would differ in details."""
    conn = op.get_bind()
    leads = sa.table(
        "leads", sa.column("id"), sa.column("name"), sa.column("email"), sa.column("search_name")
    )
    fill = (
        leads.update()
        .where(leads.c.id == sa.bindparam("lead_id"))
        .values(search_name=sa.bindparam("folded"))
    )
    last_id = 0
    while rows := conn.execute(
        sa.select(leads.c.id, leads.c.name, leads.c.email)
        .where(leads.c.id > last_id)
        .order_by(leads.c.id)
        .limit(_BATCH)
    ).all():
        conn.execute(fill, [{"lead_id": i, "folded": lead_search_name(n, e)} for i, n, e in rows])
        last_id = rows[-1][0]


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX lead_search")  # pg_trgm stays: other objects may use it
    else:
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER lead_search_{trigger}")
        op.execute("DROP TABLE lead_search")
    with op.batch_alter_table("leads") as batch_op:
        batch_op.drop_column("search_name")
