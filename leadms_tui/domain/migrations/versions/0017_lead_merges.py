"""People: merging two leads into one (`leads.merged_into_id`) and the record of each merge,
so it can be undone.

Revision ID: 0017
Revises: 0016
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":  # alembic would rebuild the table for the FK
        op.execute("ALTER TABLE leads ADD COLUMN merged_into_id INTEGER REFERENCES leads (id)")
    else:
        op.add_column("leads", sa.Column("merged_into_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            "fk_leads_merged_into_id", "leads", "leads", ["merged_into_id"], ["id"]
        )
    op.create_table(
        "lead_merges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survivor_id", sa.Integer(), nullable=False),
        sa.Column("merged_id", sa.Integer(), nullable=False),
        sa.Column("merged_at", sa.DateTime(), nullable=False),
        sa.Column("merged_by_id", sa.Integer(), nullable=True),
        sa.Column("moved", sa.JSON(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("unmerged_at", sa.DateTime(), nullable=True),
        sa.Column("unmerged_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["survivor_id"], ["leads.id"]),
        sa.ForeignKeyConstraint(["merged_id"], ["leads.id"]),
        sa.ForeignKeyConstraint(["merged_by_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["unmerged_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_lead_merges_survivor_id", "lead_merges", ["survivor_id"])
    op.create_index("ix_lead_merges_merged_id", "lead_merges", ["merged_id"])


def downgrade() -> None:
    op.drop_table("lead_merges")
    with op.batch_alter_table("leads") as batch:
        batch.drop_column("merged_into_id")
