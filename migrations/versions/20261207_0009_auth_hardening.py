"""auth hardening: normalised unique emails, token versions, rotating refresh tokens

Revision ID: 0009
Revises: 0006
Create Date: 2026-12-07 20:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    # Registration has lower-cased emails from the start, so two rows differing only in case or
    # spaces should not exist; if some do, merging accounts is a person's call, not a migration's.
    clashes = bind.execute(
        sa.text(
            "SELECT lower(btrim(email)) AS normalised, count(*) FROM core.users "
            "GROUP BY 1 HAVING count(*) > 1"
        )
    ).all()
    if clashes:
        names = ", ".join(row.normalised for row in clashes)
        raise RuntimeError(
            f"accounts whose emails differ only in case or spaces: {names}; merge or rename "
            "them, then migrate again"
        )
    op.execute(
        "UPDATE core.users SET email = lower(btrim(email)) WHERE email <> lower(btrim(email))"
    )
    op.create_check_constraint(
        op.f("ck_users_email_normalised"), "users", "email = lower(btrim(email))", schema="core"
    )
    op.create_index(
        "uq_users_email_lower", "users", [sa.text("lower(email)")], unique=True, schema="core"
    )
    op.add_column(
        "users",
        sa.Column("token_version", sa.Integer(), server_default="0", nullable=False),
        schema="core",
    )
    op.create_table(
        "refresh_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("family_id", sa.Uuid(), nullable=False),
        sa.Column("token_version", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["core.users.id"],
            name=op.f("fk_refresh_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_refresh_tokens")),
        schema="core",
    )
    op.create_index(
        op.f("ix_core_refresh_tokens_user_id"), "refresh_tokens", ["user_id"], schema="core"
    )
    op.create_index(
        op.f("ix_core_refresh_tokens_family_id"), "refresh_tokens", ["family_id"], schema="core"
    )


def downgrade() -> None:
    op.drop_table("refresh_tokens", schema="core")
    op.drop_column("users", "token_version", schema="core")
    op.drop_index("uq_users_email_lower", table_name="users", schema="core")
    op.drop_constraint(op.f("ck_users_email_normalised"), "users", schema="core")
