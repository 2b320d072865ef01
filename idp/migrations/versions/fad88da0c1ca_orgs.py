"""Legal persons: units, their permissions for matters, and roles delegated to natural persons.

Revision ID: fad88da0c1ca
Revises:
Create Date: 2026-12-05 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "fad88da0c1ca"
down_revision = None
branch_labels = ("orgs",)
# accounts (users: unit admins and grantees) and oidc (oauth_clients: the matters).
depends_on = ("3a7c91e0b2d4", "a1c3e5f70001")

OPEN_PERMISSION = "status IN ('pending', 'approved')"
LIVE_GRANT = "revoked_at IS NULL"


def upgrade() -> None:
    op.create_table(
        "org_units",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("credit_code", sa.String(18), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("unit_type", sa.String(24), nullable=False),
        sa.Column("address", sa.String(300), nullable=True),
        sa.Column("contact_name", sa.String(50), nullable=True),
        sa.Column("contact_phone", sa.String(32), nullable=True),
        sa.Column("contact_email", sa.String(254), nullable=True),
        sa.Column("admin_user_id", sa.String(32), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("status_reason", sa.String(500), nullable=True),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("status IN ('pending', 'active', 'rejected')", name=op.f("ck_org_units_status")),
        sa.CheckConstraint(
            "unit_type IN ('enterprise', 'institution', 'government', 'social_organisation', 'other')",
            name=op.f("ck_org_units_unit_type"),
        ),
        sa.ForeignKeyConstraint(
            ["admin_user_id"], ["users.id"], ondelete="CASCADE", name=op.f("fk_org_units_admin_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_units")),
        sa.UniqueConstraint("credit_code", name=op.f("uq_org_units_credit_code")),
        sa.UniqueConstraint("admin_user_id", name=op.f("uq_org_units_admin_user_id")),
    )
    op.create_table(
        "org_matter_permissions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("unit_id", sa.String(32), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("note", sa.String(500), nullable=True),
        sa.Column("requested_by", sa.String(32), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decision_reason", sa.String(500), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected', 'revoked')",
            name=op.f("ck_org_matter_permissions_status"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["org_units.id"],
            ondelete="CASCADE",
            name=op.f("fk_org_matter_permissions_unit_id_org_units"),
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["oauth_clients.client_id"],
            ondelete="CASCADE",
            name=op.f("fk_org_matter_permissions_client_id_oauth_clients"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_matter_permissions")),
    )
    op.create_index(op.f("ix_org_matter_permissions_unit_id"), "org_matter_permissions", ["unit_id"])
    op.create_index(op.f("ix_org_matter_permissions_client_id"), "org_matter_permissions", ["client_id"])
    # Partial unique index: one open request or live permission per unit and matter (both backends
    # support WHERE on an index); rejected and revoked rows stay as history.
    op.create_index(
        "uq_org_matter_permissions_open",
        "org_matter_permissions",
        ["unit_id", "client_id"],
        unique=True,
        sqlite_where=sa.text(OPEN_PERMISSION),
        postgresql_where=sa.text(OPEN_PERMISSION),
    )
    op.create_table(
        "org_role_grants",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("unit_id", sa.String(32), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("granted_by", sa.String(32), nullable=False),
        sa.Column("granted_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_by", sa.String(32), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "role IN ('matter_manager', 'matter_handler')", name=op.f("ck_org_role_grants_role")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["org_units.id"],
            ondelete="CASCADE",
            name=op.f("fk_org_role_grants_unit_id_org_units"),
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["oauth_clients.client_id"],
            ondelete="CASCADE",
            name=op.f("fk_org_role_grants_client_id_oauth_clients"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], ondelete="CASCADE", name=op.f("fk_org_role_grants_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_role_grants")),
    )
    op.create_index(op.f("ix_org_role_grants_unit_id"), "org_role_grants", ["unit_id"])
    op.create_index(op.f("ix_org_role_grants_user_id"), "org_role_grants", ["user_id"])
    op.create_index(
        "uq_org_role_grants_live",
        "org_role_grants",
        ["unit_id", "client_id", "user_id"],
        unique=True,
        sqlite_where=sa.text(LIVE_GRANT),
        postgresql_where=sa.text(LIVE_GRANT),
    )


def downgrade() -> None:
    op.drop_index("uq_org_role_grants_live", table_name="org_role_grants")
    op.drop_index(op.f("ix_org_role_grants_user_id"), table_name="org_role_grants")
    op.drop_index(op.f("ix_org_role_grants_unit_id"), table_name="org_role_grants")
    op.drop_table("org_role_grants")
    op.drop_index("uq_org_matter_permissions_open", table_name="org_matter_permissions")
    op.drop_index(op.f("ix_org_matter_permissions_client_id"), table_name="org_matter_permissions")
    op.drop_index(op.f("ix_org_matter_permissions_unit_id"), table_name="org_matter_permissions")
    op.drop_table("org_matter_permissions")
    op.drop_table("org_units")
