"""The ephemeral store contract shared by every adapter."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from idp.db import Database

#: Longest key every adapter accepts: the width of the embedded table's key column.
MAX_KEY_LENGTH = 255
#: Longest TTL or counter window, seconds; nothing short-lived needs to outlive a year.
MAX_TTL = 366 * 24 * 3600


def is_storable_key(key: object) -> bool:
    """Whether every adapter can store ``key``: 1-255 characters, UTF-8, no control characters.

    Control characters are refused because PostgreSQL text cannot hold NUL and keys end up in
    diagnostics; lone surrogates because they are not valid UTF-8 on the wire.
    """
    if not isinstance(key, str) or not 0 < len(key) <= MAX_KEY_LENGTH:
        return False
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in key):
        return False
    return _is_utf8(key)


def require_key(key: str) -> str:
    """``key`` when storable; ValueError otherwise (a caller built a key it must not write)."""
    if not is_storable_key(key):
        raise ValueError("store key must be 1-255 characters of UTF-8 text without control characters")
    return key


def require_value(value: str) -> str:
    """``value`` when every adapter can hold it: UTF-8 text without NUL."""
    if not isinstance(value, str) or "\0" in value or not _is_utf8(value):
        raise ValueError("store value must be UTF-8 text without NUL characters")
    return value


def require_ttl(ttl: int) -> int:
    """``ttl`` when a whole number of seconds from 1 to :data:`MAX_TTL`."""
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not 1 <= ttl <= MAX_TTL:
        raise ValueError(f"store ttl must be whole seconds from 1 to {MAX_TTL}")
    return ttl


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def flow_key(kind: str, tag: str) -> str:
    """``kind:{tag}``: the braces are the Redis Cluster hash tag, so one flow's keys share a slot."""
    return kind + ":{" + tag + "}"


@runtime_checkable
class EphemeralStore(Protocol):
    """Put-with-TTL, get, atomic consume and windowed counters.

    Keys that belong to one flow share a hash tag (``code:{abc}``) so Redis Cluster keeps them on
    one slot. Values are text. TTLs are whole seconds, at least 1.

    Writes (``put``, ``add``, ``incr``) raise ValueError for a key, value or TTL outside the
    ``require_*`` rules below; reads and ``delete`` treat such a key as absent, because no such key
    can have been stored and a lookup built from hostile input must not turn into a 500.
    Every adapter raises :class:`idp.errors.StoreUnavailable` when it cannot reach its backend.
    """

    def put(self, key: str, value: str, ttl: int) -> None:
        """Store ``value`` under ``key`` for ``ttl`` seconds, replacing any previous value."""

    def add(self, key: str, value: str, ttl: int) -> bool:
        """Store only if ``key`` is absent (or expired); True when this call stored it."""

    def get(self, key: str) -> str | None:
        """The live value, or None when absent or expired."""

    def consume(self, key: str) -> str | None:
        """Atomically return and delete the value: of many concurrent callers exactly one gets it."""

    def delete(self, key: str) -> None:
        """Remove ``key`` if present."""

    def incr(self, key: str, window: int) -> int:
        """Add one to a counter that lives ``window`` seconds from its first increment; the new count."""

    def ping(self) -> None:
        """Raise StoreUnavailable when the store cannot be reached."""


def open_store(redis_url: str, database: Database, prefix: str = "idp:") -> EphemeralStore:
    """The adapter the configuration names."""
    if redis_url:
        from idp.store.redis import RedisStore

        return RedisStore.from_url(redis_url, prefix=prefix)
    from idp.store.embedded import EmbeddedStore

    return EmbeddedStore(database)
