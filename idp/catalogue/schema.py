"""The catalogue data a client carries (``idp client add --catalogue JSON``), and its validation.

One JSON object per client; ``matter``, ``department``, ``code`` and ``entries`` are required::

    {
      "matter": "因公出国(境)培训",                  事项名称
      "department": "引进国外智力管理司",             主办单位
      "code": "11100000000013127Y4000117056001",    事项编码
      "entries": [                                  办理入口: 1 to 12, names unique
        {"name": "项目管理", "url": "https://train.example.cn/projects"}
      ],
      "hot": true,                                  listed under 热点服务 (default false)
      "order": 10,                                  0-9999, smaller first (default 1000)
      "tabs": {                                     plain text, each optional
        "conditions": "...",                        申请条件
        "process": "...",                           办理流程
        "description": "...",                       事项说明
        "documents": "..."                          相关文件
      }
    }

The same checks run when a client is registered and whenever a stored document is read back, so a
row edited by hand can never put a ``javascript:`` link or a control character on a page. Errors
name the offending field (``entries[2].url``) so an operator can fix the command line.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from idp.errors import InvalidInput

#: Largest accepted document; also bounds the nesting a hostile document can reach.
MAX_DOCUMENT = 64 * 1024
MAX_MATTER = 100
MAX_DEPARTMENT = 60
MAX_CODE = 64
MAX_ENTRY_NAME = 30
MAX_URL = 2000
MAX_ENTRIES = 12
MAX_TAB_TEXT = 5000
MAX_ORDER = 9999
DEFAULT_ORDER = 1000
CODE_RE = re.compile(r"[0-9A-Za-z][0-9A-Za-z-]*")

#: Tab keys in the order the detail page shows them.
TAB_KEYS = ("conditions", "process", "description", "documents")
TOP_KEYS = frozenset({"matter", "department", "code", "entries", "hot", "order", "tabs"})
ENTRY_KEYS = frozenset({"name", "url"})

#: Characters that reorder or hide text (Unicode bidi embeddings, overrides and isolates): in a
#: matter name they could make one department's matter read like another's (CVE-2021-42574 class).
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class CatalogueInvalid(InvalidInput):
    """The catalogue document breaks a rule; ``public`` names the field."""


@dataclass(frozen=True)
class Entry:
    """One 办理入口: a named link into the matter's own system."""

    name: str
    url: str


@dataclass(frozen=True)
class MatterData:
    """A validated catalogue document."""

    matter: str
    department: str
    code: str
    entries: tuple[Entry, ...]
    hot: bool = False
    order: int = DEFAULT_ORDER
    #: Tab key -> text; only tabs that have text.
    tabs: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        """The normalised document that is stored: known keys only, stripped texts, fixed key order."""
        document: dict[str, Any] = {
            "matter": self.matter,
            "department": self.department,
            "code": self.code,
            "entries": [{"name": e.name, "url": e.url} for e in self.entries],
            "hot": self.hot,
            "order": self.order,
        }
        if self.tabs:
            document["tabs"] = {key: self.tabs[key] for key in TAB_KEYS if key in self.tabs}
        return json.dumps(document, ensure_ascii=False)


def validate_catalogue(text: str) -> str:
    """Check a catalogue document and return its normalised JSON; raises :class:`CatalogueInvalid`."""
    return parse_catalogue(text).to_json()


def parse_catalogue(text: str) -> MatterData:
    """The checks, in order: size, JSON syntax, the object's keys, then each field."""
    document = _load(text)
    unknown = sorted(set(document) - TOP_KEYS)
    if unknown:
        raise CatalogueInvalid(
            f"catalogue: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(TOP_KEYS))})"
        )
    return MatterData(
        matter=_text(document.get("matter"), "matter", MAX_MATTER),
        department=_text(document.get("department"), "department", MAX_DEPARTMENT),
        code=_code(document.get("code")),
        entries=_entries(document.get("entries")),
        hot=_flag(document.get("hot", False), "hot"),
        order=_order(document.get("order", DEFAULT_ORDER)),
        tabs=_tabs(document.get("tabs", {})),
    )


# --- steps --------------------------------------------------------------------------------------


def _load(text: str) -> dict[str, Any]:
    if not isinstance(text, str) or not text.strip():
        raise CatalogueInvalid("catalogue: a JSON object is required")
    if len(text) > MAX_DOCUMENT:
        raise CatalogueInvalid(f"catalogue: the document is longer than {MAX_DOCUMENT} characters")
    try:
        document = json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constant)
    except RecursionError as exc:
        raise CatalogueInvalid("catalogue: the document is nested too deeply") from exc
    except ValueError as exc:
        # JSONDecodeError, duplicate keys, NaN/Infinity, integers past the conversion limit.
        raise CatalogueInvalid(f"catalogue: not valid JSON ({_first_line(exc)})") from exc
    if not isinstance(document, dict):
        raise CatalogueInvalid("catalogue: the document must be a JSON object")
    return document


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # RFC 8259 §4 leaves duplicate names undefined; two "url" values must not mean "the last one".
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0][:120] if str(exc) else exc.__class__.__name__


