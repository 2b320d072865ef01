"""Password hashing (argon2id), the password policy and verification of imported legacy hashes.

Parameters follow the second recommended option of RFC 9106 section 4 (the "low memory" one):

* ``time_cost=3`` passes over memory,
* ``memory_cost=65536`` KiB (64 MiB) of memory per hash,
* ``parallelism=4`` lanes,
* a 16-byte random salt and a 32-byte tag.

On two cores one hash takes roughly 0.1 s. At most :data:`HASH_SLOTS` hashes run at the same time in one
process, so that a burst of sign-ins cannot make the process allocate 64 MiB per waiting request.

Passwords are normalised with NFKC before hashing (NIST SP 800-63B section 5.1.1.2), so the same
password typed on different keyboards or input methods matches; nothing is ever truncated. Which
passwords may be chosen is :mod:`idp.accounts.password_policy`'s business.
"""

from __future__ import annotations

import os
import secrets
import threading
import unicodedata
from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from idp.accounts import N_
from idp.accounts.legacy_hashes import LegacyHashError, verify_legacy_password
from idp.errors import InvalidInput

TIME_COST = 3
MEMORY_COST_KIB = 64 * 1024
PARALLELISM = 4
SALT_LEN = 16
HASH_LEN = 32

#: Longest password accepted; long enough for any passphrase, short enough to bound the work per request.
MAX_LENGTH = 1024
#: Concurrent hash computations per process.
HASH_SLOTS = max(2, os.cpu_count() or 2)

_slots = threading.BoundedSemaphore(HASH_SLOTS)


@dataclass(frozen=True)
class Argon2Params:
    time_cost: int = TIME_COST
    memory_cost: int = MEMORY_COST_KIB
    parallelism: int = PARALLELISM

    def hasher(self) -> PasswordHasher:
        return PasswordHasher(
            time_cost=self.time_cost,
            memory_cost=self.memory_cost,
            parallelism=self.parallelism,
            hash_len=HASH_LEN,
            salt_len=SALT_LEN,
            type=Type.ID,
        )


DEFAULT_PARAMS = Argon2Params()


@dataclass(frozen=True)
class Verification:
    """Outcome of checking a password: ``ok`` and whether the stored hash should be replaced."""

    ok: bool
    needs_rehash: bool = False


def normalise(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


@cache
def _hasher(params: Argon2Params) -> PasswordHasher:
    return params.hasher()


def hash_password(password: str, params: Argon2Params = DEFAULT_PARAMS) -> str:
    """The argon2id PHC string of ``password`` (NFKC-normalised, never truncated)."""
    if len(password) > MAX_LENGTH:
        raise InvalidInput(N_("密码过长。"), f"password longer than {MAX_LENGTH} characters")
    with _slots:
        return _hasher(params).hash(normalise(password))


def verify_password(stored_hash: str, password: str, params: Argon2Params = DEFAULT_PARAMS) -> Verification:
    """Check ``password`` against an argon2id hash; ``needs_rehash`` when its parameters are outdated.

    A malformed stored hash counts as a mismatch (and is never shown), so a damaged row cannot be
    used to tell accounts apart.
    """
    if len(password) > MAX_LENGTH:
        # Still spend the time of one verification, so an overlong guess is not a faster probe.
        verify_dummy(params)
        return Verification(ok=False)
    hasher = _hasher(params)
    try:
        with _slots:
            hasher.verify(stored_hash, normalise(password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return Verification(ok=False)
    return Verification(ok=True, needs_rehash=hasher.check_needs_rehash(stored_hash))


@cache
def _dummy_hash(params: Argon2Params) -> str:
    # A hash of a random secret nobody knows: computing it at first use keeps import fast, and it
    # carries the current parameters, so verifying it costs what verifying a real hash costs.
    return _hasher(params).hash(secrets.token_urlsafe(32))


def verify_dummy(params: Argon2Params = DEFAULT_PARAMS) -> None:
    """Spend the time of one verification; used when there is no user, no hash, or a lock.

    This keeps unknown user, wrong password and locked account indistinguishable by timing
    (OWASP ASVS V6, SECURITY.md "Sign-in").
    """
    try:
        with _slots:
            _hasher(params).verify(_dummy_hash(params), "x")
    except VerificationError:
        pass


# --- legacy hashes -------------------------------------------------------------------------------------


def verify_legacy(scheme: str, stored_hash: str, password: str) -> Verification:
    """Check a hash imported from the old system (see :mod:`idp.accounts.legacy_hashes`).

    A success always asks for a rehash to argon2id. A stored value that cannot be used counts as a
    mismatch (logged by the caller as a failure), after the same hashing work as any other failure.
    """
    if len(password) > MAX_LENGTH:
        verify_dummy()
        return Verification(ok=False)
    try:
        with _slots:
            ok = verify_legacy_password(scheme, stored_hash, password)
    except LegacyHashError:
        verify_dummy()
        return Verification(ok=False)
    return Verification(ok=ok, needs_rehash=ok)
