"""integrations: daily health aggregates, habit links, import jobs; the source of a log

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-04 21:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "habit_logs",
        sa.Column("source", sa.String(length=16), server_default="manual", nullable=False),
        schema="core",
    )
    op.create_table(
        "integration_days",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("integration", sa.String(length=32), nullable=False),
        sa.Column("data_type", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Uuid(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["core.users.id"],
            name=op.f("fk_integration_days_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "user_id", "integration", "data_type", "key", "date", name=op.f("pk_integration_days")
        ),
        schema="core",
    )
    op.create_index(
        op.f("ix_core_integration_days_user_id"),
        "integration_days",
        ["user_id", "data_type", "date"],
        unique=False,
        schema="core",
    )
    op.create_table(
        "integration_links",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("habit_id", sa.Uuid(), nullable=False),
        sa.Column("integration", sa.String(length=32), nullable=True),
        sa.Column("data_type", sa.String(length=32), nullable=False),
        sa.Column("workout_type", sa.String(length=64), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "direction IN ('at_least', 'at_most')",
            name=op.f("ck_integration_links_direction_known"),
        ),
        sa.ForeignKeyConstraint(
            ["habit_id"],
            ["core.habits.id"],
            name=op.f("fk_integration_links_habit_id_habits"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["core.users.id"],
            name=op.f("fk_integration_links_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integration_links")),
        sa.UniqueConstraint("habit_id", name=op.f("uq_integration_links_habit_id")),
        schema="core",
    )
    op.create_index(
        op.f("ix_core_integration_links_user_id"),
        "integration_links",
        ["user_id"],
        unique=False,
        schema="core",
    )
    op.create_table(
        "integration_jobs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("integration", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("processed", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("records", sa.BigInteger(), nullable=False),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("error", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'succeeded', 'failed')",
            name=op.f("ck_integration_jobs_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["core.users.id"],
            name=op.f("fk_integration_jobs_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integration_jobs")),
        schema="core",
    )
    op.create_index(
        op.f("ix_core_integration_jobs_user_id"),
        "integration_jobs",
        ["user_id", "created_at"],
        unique=False,
        schema="core",
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_core_integration_jobs_user_id"), table_name="integration_jobs", schema="core"
    )
    op.drop_table("integration_jobs", schema="core")
    op.drop_index(
        op.f("ix_core_integration_links_user_id"), table_name="integration_links", schema="core"
    )
    op.drop_table("integration_links", schema="core")
    op.drop_index(
        op.f("ix_core_integration_days_user_id"), table_name="integration_days", schema="core"
    )
    op.drop_table("integration_days", schema="core")
    op.drop_column("habit_logs", "source", schema="core")
