"""Money columns keep four decimals (CLF and UYW have four minor units), and a sale keeps
who owned the lead when it was sold, so a commission the converting user earns on someone
else's lead is known (it needs a second manager; see `domain/sales/commission.py`).

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY = {
    "sales": ("value", "commission_total"),
    "commission_plans": ("flat", "cap"),
    "commissions": ("amount",),
}


def _rescale(scale: int) -> None:
    for table, columns in MONEY.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.alter_column(
                    column,
                    type_=sa.Numeric(precision=18, scale=scale),
                    existing_type=sa.Numeric(precision=18, scale=7 - scale),
                )


def upgrade() -> None:
    _rescale(4)
    with op.batch_alter_table("sales") as batch:
        batch.add_column(sa.Column("lead_owner_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_sales_lead_owner_id_users", "users", ["lead_owner_id"], ["id"])
    # Sales made before: the lead's owner now is the best record of who owned it then.
    op.execute(
        "UPDATE sales SET lead_owner_id = (SELECT owner_id FROM leads WHERE leads.id = sales.lead_id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("sales") as batch:
        batch.drop_constraint("fk_sales_lead_owner_id_users", type_="foreignkey")
        batch.drop_column("lead_owner_id")
    _rescale(3)
