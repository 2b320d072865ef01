"""Service catalogue: notices (通知通告 / 结果公示) and follows (我的关注).

Revision ID: 0f699e2bf65d
Revises:
Create Date: 2026-11-28 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0f699e2bf65d"
down_revision = None
branch_labels = ("catalogue",)
# accounts (users) and oidc (oauth_clients): the follows table references both.
depends_on = ("3a7c91e0b2d4", "a1c3e5f70001")


def upgrade() -> None:
    op.create_table(
        "catalogue_notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("published_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('notice', 'result')", name=op.f("ck_catalogue_notices_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalogue_notices")),
    )
    op.create_index("ix_catalogue_notices_kind_published_on", "catalogue_notices", ["kind", "published_on"])
    op.create_table(
        "catalogue_follows",
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("followed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], ondelete="CASCADE", name=op.f("fk_catalogue_follows_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["oauth_clients.client_id"],
            ondelete="CASCADE",
            name=op.f("fk_catalogue_follows_client_id_oauth_clients"),
        ),
        sa.PrimaryKeyConstraint("user_id", "client_id", name=op.f("pk_catalogue_follows")),
    )
    # Removing a client deletes its follows (ON DELETE CASCADE): an index keeps that a lookup.
    op.create_index(op.f("ix_catalogue_follows_client_id"), "catalogue_follows", ["client_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_catalogue_follows_client_id"), table_name="catalogue_follows")
    op.drop_table("catalogue_follows")
    op.drop_index("ix_catalogue_notices_kind_published_on", table_name="catalogue_notices")
    op.drop_table("catalogue_notices")
