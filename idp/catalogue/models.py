"""Durable catalogue records: notices (通知通告 and 结果公示) and the matters people follow (我的关注)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from idp.db import Base, UTCDateTime, utcnow


class NoticeKind(StrEnum):
    #: 通知通告: announcements on the home page.
    NOTICE = "notice"
    #: 结果公示: published results (approvals, reviews) under the 结果公示 tab.
    RESULT = "result"


class Notice(Base):
    """An operator's announcement; plain text, shown escaped."""

    __tablename__ = "catalogue_notices"
    __table_args__ = (
        CheckConstraint("kind IN ('notice', 'result')", name="kind"),
        # Every list is "newest first within a kind".
        Index("ix_catalogue_notices_kind_published_on", "kind", "published_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(10), default=NoticeKind.NOTICE.value)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    #: The date shown beside the title (Beijing date of publication).
    published_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Follow(Base):
    """A person follows a matter (a client with catalogue data)."""

    __tablename__ = "catalogue_follows"

    user_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    client_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("oauth_clients.client_id", ondelete="CASCADE"), primary_key=True, index=True
    )
    followed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
