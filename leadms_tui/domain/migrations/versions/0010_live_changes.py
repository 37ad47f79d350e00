"""Live updates on SQLite: each committed write leaves the tables it touched in `live_changes`
for the other processes' TUIs to read (PostgreSQL announces them with NOTIFY instead, so the
table exists only on SQLite; see `domain/live.py`).

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE TABLE live_changes (id INTEGER PRIMARY KEY, at REAL NOT NULL, "
            "tables TEXT NOT NULL)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE live_changes")
