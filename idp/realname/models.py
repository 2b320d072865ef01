"""Durable real-name records: the person's profile, verification attempts, document photos.

Identity numbers and photos are stored encrypted (idp.crypto.FieldCipher); the ID number also has a
blind index for look-ups and the one-person-one-verified-account rule.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from idp.db import Base, UTCDateTime, utcnow


class PersonProfile(Base):
    """我的信息: the natural person's profile beyond the account columns (name, email, mobile)."""

    __tablename__ = "person_profiles"

    user_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    gender: Mapped[str | None] = mapped_column(String(10), default=None)
    ethnicity: Mapped[str | None] = mapped_column(String(2), default=None)
    position: Mapped[str | None] = mapped_column(String(100), default=None)
    birth_date: Mapped[date | None] = mapped_column(Date, default=None)
    landline: Mapped[str | None] = mapped_column(String(32), default=None)
    region_type: Mapped[str | None] = mapped_column(String(20), default=None)
    document_type: Mapped[str | None] = mapped_column(String(40), default=None)
    id_number_enc: Mapped[str | None] = mapped_column(Text, default=None)
    id_number_index: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    id_valid_from: Mapped[date | None] = mapped_column(Date, default=None)
    id_valid_to: Mapped[date | None] = mapped_column(Date, default=None)
    continent: Mapped[str | None] = mapped_column(String(4), default=None)
    country: Mapped[str | None] = mapped_column(String(2), default=None)
    address: Mapped[str | None] = mapped_column(String(300), default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class VerifiedIdentity(Base):
    """One verified account per identity document: the primary key refuses a second one."""

    __tablename__ = "verified_identities"

    id_number_index: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: ``electronic_record`` (national source) or ``document`` (manual review).
    evidence: Mapped[str] = mapped_column(String(20))


class Verification(Base):
    """One attempt: an automatic check against the source, or a manual-review request."""

    __tablename__ = "realname_verifications"
    __table_args__ = (Index("ix_realname_verifications_state_created", "state", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: ``automatic`` | ``review``
    kind: Mapped[str] = mapped_column(String(10))
    #: automatic: ``match`` | ``mismatch`` | ``not_found`` | ``duplicate``;
    #: review: ``draft`` | ``pending`` | ``approved`` | ``rejected`` | ``discarded``
    state: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    reviewer_id: Mapped[str | None] = mapped_column(String(32), default=None)
    reason: Mapped[str | None] = mapped_column(String(500), default=None)
    source_reference: Mapped[str | None] = mapped_column(String(100), default=None)
    #: Masked ID number and the typed data at submission (evidence; never the full number).
    snapshot_json: Mapped[str] = mapped_column(Text, default="{}")


class DocumentImage(Base):
    """A signed ID-card photo of a review request, re-encoded and encrypted."""

    __tablename__ = "realname_documents"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    verification_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("realname_verifications.id", ondelete="CASCADE"), index=True
    )
    #: ``front`` (注册人身份证正面) or ``back`` (注册人身份证反面).
    side: Mapped[str] = mapped_column(String(5))
    content_enc: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(String(20))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
