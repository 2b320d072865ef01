"""The IdP's tokens of a session: sealed refresh token, when obtained, when the access token expires

Revision ID: c4e1a9d27f3b
Revises: 7b52d0e9c4a1
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c4e1a9d27f3b"
down_revision = "7b52d0e9c4a1"
branch_labels = None
depends_on = None

COLUMNS = (
    "refresh_key_id",
    "refresh_token_sealed",
    "tokens_obtained_at",
    "access_expires_at",
    "refresh_blocked_until",
)


def upgrade() -> None:
    # Nullable columns: sessions opened before this revision simply have no tokens to refresh.
    with op.batch_alter_table("rp_session") as batch:
        batch.add_column(sa.Column("refresh_key_id", sa.String(16), nullable=True))
        batch.add_column(sa.Column("refresh_token_sealed", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("tokens_obtained_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("access_expires_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("refresh_blocked_until", sa.DateTime(), nullable=True))


def downgrade() -> None:
    # SQLite cannot drop a column in place; batch mode copies the table without them.
    with op.batch_alter_table("rp_session") as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
