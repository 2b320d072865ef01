"""Accounts, server-side sessions, sign-in states and seen logout tokens of the training system

Revision ID: 7b52d0e9c4a1
Revises:
Create Date: 2025-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "7b52d0e9c4a1"
down_revision = None
branch_labels = ("training_rp",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rp_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("department", sa.String(100), nullable=False),
        sa.Column("unit_name", sa.String(100), nullable=True),
        sa.Column("username", sa.String(32), nullable=True),
        sa.Column("office_phone", sa.String(32), nullable=True),
        sa.Column("mobile", sa.String(32), nullable=True),
        sa.Column("fax", sa.String(32), nullable=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("id_number_key_id", sa.String(16), nullable=False),
        sa.Column("id_number_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("id_number_index", sa.String(64), nullable=False),
        sa.Column("sub", sa.String(255), nullable=True),
        sa.Column("bound_at", sa.DateTime(), nullable=True),
        sa.Column("last_login_at", sa.DateTime(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "role IN ('ministry_admin', 'department_user', 'organizing_unit')",
            name=op.f("ck_rp_account_role"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["rp_account.id"],
            name=op.f("fk_rp_account_created_by_id_rp_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rp_account")),
        sa.UniqueConstraint("username", name=op.f("uq_rp_account_username")),
        sa.UniqueConstraint("id_number_index", name=op.f("uq_rp_account_id_number_index")),
        sa.UniqueConstraint("sub", name=op.f("uq_rp_account_sub")),
    )
    op.create_index(op.f("ix_rp_account_department"), "rp_account", ["department"])

    op.create_table(
        "rp_session",
        sa.Column("id_hash", sa.String(64), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("sub", sa.String(255), nullable=True),
        sa.Column("sid", sa.String(255), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["rp_account.id"],
            name=op.f("fk_rp_session_account_id_rp_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_rp_session")),
    )
    op.create_index(op.f("ix_rp_session_account_id"), "rp_session", ["account_id"])
    op.create_index(op.f("ix_rp_session_sub"), "rp_session", ["sub"])
    op.create_index(op.f("ix_rp_session_sid"), "rp_session", ["sid"])
    op.create_index(op.f("ix_rp_session_expires_at"), "rp_session", ["expires_at"])

    op.create_table(
        "rp_login_state",
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rp_login_state")),
    )
    op.create_index(op.f("ix_rp_login_state_expires_at"), "rp_login_state", ["expires_at"])

    op.create_table(
        "rp_seen_logout_token",
        sa.Column("jti_hash", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("jti_hash", name=op.f("pk_rp_seen_logout_token")),
    )
    op.create_index(op.f("ix_rp_seen_logout_token_expires_at"), "rp_seen_logout_token", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_rp_seen_logout_token_expires_at"), table_name="rp_seen_logout_token")
    op.drop_table("rp_seen_logout_token")
    op.drop_index(op.f("ix_rp_login_state_expires_at"), table_name="rp_login_state")
    op.drop_table("rp_login_state")
    op.drop_index(op.f("ix_rp_session_expires_at"), table_name="rp_session")
    op.drop_index(op.f("ix_rp_session_sid"), table_name="rp_session")
    op.drop_index(op.f("ix_rp_session_sub"), table_name="rp_session")
    op.drop_index(op.f("ix_rp_session_account_id"), table_name="rp_session")
    op.drop_table("rp_session")
    op.drop_index(op.f("ix_rp_account_department"), table_name="rp_account")
    op.drop_table("rp_account")
