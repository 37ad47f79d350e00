"""People: the duplicate pairs a person dismissed (the finder proposes them no more).

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "duplicate_dismissals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("first_lead_id", sa.Integer(), nullable=False),
        sa.Column("second_lead_id", sa.Integer(), nullable=False),
        sa.Column("dismissed_by_id", sa.Integer(), nullable=True),
        sa.Column("dismissed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["first_lead_id"], ["leads.id"]),
        sa.ForeignKeyConstraint(["second_lead_id"], ["leads.id"]),
        sa.ForeignKeyConstraint(["dismissed_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("first_lead_id", "second_lead_id", name="uq_duplicate_dismissal"),
    )


def downgrade() -> None:
    op.drop_table("duplicate_dismissals")
