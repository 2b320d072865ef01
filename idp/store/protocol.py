"""The ephemeral store contract shared by every adapter."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from idp.db import Database


@runtime_checkable
class EphemeralStore(Protocol):
    """Put-with-TTL, get, atomic consume and windowed counters.

    Keys that belong to one flow share a hash tag (``code:{abc}``) so Redis Cluster keeps them on
    one slot. Values are text. TTLs are whole seconds, at least 1.
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


def open_store(redis_url: str, database: Database) -> EphemeralStore:
    """The adapter the configuration names."""
    if redis_url:
        from idp.store.redis import RedisStore

        return RedisStore.from_url(redis_url)
    from idp.store.embedded import EmbeddedStore

    return EmbeddedStore(database)
