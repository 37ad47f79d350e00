"""Sales: clients (remade: the 0001 placeholder was never written), sales, commission plans
and commissions, onboarding templates, steps and tasks, and the client-number counter.
A default onboarding template ships.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from leadms_tui.domain import clock

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_STEPS = [  # (title, business days after the sale, owner)
    ("Welcome call", 0, "closing_rep"),
    ("Setup check", 2, "account_manager"),
    ("First review", 10, "account_manager"),
]


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer(), nullable=False)


def _fk(column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [target])


def upgrade() -> None:
    op.drop_table("clients")
    op.create_table(
        "sequence_counters",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("last_value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "clients",
        _id(),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("phone_raw", sa.String(length=64), nullable=True),
        sa.Column("phone_e164", sa.String(length=20), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("email_lower", sa.String(length=254), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("first_lead_id", sa.Integer(), nullable=True),
        sa.Column("search_name", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _fk("owner_id", "users.id"),
        _fk("first_lead_id", "leads.id"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("number"),
        sa.UniqueConstraint("seq"),
    )
    for column in ("phone_e164", "email_lower", "owner_id", "status"):
        op.create_index(f"ix_clients_{column}", "clients", [column])
    op.create_table(
        "commission_plans",
        _id(),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("rate", sa.Numeric(precision=7, scale=4), nullable=True),
        sa.Column("flat", sa.Numeric(precision=18, scale=3), nullable=True),
        sa.Column("cap", sa.Numeric(precision=18, scale=3), nullable=True),
        sa.Column("product_filter", sa.String(length=200), nullable=True),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "sales",
        _id(),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Numeric(precision=18, scale=3), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("product", sa.String(length=200), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("sold_on", sa.Date(), nullable=False),
        sa.Column("commission_plan_id", sa.Integer(), nullable=True),
        sa.Column("commission_rate", sa.Numeric(precision=7, scale=4), nullable=True),
        sa.Column("commission_total", sa.Numeric(precision=18, scale=3), nullable=False),
        sa.Column("previous_status", sa.String(length=24), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("reversed_at", sa.DateTime(), nullable=True),
        sa.Column("reversed_by_id", sa.Integer(), nullable=True),
        sa.Column("reverse_reason", sa.String(length=500), nullable=True),
        _fk("client_id", "clients.id"),
        _fk("closed_by_id", "users.id"),
        _fk("commission_plan_id", "commission_plans.id"),
        _fk("lead_id", "leads.id"),
        _fk("reversed_by_id", "users.id"),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("client_id", "closed_by_id", "sold_on"):
        op.create_index(f"ix_sales_{column}", "sales", [column])
    live = sa.text("reversed_at IS NULL")
    op.create_index(
        "ux_sales_live_lead", "sales", ["lead_id"], unique=True,
        sqlite_where=live, postgresql_where=live,
    )  # fmt: skip
    op.create_table(
        "commissions",
        _id(),
        sa.Column("sale_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("share", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=3), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("approved_at", sa.DateTime(), nullable=True),
        sa.Column("paid_at", sa.DateTime(), nullable=True),
        sa.Column("voided_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _fk("approved_by_id", "users.id"),
        _fk("sale_id", "sales.id"),
        _fk("user_id", "users.id"),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("sale_id", "state", "user_id"):
        op.create_index(f"ix_commissions_{column}", "commissions", [column])
    op.create_table(
        "onboarding_templates",
        _id(),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "onboarding_steps",
        _id(),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("offset_days", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=16), nullable=False),
        sa.Column("owner_role", sa.String(length=16), nullable=True),
        sa.Column("owner_user_id", sa.Integer(), nullable=True),
        _fk("owner_user_id", "users.id"),
        _fk("template_id", "onboarding_templates.id"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_onboarding_steps_template_id", "onboarding_steps", ["template_id"])
    op.create_table(
        "onboarding_tasks",
        _id(),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("sale_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("done_at", sa.DateTime(), nullable=True),
        sa.Column("done_by_id", sa.Integer(), nullable=True),
        sa.Column("missed_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _fk("client_id", "clients.id"),
        _fk("done_by_id", "users.id"),
        _fk("owner_id", "users.id"),
        _fk("sale_id", "sales.id"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_onboarding_tasks_client_id", "onboarding_tasks", ["client_id"])
    op.create_index("ix_onboarding_tasks_sale_id", "onboarding_tasks", ["sale_id"])
    op.create_index(
        "ix_onboarding_tasks_owner_state_due", "onboarding_tasks", ["owner_id", "state", "due_on"]
    )
    _ship_default_template()


def _ship_default_template() -> None:
    now = clock.now().replace(tzinfo=None)
    templates = sa.table(
        "onboarding_templates",
        sa.column("id", sa.Integer), sa.column("name", sa.String), sa.column("is_default", sa.Boolean),
        sa.column("active", sa.Boolean), sa.column("created_at", sa.DateTime),
        sa.column("version", sa.Integer),
    )  # fmt: skip
    steps = sa.table(
        "onboarding_steps",
        sa.column("template_id", sa.Integer), sa.column("position", sa.Integer),
        sa.column("title", sa.String), sa.column("offset_days", sa.Integer),
        sa.column("owner", sa.String),
    )  # fmt: skip
    op.bulk_insert(
        templates,
        [{"id": 1, "name": "Standard", "is_default": True, "active": True,
          "created_at": now, "version": 1}],
    )  # fmt: skip
    op.bulk_insert(
        steps,
        [
            {"template_id": 1, "position": i, "title": title, "offset_days": days, "owner": owner}
            for i, (title, days, owner) in enumerate(DEFAULT_STEPS)
        ],
    )
    if op.get_bind().dialect.name == "postgresql":  # the explicit id must not collide later
        op.execute(
            "SELECT setval(pg_get_serial_sequence('onboarding_templates', 'id'), "
            "(SELECT max(id) FROM onboarding_templates))"
        )


def downgrade() -> None:
    for table in (
        "onboarding_tasks", "onboarding_steps", "onboarding_templates", "commissions",
        "sales", "commission_plans", "clients", "sequence_counters",
    ):  # fmt: skip
        op.drop_table(table)
