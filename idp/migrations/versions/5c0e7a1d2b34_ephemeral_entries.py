"""Embedded short-lived store: the ephemeral_entries table.

Revision ID: 5c0e7a1d2b34
Revises:
Create Date: 2025-11-27 23:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "5c0e7a1d2b34"
down_revision = None
branch_labels = ("store",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ephemeral_entries",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        # Unix time in seconds, fractional; compared with the database clock.
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_ephemeral_entries")),
    )
    # Lookups go by key; this index serves the purge of expired rows.
    op.create_index(op.f("ix_ephemeral_entries_expires_at"), "ephemeral_entries", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_ephemeral_entries_expires_at"), table_name="ephemeral_entries")
    op.drop_table("ephemeral_entries")
