"""Durable records of legal persons: units, their permissions for matters, and delegated roles.

* :class:`Unit` — a legal person (法人/单位), identified by its unified social credit code. Its unit
  admin (单位管理员) is a sign-in account of type ``legal`` (``users.account_type``), one per unit.
* :class:`MatterPermission` — a unit's request for, and then permission to handle, a matter (a
  registered client). At most one open (pending or approved) request per unit and matter.
* :class:`RoleGrant` — the unit's delegation of a matter to a natural person, as matter manager
  (事项管理员) or matter handler (事项办理员). At most one live grant per unit, matter and person;
  revoking sets ``revoked_at`` so the history stays readable.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from idp.db import Base, UTCDateTime, utcnow


class UnitStatus(StrEnum):
    #: Registered through the web, waiting for an operator.
    PENDING = "pending"
    ACTIVE = "active"
    REJECTED = "rejected"


class UnitType(StrEnum):
    ENTERPRISE = "enterprise"
    INSTITUTION = "institution"
    GOVERNMENT = "government"
    SOCIAL_ORGANISATION = "social_organisation"
    OTHER = "other"


class PermissionStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    #: An approved permission an operator took back; every grant under it stops working.
    REVOKED = "revoked"


class Role(StrEnum):
    UNIT_ADMIN = "unit_admin"
    MATTER_MANAGER = "matter_manager"
    MATTER_HANDLER = "matter_handler"


#: Roles a unit hands to natural persons (the unit admin role belongs to the legal account itself).
GRANTABLE_ROLES = (Role.MATTER_MANAGER, Role.MATTER_HANDLER)


#: Unit and user ids are uuid4 hex; anything else names no row and is refused before any query
#: (PostgreSQL refuses NUL characters in text parameters with an error, not an empty result).
ID_PATTERN = re.compile(r"[0-9a-f]{32}")


def new_unit_id() -> str:
    return uuid.uuid4().hex


def is_row_id(value: object) -> bool:
    return isinstance(value, str) and ID_PATTERN.fullmatch(value) is not None


class Unit(Base):
    __tablename__ = "org_units"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'active', 'rejected')", name="status"),
        CheckConstraint(
            "unit_type IN ('enterprise', 'institution', 'government', 'social_organisation', 'other')",
            name="unit_type",
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_unit_id)
    #: Normalised (upper case, no spaces), validated by GB 32100 check character.
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    unit_type: Mapped[str] = mapped_column(String(24), default=UnitType.OTHER.value)
    address: Mapped[str | None] = mapped_column(String(300), default=None)
    contact_name: Mapped[str | None] = mapped_column(String(50), default=None)
    contact_phone: Mapped[str | None] = mapped_column(String(32), default=None)
    contact_email: Mapped[str | None] = mapped_column(String(254), default=None)
    #: The unit admin's sign-in account (``account_type = 'legal'``).
    admin_user_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[str] = mapped_column(String(12), default=UnitStatus.PENDING.value)
    #: An operator's reason for a rejection.
    status_reason: Mapped[str | None] = mapped_column(String(500), default=None)
    decided_by: Mapped[str | None] = mapped_column(String(64), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


_OPEN_PERMISSION = "status IN ('pending', 'approved')"


class MatterPermission(Base):
    __tablename__ = "org_matter_permissions"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'approved', 'rejected', 'revoked')", name="status"),
        # One open request (or live permission) per unit and matter; closed ones stay as history.
        Index(
            "uq_org_matter_permissions_open",
            "unit_id",
            "client_id",
            unique=True,
            sqlite_where=text(_OPEN_PERMISSION),
            postgresql_where=text(_OPEN_PERMISSION),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    unit_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("org_units.id", ondelete="CASCADE"), index=True
    )
    client_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("oauth_clients.client_id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(12), default=PermissionStatus.PENDING.value)
    #: What the unit wrote with its request.
    note: Mapped[str | None] = mapped_column(String(500), default=None)
    requested_by: Mapped[str] = mapped_column(String(32))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(64), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    decision_reason: Mapped[str | None] = mapped_column(String(500), default=None)


_LIVE_GRANT = "revoked_at IS NULL"


class RoleGrant(Base):
    __tablename__ = "org_role_grants"
    __table_args__ = (
        CheckConstraint("role IN ('matter_manager', 'matter_handler')", name="role"),
        Index(
            "uq_org_role_grants_live",
            "unit_id",
            "client_id",
            "user_id",
            unique=True,
            sqlite_where=text(_LIVE_GRANT),
            postgresql_where=text(_LIVE_GRANT),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    unit_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("org_units.id", ondelete="CASCADE"), index=True
    )
    client_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("oauth_clients.client_id", ondelete="CASCADE")
    )
    #: The natural person who holds the role.
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    granted_by: Mapped[str] = mapped_column(String(32))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_by: Mapped[str | None] = mapped_column(String(32), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
