"""Indexes for the team's day view at 100k leads / 1M follow-ups and calls.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_followup_state_due", "follow_ups", ["state", "due_at"])
    op.create_index("ix_call_called_at", "calls", ["called_at"])
    op.create_index("ix_lead_status_created_at", "leads", ["status", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_lead_status_created_at", table_name="leads")
    op.drop_index("ix_call_called_at", table_name="calls")
    op.drop_index("ix_followup_state_due", table_name="follow_ups")
