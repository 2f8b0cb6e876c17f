"""confirmations: destructive actions the assistant proposed, waiting for the user's yes

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "confirmations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("habit_id", sa.Uuid(), nullable=True),
        sa.Column("summary", sa.String(length=400), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "action IN ('archive_habit', 'delete_reminders')",
            name=op.f("ck_confirmations_confirmation_action"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'accepted', 'cancelled')",
            name=op.f("ck_confirmations_confirmation_status"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["core.users.id"],
            name=op.f("fk_confirmations_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["habit_id"],
            ["core.habits.id"],
            name=op.f("fk_confirmations_habit_id_habits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_confirmations")),
        schema="core",
    )
    op.create_index(
        op.f("ix_core_confirmations_user_id"), "confirmations", ["user_id"], schema="core"
    )


def downgrade() -> None:
    op.drop_table("confirmations", schema="core")
