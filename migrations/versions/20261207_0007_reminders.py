"""reminders: rules with their next fire time, the unique delivery key, Web Push subscriptions

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 20:31:53
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "push_subscriptions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("endpoint", sa.Text(), nullable=False),
        sa.Column("p256dh", sa.String(length=200), nullable=False),
        sa.Column("auth", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["core.users.id"],
            name=op.f("fk_push_subscriptions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_subscriptions")),
        sa.UniqueConstraint("endpoint", name=op.f("uq_push_subscriptions_endpoint")),
        schema="core",
    )
    op.create_index(
        op.f("ix_core_push_subscriptions_user_id"),
        "push_subscriptions",
        ["user_id"],
        unique=False,
        schema="core",
    )
    op.create_table(
        "reminders",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("habit_id", sa.Uuid(), nullable=True),
        sa.Column("time", sa.Time(), nullable=False),
        sa.Column("weekdays", postgresql.ARRAY(sa.SmallInteger()), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("follow_habit", sa.Boolean(), nullable=False),
        sa.Column("next_fire_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["habit_id"],
            ["core.habits.id"],
            name=op.f("fk_reminders_habit_id_habits"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["core.users.id"],
            name=op.f("fk_reminders_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminders")),
        schema="core",
    )
    op.create_index(
        op.f("ix_core_reminders_user_id"), "reminders", ["user_id"], unique=False, schema="core"
    )
    op.create_index(
        "ix_reminders_due",
        "reminders",
        ["next_fire_at"],
        unique=False,
        schema="core",
        postgresql_where=sa.text("enabled AND next_fire_at IS NOT NULL"),
    )
    op.create_table(
        "reminder_deliveries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("reminder_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("local_time", sa.Time(), nullable=False),
        sa.Column("fire_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["reminder_id"],
            ["core.reminders.id"],
            name=op.f("fk_reminder_deliveries_reminder_id_reminders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["core.users.id"],
            name=op.f("fk_reminder_deliveries_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder_deliveries")),
        sa.UniqueConstraint(
            "reminder_id",
            "local_date",
            "local_time",
            name=op.f("uq_reminder_deliveries_reminder_id_local_date_local_time"),
        ),
        schema="core",
    )
    op.create_index(
        op.f("ix_core_reminder_deliveries_user_id"),
        "reminder_deliveries",
        ["user_id", "fire_at"],
        unique=False,
        schema="core",
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_core_reminder_deliveries_user_id"), table_name="reminder_deliveries", schema="core"
    )
    op.drop_table("reminder_deliveries", schema="core")
    op.drop_index(
        "ix_reminders_due",
        table_name="reminders",
        schema="core",
        postgresql_where=sa.text("enabled AND next_fire_at IS NOT NULL"),
    )
    op.drop_index(op.f("ix_core_reminders_user_id"), table_name="reminders", schema="core")
    op.drop_table("reminders", schema="core")
    op.drop_index(
        op.f("ix_core_push_subscriptions_user_id"), table_name="push_subscriptions", schema="core"
    )
    op.drop_table("push_subscriptions", schema="core")
