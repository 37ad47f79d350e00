"""Phone bridge: each rep's extension, the calls the phone system reported, and the link from
a logged call to the phone system's record of it.

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # plain ADD COLUMN and unique indexes: no table rebuild on SQLite (calls holds millions)
    op.add_column("users", sa.Column("extension", sa.String(32), nullable=True))
    op.create_index("ix_users_extension", "users", ["extension"], unique=True)
    op.create_table(
        "phone_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("provider_call_id", sa.String(128), nullable=False),
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("extension", sa.String(32), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("remote_number", sa.String(64), nullable=True),
        sa.Column("remote_e164", sa.String(20), nullable=True),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("end_status", sa.String(16), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.Column("recording_url", sa.String(1000), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"]),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("provider", "provider_call_id", name="uq_phone_call_provider_id"),
    )
    op.create_index("ix_phone_calls_remote_e164", "phone_calls", ["remote_e164"])
    op.create_index("ix_phone_calls_lead_id", "phone_calls", ["lead_id"])
    op.create_index("ix_phone_calls_user_started", "phone_calls", ["user_id", "started_at"])
    if op.get_bind().dialect.name == "sqlite":  # alembic would rebuild the table for the FK
        op.execute("ALTER TABLE calls ADD COLUMN phone_call_id INTEGER REFERENCES phone_calls (id)")
    else:
        op.add_column("calls", sa.Column("phone_call_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            "fk_calls_phone_call_id", "calls", "phone_calls", ["phone_call_id"], ["id"]
        )
    op.create_index("ix_calls_phone_call_id", "calls", ["phone_call_id"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_calls_phone_call_id", "calls")
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("phone_call_id")
    op.drop_table("phone_calls")
    op.drop_index("ix_users_extension", "users")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("extension")
