"""Speed to lead: each lead's response clock and the ladder steps fired on it.

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "response_clocks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("touched_at", sa.DateTime(), nullable=True),
        sa.Column("touched_by", sa.String(16), nullable=True),
        sa.Column("touched_by_id", sa.Integer(), nullable=True),
        sa.Column("flagged_at", sa.DateTime(), nullable=True),
        sa.Column("steps_fired", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("steps_at_touch", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"]),
        sa.ForeignKeyConstraint(["touched_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("lead_id"),
    )
    op.create_index("ix_response_clocks_touched_at", "response_clocks", ["touched_at"])
    op.create_table(
        "response_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clock_id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("minute", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("fired_at", sa.DateTime(), nullable=False),
        sa.Column("from_user_id", sa.Integer(), nullable=True),
        sa.Column("to_user_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.String(300), nullable=False),
        sa.ForeignKeyConstraint(["clock_id"], ["response_clocks.id"]),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"]),
        sa.ForeignKeyConstraint(["from_user_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["to_user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("clock_id", "action", name="uq_response_step_once"),
    )
    op.create_index("ix_response_steps_lead_id", "response_steps", ["lead_id"])
    # leads taken in before clocks existed never climb the ladder (an empty database: none)
    newest = op.get_bind().execute(sa.text("SELECT max(created_at) FROM leads")).scalar()
    if newest is not None:
        since = newest if isinstance(newest, str) else newest.isoformat()
        op.execute(
            sa.text(
                "INSERT INTO settings (key, value) VALUES ('response_clock_since', :since)"
            ).bindparams(since=since)
        )


def downgrade() -> None:
    op.execute("DELETE FROM settings WHERE key = 'response_clock_since'")
    op.drop_table("response_steps")
    op.drop_table("response_clocks")
