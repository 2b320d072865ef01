"""A short-lived store that is always down, for fault tests only.

Prefer a real fault (Redis on an unused port, a stopped server); use this where the test is about
how a caller reacts, not about how an adapter detects the outage.
"""

from __future__ import annotations

from typing import NoReturn

from idp.errors import StoreUnavailable


class UnavailableStore:
    """:class:`idp.store.protocol.EphemeralStore` whose every call raises StoreUnavailable."""

    def __init__(self, detail: str = "fake store: always unavailable") -> None:
        self.detail = detail
        #: Names of the methods called, in order, so a test can see what a caller attempted.
        self.calls: list[str] = []

    def put(self, key: str, value: str, ttl: int) -> NoReturn:
        self._fail("put")

    def add(self, key: str, value: str, ttl: int) -> NoReturn:
        self._fail("add")

    def get(self, key: str) -> NoReturn:
        self._fail("get")

    def consume(self, key: str) -> NoReturn:
        self._fail("consume")

    def delete(self, key: str) -> NoReturn:
        self._fail("delete")

    def incr(self, key: str, window: int) -> NoReturn:
        self._fail("incr")

    def ping(self) -> NoReturn:
        self._fail("ping")

    def _fail(self, method: str) -> NoReturn:
        self.calls.append(method)
        raise StoreUnavailable(self.detail)
