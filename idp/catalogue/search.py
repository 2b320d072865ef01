"""站内搜索: matters and notices that contain every word of the query.

The query is bounded (:data:`MAX_QUERY` characters, :data:`MAX_TERMS` words) and cleaned of control
and invisible characters before it reaches the database, so a NUL byte or a megabyte of text is a
form message, not a driver error. Wildcards are literal (see :meth:`NoticeService.search`).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from idp.accounts import N_
from idp.catalogue.models import Notice
from idp.catalogue.notices import NoticeService
from idp.catalogue.services import CatalogueService, Matter
from idp.errors import InvalidInput

#: The messages below name these numbers; change them together.
MAX_QUERY = 50
MAX_TERMS = 5
MAX_RESULTS = 50


class SearchQueryInvalid(InvalidInput):
    pass


def search_terms(raw: str | None) -> tuple[str, ...]:
    """The words of a query, casefolded; empty for an empty query; :class:`SearchQueryInvalid` if too long."""
    if not raw:
        return ()
    if len(raw) > MAX_QUERY:
        raise SearchQueryInvalid(N_("搜索内容不能超过50个字符。"), f"query of {len(raw)} characters")
    # Control, format and surrogate characters become spaces: none of them is worth searching for,
    # and PostgreSQL refuses NUL in text.
    cleaned = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Cs") else ch for ch in raw)
    terms = tuple(dict.fromkeys(word.casefold() for word in cleaned.split()))
    if len(terms) > MAX_TERMS:
        raise SearchQueryInvalid(N_("搜索词最多5个,请精简后再试。"), f"{len(terms)} terms")
    return terms


def _matter_text(matter: Matter) -> str:
    data = matter.data
    parts = [data.matter, data.department, data.code, *(e.name for e in data.entries), *data.tabs.values()]
    return "\n".join(parts).casefold()


@dataclass(frozen=True)
class SearchResult:
    terms: tuple[str, ...]
    matters: list[Matter] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.matters and not self.notices


class SiteSearch:
    def __init__(self, catalogue: CatalogueService, notices: NoticeService) -> None:
        self.catalogue = catalogue
        self.notices = notices

    def search(self, raw: str | None) -> SearchResult:
        terms = search_terms(raw)
        if not terms:
            return SearchResult(terms)
        # Matters are few (one per client) and live in JSON documents: matched here, not with SQL.
        matters = [m for m in self.catalogue.matters() if all(t in _matter_text(m) for t in terms)]
        return SearchResult(terms, matters[:MAX_RESULTS], self.notices.search(terms, MAX_RESULTS))
