"""Real-name verification: profiles, verified identities, verification attempts, document photos.

Revision ID: b2d4f6a80002
Revises:
Create Date: 2026-11-28 01:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "b2d4f6a80002"
down_revision = None
branch_labels = ("realname",)
depends_on = ("3a7c91e0b2d4",)  # accounts: the users table


def upgrade() -> None:
    op.create_table(
        "person_profiles",
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("gender", sa.String(10), nullable=True),
        sa.Column("ethnicity", sa.String(2), nullable=True),
        sa.Column("position", sa.String(100), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("landline", sa.String(32), nullable=True),
        sa.Column("region_type", sa.String(20), nullable=True),
        sa.Column("document_type", sa.String(40), nullable=True),
        sa.Column("id_number_enc", sa.Text(), nullable=True),
        sa.Column("id_number_index", sa.String(64), nullable=True),
        sa.Column("id_valid_from", sa.Date(), nullable=True),
        sa.Column("id_valid_to", sa.Date(), nullable=True),
        sa.Column("continent", sa.String(4), nullable=True),
        sa.Column("country", sa.String(2), nullable=True),
        sa.Column("address", sa.String(300), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_person_profiles_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_person_profiles")),
    )
    op.create_index(op.f("ix_person_profiles_id_number_index"), "person_profiles", ["id_number_index"])
    op.create_table(
        "verified_identities",
        sa.Column("id_number_index", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("verified_at", sa.DateTime(), nullable=False),
        sa.Column("evidence", sa.String(20), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_verified_identities_user_id_users")),
        sa.PrimaryKeyConstraint("id_number_index", name=op.f("pk_verified_identities")),
        sa.UniqueConstraint("user_id", name=op.f("uq_verified_identities_user_id")),
    )
    op.create_table(
        "realname_verifications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("reviewer_id", sa.String(32), nullable=True),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("source_reference", sa.String(100), nullable=True),
        sa.Column("snapshot_json", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_realname_verifications_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_realname_verifications")),
    )
    op.create_index(op.f("ix_realname_verifications_user_id"), "realname_verifications", ["user_id"])
    op.create_index("ix_realname_verifications_state_created", "realname_verifications", ["state", "created_at"])
    op.create_table(
        "realname_documents",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("verification_id", sa.Integer(), nullable=False),
        sa.Column("side", sa.String(5), nullable=False),
        sa.Column("content_enc", sa.Text(), nullable=False),
        sa.Column("content_type", sa.String(20), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["verification_id"], ["realname_verifications.id"], ondelete="CASCADE",
                                name=op.f("fk_realname_documents_verification_id_realname_verifications")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_realname_documents")),
    )
    op.create_index(op.f("ix_realname_documents_verification_id"), "realname_documents", ["verification_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_realname_documents_verification_id"), table_name="realname_documents")
    op.drop_table("realname_documents")
    op.drop_index("ix_realname_verifications_state_created", table_name="realname_verifications")
    op.drop_index(op.f("ix_realname_verifications_user_id"), table_name="realname_verifications")
    op.drop_table("realname_verifications")
    op.drop_table("verified_identities")
    op.drop_index(op.f("ix_person_profiles_id_number_index"), table_name="person_profiles")
    op.drop_table("person_profiles")
