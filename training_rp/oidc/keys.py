"""The IdP's signing keys as published at its ``jwks_uri``, cached per process.

A token whose ``kid`` is not in the cache makes the cache fetch the JWKS again, but at most once
per ``min_refresh`` seconds: key rotation at the IdP works without a restart, while a stream of
tokens with made-up ``kid`` values cannot turn this app into a load generator against the IdP.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, RSAKey

from training_rp.errors import LoginRejected

log = logging.getLogger(__name__)

#: The only signature algorithms accepted, each with the key type and curve it needs.
ALGORITHMS: Mapping[str, tuple[str, str | None]] = {"RS256": ("RSA", None), "ES256": ("EC", "P-256")}
_PUBLIC_MEMBERS = {
    "RSA": ("kty", "n", "e", "kid", "use", "alg", "key_ops"),
    "EC": ("kty", "crv", "x", "y", "kid", "use", "alg", "key_ops"),
}
_MAX_KEYS = 50


@dataclass(frozen=True)
class PublishedKey:
    kid: str | None
    alg: str
    key: RSAKey | ECKey


def parse_jwks(document: Any) -> list[PublishedKey]:
    """Usable signature keys of a JWKS document; unusable entries are skipped with a log line."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("JWKS is not an object with a keys array")
    found = []
    for entry in document["keys"][:_MAX_KEYS]:
        parsed = _parse_key(entry)
        if parsed is not None:
            found.append(parsed)
    return found


def _parse_key(entry: Any) -> PublishedKey | None:
    if not isinstance(entry, dict):
        return None
    if entry.get("use", "sig") != "sig":
        return None
    if "key_ops" in entry and (not isinstance(entry["key_ops"], list) or "verify" not in entry["key_ops"]):
        return None
    kty, crv, kid = entry.get("kty"), entry.get("crv"), entry.get("kid")
    if kid is not None and not isinstance(kid, str):
        return None
    alg = next((name for name, (t, c) in ALGORITHMS.items() if t == kty and (c is None or c == crv)), None)
    if alg is None or entry.get("alg", alg) != alg:
        return None
    # Only public members are imported: a JWKS leaking private parts must not give us a signing key.
    public = {name: entry[name] for name in _PUBLIC_MEMBERS[str(kty)] if name in entry}
    try:
        key: RSAKey | ECKey = RSAKey.import_key(public) if kty == "RSA" else ECKey.import_key(public)
    except (JoseError, ValueError, TypeError) as exc:
        log.warning("jwks: skipped a malformed %s key (%s)", kty, exc.__class__.__name__)
        return None
    return PublishedKey(kid=kid, alg=alg, key=key)


class JwksCache:
    """Find the key for a token's ``kid`` and ``alg``; refetch on an unknown ``kid`` at a bounded rate."""

    def __init__(
        self,
        fetch: Callable[[], Any],
        min_refresh: float,
        max_age: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self.min_refresh = min_refresh
        self.max_age = max_age
        self.clock = clock
        self._keys: list[PublishedKey] | None = None
        self._fetched_at = 0.0
        self._lock = threading.Lock()
        #: Number of fetches so far (operators' metric, tests).
        self.fetches = 0

    def find(self, kid: str | None, alg: str) -> RSAKey | ECKey:
        with self._lock:
            if self._keys is None or self.clock() - self._fetched_at >= self.max_age:
                self._refresh()
            key = self._match(kid, alg)
            if key is None and self.clock() - self._fetched_at >= self.min_refresh:
                self._refresh()
                key = self._match(kid, alg)
        if key is None:
            raise LoginRejected("kid", f"no published {alg} key matches kid {_printable(kid)}")
        return key

    def _refresh(self) -> None:
        self._fetched_at = self.clock()
        self.fetches += 1
        # The fetch raises ProviderUnavailable; the previous keys are kept for the next attempt.
        document = self._fetch()
        try:
            self._keys = parse_jwks(document)
        except ValueError as exc:
            raise LoginRejected("jwks", str(exc)) from exc
        log.info("jwks: fetched %d usable keys", len(self._keys))

    def _match(self, kid: str | None, alg: str) -> RSAKey | ECKey | None:
        candidates = [k for k in self._keys or [] if k.alg == alg]
        if kid is None:
            # Without a kid the choice is only unambiguous when one key could have signed.
            return candidates[0].key if len(candidates) == 1 else None
        return next((k.key for k in candidates if k.kid == kid), None)


def _printable(value: str | None) -> str:
    if value is None:
        return "(none)"
    return repr(value[:64])
