"""Accounts: the users table.

Revision ID: 3a7c91e0b2d4
Revises:
Create Date: 2025-11-28 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "3a7c91e0b2d4"
down_revision = None
branch_labels = ("accounts",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        # uuid4 hex: the OIDC subject identifier, never reused or changed.
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("username_key", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("legacy_hash_scheme", sa.String(length=32), nullable=True),
        sa.Column("account_type", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("email_verified", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("phone_number", sa.String(length=32), nullable=True),
        sa.Column("phone_number_verified", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("realname_status", sa.String(length=20), server_default="unverified", nullable=False),
        sa.Column("roles", sa.String(length=200), server_default="", nullable=False),
        sa.Column("disabled", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("password_changed_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("account_type IN ('natural', 'legal')", name=op.f("ck_users_account_type")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        # Case-insensitive uniqueness of login names lives in this casefolded column.
        sa.UniqueConstraint("username_key", name=op.f("uq_users_username_key")),
    )


def downgrade() -> None:
    op.drop_table("users")