def _check_characters(value: str, where: str, allow_newlines: bool) -> None:
    for ch in value:
        if "\ud800" <= ch <= "\udfff":
            # A lone surrogate (from a "\ud800" escape) cannot be encoded as UTF-8 on any page.
            raise CatalogueInvalid(f"catalogue: {where} contains an unpaired surrogate")
        if ch in BIDI_CONTROLS:
            raise CatalogueInvalid(f"catalogue: {where} contains a text-direction control character")
        if allow_newlines and ch in "\r\n\t":
            continue
        if unicodedata.category(ch) == "Cc":
            raise CatalogueInvalid(f"catalogue: {where} contains a control character")


def _text(value: object, where: str, limit: int, *, required: bool = True, multiline: bool = False) -> str:
    if value is None:
        if required:
            raise CatalogueInvalid(f"catalogue: {where} is required")
        return ""
    if not isinstance(value, str):
        raise CatalogueInvalid(f"catalogue: {where} must be a string")
    _check_characters(value, where, allow_newlines=multiline)
    stripped = value.replace("\r\n", "\n").replace("\r", "\n").strip() if multiline else value.strip()
    if required and not stripped:
        raise CatalogueInvalid(f"catalogue: {where} is required")
    if len(stripped) > limit:
        raise CatalogueInvalid(f"catalogue: {where} is longer than {limit} characters")
    return stripped


def _code(value: object) -> str:
    code = _text(value, "code", MAX_CODE)
    if not CODE_RE.fullmatch(code):
        raise CatalogueInvalid("catalogue: code may hold only letters, digits and '-'")
    return code


def _entries(value: object) -> tuple[Entry, ...]:
    if not isinstance(value, list) or not value:
        raise CatalogueInvalid("catalogue: entries must be a list of at least one {name, url} object")
    if len(value) > MAX_ENTRIES:
        raise CatalogueInvalid(f"catalogue: at most {MAX_ENTRIES} entries")
    entries: list[Entry] = []
    for index, item in enumerate(value, start=1):
        where = f"entries[{index}]"
        if not isinstance(item, dict):
            raise CatalogueInvalid(f"catalogue: {where} must be an object with name and url")
        unknown = sorted(set(item) - ENTRY_KEYS)
        if unknown:
            raise CatalogueInvalid(f"catalogue: {where} has unknown key {unknown[0]!r}")
        entry = Entry(
            name=_text(item.get("name"), f"{where}.name", MAX_ENTRY_NAME),
            url=entry_url(item.get("url"), f"{where}.url"),
        )
        if any(existing.name == entry.name for existing in entries):
            raise CatalogueInvalid(f"catalogue: {where}.name {entry.name!r} is used twice")
        entries.append(entry)
    return tuple(entries)


def entry_url(value: object, where: str = "url") -> str:
    """An absolute ``http``/``https`` URL with a host: nothing a browser would run as script."""
    url = _text(value, where, MAX_URL)
    if any(ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf") for ch in url):
        raise CatalogueInvalid(f"catalogue: {where} contains spaces or invisible characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - evaluated for its ValueError on a malformed port
    except ValueError as exc:
        raise CatalogueInvalid(f"catalogue: {where} is not a valid URL") from exc
    # The scheme is compared as written: "JavaScript:" or "HTTP:" are refused, not normalised.
    if not url.startswith(("http://", "https://")):
        raise CatalogueInvalid(f"catalogue: {where} must start with http:// or https://")
    if not parts.hostname:
        raise CatalogueInvalid(f"catalogue: {where} has no host")
    if "@" in parts.netloc:
        raise CatalogueInvalid(f"catalogue: {where} must not contain user information")
    return url


def _flag(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise CatalogueInvalid(f"catalogue: {where} must be true or false")
    return value


def _order(value: object) -> int:
    # bool is an int in Python; "order": true is a mistake, not position 1.
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ORDER:
        raise CatalogueInvalid(f"catalogue: order must be a whole number from 0 to {MAX_ORDER}")
    return value


def _tabs(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        raise CatalogueInvalid(f"catalogue: tabs must be an object with keys {', '.join(TAB_KEYS)}")
    unknown = sorted(set(value) - set(TAB_KEYS))
    if unknown:
        raise CatalogueInvalid(
            f"catalogue: tabs has unknown key {unknown[0]!r} (allowed: {', '.join(TAB_KEYS)})"
        )
    texts: dict[str, str] = {}
    for key in TAB_KEYS:
        text = _text(value.get(key), f"tabs.{key}", MAX_TAB_TEXT, required=False, multiline=True)
        if text:
            texts[key] = text
    return texts
