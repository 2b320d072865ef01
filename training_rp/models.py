"""Tables of the training system's own database (its Alembic chain is in ``training_rp/migrations``)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from training_rp.db import Base, UTCDateTime, utcnow
from training_rp.errors import N_


class Role(StrEnum):
    """The three kinds of account of the training system."""

    #: 引智司: records competent-department users.
    MINISTRY_ADMIN = "ministry_admin"
    #: 出国(境)培训归口管理部门: adds organizing-unit accounts of its department.
    DEPARTMENT_USER = "department_user"
    #: 组团单位: organizes training groups.
    ORGANIZING_UNIT = "organizing_unit"


ROLE_LABELS = {
    Role.MINISTRY_ADMIN: N_("引智司管理员"),
    Role.DEPARTMENT_USER: N_("出国(境)培训归口管理部门用户"),
    Role.ORGANIZING_UNIT: N_("组团单位用户"),
}
MINISTRY_DEPARTMENT = "引智司"


class Account(Base):
    """A person allowed into the training system, recorded before their first sign-in.

    The ID number is stored encrypted with a blind index for lookups; ``sub`` is the platform
    subject the account is bound to at the first verified sign-in whose ID number matches.
    """

    __tablename__ = "rp_account"
    __table_args__ = (
        CheckConstraint("role IN ('ministry_admin', 'department_user', 'organizing_unit')", "role"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    role: Mapped[str] = mapped_column(String(32))
    #: 姓名 of a recorded person; 联系人 of an organizing unit.
    name: Mapped[str] = mapped_column(String(50))
    #: 所在部门 (competent department) of the person, or of the organizing unit.
    department: Mapped[str] = mapped_column(String(100), index=True)
    #: 单位名称 of an organizing unit.
    unit_name: Mapped[str | None] = mapped_column(String(100))
    #: 登录用户名 of an organizing unit (letters and digits).
    username: Mapped[str | None] = mapped_column(String(32), unique=True)
    office_phone: Mapped[str | None] = mapped_column(String(32))
    mobile: Mapped[str | None] = mapped_column(String(32))
    fax: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(254))
    #: 有效性: an account marked 无效 cannot enter.
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    id_number_key_id: Mapped[str] = mapped_column(String(16))
    id_number_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    id_number_index: Mapped[str] = mapped_column(String(64), unique=True)
    sub: Mapped[str | None] = mapped_column(String(255), unique=True)
    bound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("rp_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class RpSession(Base):
    """A server-side browser session, keyed by the SHA-256 of the random cookie value.

    ``sub`` and ``sid`` are copied out of the data so that back-channel logout can end the
    sessions a logout token names (OIDC Back-Channel Logout 1.0, section 2.7).

    The IdP's refresh token lives in columns of its own, sealed with AES-GCM, written only at
    sign-in and by the one request holding the refresh lease (``refresh_blocked_until``). A request
    that saves the session data at the same moment therefore cannot put back an older, already
    rotated refresh token, whose reuse the IdP would take for theft and answer by revoking the grant.
    """

    __tablename__ = "rp_session"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[str] = mapped_column(Text, default="{}")
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("rp_account.id", ondelete="CASCADE"), index=True
    )
    sub: Mapped[str | None] = mapped_column(String(255), index=True)
    sid: Mapped[str | None] = mapped_column(String(255), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    #: Data key id of ``refresh_token_sealed``.
    refresh_key_id: Mapped[str | None] = mapped_column(String(16))
    #: The IdP's current refresh token of this session, AES-GCM sealed and bound to ``sub``.
    refresh_token_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: When the current access token was obtained (at sign-in or at the last refresh).
    tokens_obtained_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the current access token expires, from the token response's ``expires_in``.
    access_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: No refresh starts before this time: one is in progress, or the IdP failed a moment ago.
    refresh_blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginState(Base):
    """Data of a started sign-in (PKCE verifier, nonce, redirect URI), consumed exactly once."""

    __tablename__ = "rp_login_state"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class SeenLogoutToken(Base):
    """``jti`` values of accepted logout tokens, so that a replayed one is refused."""

    __tablename__ = "rp_seen_logout_token"

    jti_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
