"""通知通告 and 结果公示: operators add and remove notices; pages list them newest first.

Titles and bodies are plain text (pages escape them and keep line breaks). Adding and removing are
admin actions and go into the audit log in the same transaction (SECURITY.md, personal data and logs).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import Select, func, or_, select

from idp.accounts import N_
from idp.audit.services import record
from idp.catalogue.models import Notice, NoticeKind
from idp.db import Database
from idp.errors import InvalidInput, NotFound

#: China has one time zone and no daylight saving: "today" of a notice is the Beijing date.
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
MAX_TITLE = 200
MAX_BODY = 20000
#: Row ids are 32-bit on every back-end; larger numbers in a URL are no notice, not a database error.
MAX_NOTICE_ID = 2**31 - 1
EARLIEST = date(1990, 1, 1)
LATEST = date(2100, 12, 31)
PER_PAGE = 20
NOTICE_NOT_FOUND = N_("该通知不存在或已撤下。")
MAX_PAGE = 1000


def beijing_today() -> date:
    return datetime.now(BEIJING).date()


def parse_notice_date(text: str) -> date:
    """``YYYY-MM-DD`` between 1990 and 2100; :class:`InvalidInput` otherwise."""
    try:
        parsed = date.fromisoformat(text.strip())
    except ValueError as exc:
        raise InvalidInput(f"date {text[:40]!r}: use the form YYYY-MM-DD, e.g. 2026-11-28") from exc
    if not EARLIEST <= parsed <= LATEST:
        raise InvalidInput(f"date {parsed.isoformat()}: must lie between {EARLIEST} and {LATEST}")
    return parsed


def _clean(text: str, what: str, limit: int, *, multiline: bool) -> str:
    allowed = "\r\n\t" if multiline else ""
    for ch in text:
        if "\ud800" <= ch <= "\udfff" or (unicodedata.category(ch) == "Cc" and ch not in allowed):
            raise InvalidInput(f"{what} contains a control character")
    cleaned = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(cleaned) > limit:
        raise InvalidInput(f"{what} is longer than {limit} characters")
    return cleaned


@dataclass(frozen=True)
class NoticePage:
    notices: list[Notice]
    page: int
    pages: int


class NoticeService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(
        self,
        title: str,
        body: str = "",
        published_on: date | None = None,
        kind: NoticeKind = NoticeKind.NOTICE,
        actor: str = "cli",
    ) -> Notice:
        clean_title = _clean(title, "title", MAX_TITLE, multiline=False)
        if not clean_title:
            raise InvalidInput("title is required")
        notice = Notice(
            kind=NoticeKind(kind).value,
            title=clean_title,
            body=_clean(body, "body", MAX_BODY, multiline=True),
            published_on=published_on or beijing_today(),
        )
        with self.db.transaction() as session:
            session.add(notice)
            session.flush()
            record(
                session,
                event="notice_added",
                actor=actor,
                ip=None,
                request_id=None,
                target=f"notice:{notice.id}",
                kind=notice.kind,
                title=notice.title,
            )
        return notice

    def remove(self, notice_id: int, actor: str = "cli") -> Notice:
        with self.db.transaction() as session:
            notice = session.get(Notice, notice_id) if 0 < notice_id <= MAX_NOTICE_ID else None
            if notice is None:
                raise NotFound(f"no notice {notice_id}")
            session.delete(notice)
            record(
                session,
                event="notice_removed",
                actor=actor,
                ip=None,
                request_id=None,
                target=f"notice:{notice_id}",
                kind=notice.kind,
                title=notice.title,
            )
        return notice

    def get(self, notice_id: int) -> Notice:
        if not 0 < notice_id <= MAX_NOTICE_ID:
            raise NotFound(NOTICE_NOT_FOUND)
        with self.db.transaction() as session:
            notice = session.get(Notice, notice_id)
        if notice is None:
            raise NotFound(NOTICE_NOT_FOUND)
        return notice

    def latest(self, kind: NoticeKind = NoticeKind.NOTICE, limit: int = 6) -> list[Notice]:
        with self.db.transaction() as session:
            return list(session.scalars(self._newest_first(kind).limit(limit)))

    def page(self, kind: NoticeKind, page: int = 1, per_page: int = PER_PAGE) -> NoticePage:
        """One page of a kind's notices; a page past the end is the last page."""
        with self.db.transaction() as session:
            total = (
                session.scalar(select(func.count()).select_from(Notice).where(Notice.kind == kind.value)) or 0
            )
            pages = max(1, -(-total // per_page))
            current = min(max(1, page), pages, MAX_PAGE)
            rows = list(
                session.scalars(self._newest_first(kind).offset((current - 1) * per_page).limit(per_page))
            )
        return NoticePage(rows, current, pages)

    def all(self, kind: NoticeKind | None = None) -> list[Notice]:
        query = select(Notice).order_by(Notice.published_on.desc(), Notice.id.desc())
        if kind is not None:
            query = query.where(Notice.kind == kind.value)
        with self.db.transaction() as session:
            return list(session.scalars(query))

    def search(self, terms: tuple[str, ...], limit: int) -> list[Notice]:
        """Notices whose title or body holds every term (case-insensitive, wildcards taken literally)."""
        if not terms:
            return []
        query = select(Notice)
        for term in terms:
            # autoescape: a "%" or "_" typed into the search box matches itself (LIKE ... ESCAPE '/').
            query = query.where(
                or_(
                    Notice.title.icontains(term, autoescape=True),
                    Notice.body.icontains(term, autoescape=True),
                )
            )
        query = query.order_by(Notice.published_on.desc(), Notice.id.desc()).limit(limit)
        with self.db.transaction() as session:
            return list(session.scalars(query))

    @staticmethod
    def _newest_first(kind: NoticeKind) -> Select[Notice]:
        return (
            select(Notice)
            .where(Notice.kind == kind.value)
            .order_by(Notice.published_on.desc(), Notice.id.desc())
        )
