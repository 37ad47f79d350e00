"""Smart assignment: a rep's channels, availability, away-until and working hours, and the
leads waiting for an eligible rep.

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("channels", sa.String(200), nullable=False, server_default=""))
        batch.add_column(
            sa.Column("availability", sa.String(16), nullable=False, server_default="available")
        )
        batch.add_column(sa.Column("away_until", sa.DateTime(), nullable=True))
        batch.add_column(
            sa.Column("working_hours", sa.String(20), nullable=False, server_default="")
        )
    op.create_table(
        "assignment_waits",
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("since", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"]),
        sa.PrimaryKeyConstraint("lead_id"),
    )
    op.create_index("ix_assignment_waits_since", "assignment_waits", ["since"])


def downgrade() -> None:
    op.drop_table("assignment_waits")
    with op.batch_alter_table("users") as batch:
        for column in ("working_hours", "away_until", "availability", "channels"):
            batch.drop_column(column)
