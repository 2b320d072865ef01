"""Counting failed sign-ins per account and per client IP, and locking an account for a growing time.

All state lives in the ephemeral store, so every app node sees the same counts, and every count is
one atomic ``incr`` (SECURITY.md: "100 parallel wrong passwords count 100"). Store errors propagate
as :class:`idp.errors.StoreUnavailable`: without counters no password is checked (fail closed).

How an attempt is admitted (:meth:`LoginThrottle.begin`):

1. the account's failure counter is incremented *before* the password is checked, so parallel
   guesses cannot all slip in under the limit;
2. while a lock key exists, the attempt is refused without checking the password;
3. from the ``lock_after``-th consecutive attempt on, an attempt is admitted only if it can create
   the lock key itself (an atomic ``add``): one guess per cool-down, however many arrive at once.
   The lock lasts ``lock_seconds`` and doubles with each further lock, up to :data:`MAX_LOCK_SECONDS`.
   If that guess is right, :meth:`LoginThrottle.succeeded` removes the lock again.

Keys are derived from a hash of the casefolded login name, so unknown names are counted and locked
exactly like real ones (nothing to enumerate) and no login name is written into the store.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass

from idp.accounts.models import username_key
from idp.config import Settings
from idp.store import EphemeralStore

#: Longest lock, however many further failures there are: a day.
MAX_LOCK_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Attempt:
    """Whether a password may be checked now, and what this attempt did to the counters."""

    allowed: bool
    #: Consecutive failed (or refused) attempts on the account, this one included.
    failures: int
    #: Seconds of the lock this attempt set; it stays in force if the password turns out wrong.
    lock_seconds: int = 0


def account_tag(username: str) -> str:
    return hashlib.sha256(username_key(username).encode("utf-8")).hexdigest()[:32]


def ip_tag(ip: str) -> str:
    """IPv4 addresses as they are; IPv6 by their /64, which one subscriber usually holds whole."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return "x" + hashlib.sha256(ip.encode("utf-8", "replace")).hexdigest()[:32]
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


class LoginThrottle:
    def __init__(self, store: EphemeralStore, settings: Settings) -> None:
        self.store = store
        self.settings = settings

    # Keys of one account share the hash tag {a:...}, so Redis Cluster keeps them on one slot.
    def _fails_key(self, username: str) -> str:
        return f"login:{{a:{account_tag(username)}}}:fails"

    def _lock_key(self, username: str) -> str:
        return f"login:{{a:{account_tag(username)}}}:lock"

    def _locks_key(self, username: str) -> str:
        return f"login:{{a:{account_tag(username)}}}:locks"

    def _ip_key(self, ip: str) -> str:
        return f"login:{{ip:{ip_tag(ip)}}}:fails"

    def failures(self, username: str) -> int:
        """Consecutive failed attempts on this login name within the window."""
        return int(self.store.get(self._fails_key(username)) or 0)

    def ip_failures(self, ip: str) -> int:
        return int(self.store.get(self._ip_key(ip)) or 0)

    def ip_blocked(self, ip: str) -> bool:
        return self.ip_failures(ip) >= self.settings.ip_limit

    def locked(self, username: str) -> bool:
        return self.store.get(self._lock_key(username)) is not None

    def lock_duration(self, generation: int) -> int:
        """Seconds of the ``generation``-th lock in a row: lock_seconds, doubled each time, capped."""
        exponent = min(max(generation - 1, 0), 32)
        return max(1, min(self.settings.lock_seconds << exponent, MAX_LOCK_SECONDS))

    def begin(self, username: str) -> Attempt:
        """Count an attempt on ``username`` and say whether its password may be checked."""
        settings = self.settings
        failures = self.store.incr(self._fails_key(username), settings.lock_window)
        if self.locked(username):
            return Attempt(allowed=False, failures=failures)
        if failures < settings.lock_after:
            return Attempt(allowed=True, failures=failures)
        generation = int(self.store.get(self._locks_key(username)) or 0) + 1
        seconds = self.lock_duration(generation)
        if not self.store.add(self._lock_key(username), str(generation), seconds):
            return Attempt(allowed=False, failures=failures)
        self.store.incr(self._locks_key(username), MAX_LOCK_SECONDS)
        return Attempt(allowed=True, failures=failures, lock_seconds=seconds)

    def failed(self, ip: str) -> int:
        """Count a failure against the client IP; the new count."""
        return self.store.incr(self._ip_key(ip), self.settings.lock_window)

    def succeeded(self, username: str) -> None:
        """A right password: the account starts again with a clean slate (the IP count stays)."""
        self.store.delete(self._lock_key(username))
        self.store.delete(self._fails_key(username))
        self.store.delete(self._locks_key(username))
