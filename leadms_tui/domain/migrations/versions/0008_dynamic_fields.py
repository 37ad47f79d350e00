"""Dynamic fields, remade for typed values: definitions with options, default, help text,
section and version; content-addressed files; values with a column per type and the
indexes that filter by a field (the 0001 placeholders were never written).

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_table("field_values")
    op.drop_table("stored_files")
    op.drop_table("field_definitions")
    op.create_table(
        "field_definitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("default", sa.String(length=500), nullable=True),
        sa.Column("help_text", sa.String(length=500), nullable=True),
        sa.Column("section", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("entity", "key", name="uq_field_definition_entity_key"),
    )
    op.create_table(
        "stored_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("mime_type", sa.String(length=100), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sha256"),
    )
    op.create_table(
        "field_values",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("definition_id", sa.Integer(), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.Integer(), nullable=False),
        sa.Column("value_text", sa.Text(), nullable=True),
        sa.Column("value_key", sa.String(length=200), nullable=True),
        sa.Column("value_number", sa.Numeric(precision=20, scale=6), nullable=True),
        sa.Column("value_date", sa.Date(), nullable=True),
        sa.Column("value_datetime", sa.DateTime(), nullable=True),
        sa.Column("value_bool", sa.Boolean(), nullable=True),
        sa.Column("file_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["definition_id"], ["field_definitions.id"]),
        sa.ForeignKeyConstraint(["file_id"], ["stored_files.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("definition_id", "entity_id", "item", name="uq_field_value_item"),
    )
    for name, column in [
        ("key", "value_key"),
        ("number", "value_number"),
        ("date", "value_date"),
        ("datetime", "value_datetime"),
    ]:
        op.create_index(  # covering: a filter reads the record ids from the index alone
            f"ix_field_values_{name}", "field_values", ["definition_id", column, "entity_id"]
        )
    op.create_index("ix_field_values_entity", "field_values", ["entity_id", "definition_id"])


def downgrade() -> None:
    for table in ("field_values", "stored_files", "field_definitions"):
        op.drop_table(table)
