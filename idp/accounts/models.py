"""The account table: one row per natural or legal person who can sign in.

Profile columns of later features (gender, ethnicity, ID document...) are added by their own
Alembic revisions in the ``accounts`` branch; nothing here assumes the column list is final.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, String, false
from sqlalchemy.orm import Mapped, mapped_column

from idp.db import Base, UTCDateTime, utcnow


class AccountType(StrEnum):
    NATURAL = "natural"
    LEGAL = "legal"


def new_user_id() -> str:
    """A stable, meaningless identifier: the OpenID Connect ``sub``, which never changes (Core 5.7)."""
    return uuid.uuid4().hex


def username_key(username: str) -> str:
    """The form of a login name that uniqueness and look-ups use (case-insensitive)."""
    return username.strip().casefold()


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("account_type IN ('natural', 'legal')", name="account_type"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_user_id)
    #: The login name as the person typed it at registration (shown back to them).
    username: Mapped[str] = mapped_column(String(64))
    #: Casefolded login name; unique, so ``ZhangSan`` and ``zhangsan`` are one account.
    username_key: Mapped[str] = mapped_column(String(64), unique=True)
    #: argon2id PHC string, or an imported hash when ``legacy_hash_scheme`` is set; None: no password.
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    #: Name of the old system's hash scheme (see ``passwords.LEGACY_VERIFIERS``) until the first sign-in.
    legacy_hash_scheme: Mapped[str | None] = mapped_column(String(32), default=None)
    account_type: Mapped[str] = mapped_column(String(16), default=AccountType.NATURAL.value)
    name: Mapped[str | None] = mapped_column(String(100), default=None)
    email: Mapped[str | None] = mapped_column(String(254), default=None)
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    phone_number: Mapped[str | None] = mapped_column(String(32), default=None)
    phone_number_verified: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: ``unverified`` | ``verified`` | ``failed`` | ``pending_review`` | ``reviewed``;
    #: the real-name feature owns the transitions.
    realname_status: Mapped[str] = mapped_column(
        String(20), default="unverified", server_default="unverified"
    )
    #: Comma-separated platform roles, e.g. ``reviewer``.
    roles: Mapped[str] = mapped_column(String(200), default="", server_default="")
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    @property
    def role_set(self) -> frozenset[str]:
        return frozenset(r.strip() for r in self.roles.split(",") if r.strip())

    def has_role(self, role: str) -> bool:
        return role in self.role_set

    def __repr__(self) -> str:
        # Only the opaque id: a repr can end up in a log line.
        return f"<User {self.id}>"
