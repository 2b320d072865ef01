"""Verification of the password hashes imported from the old training system.

DESIGN.md: legacy users log in with their old password; the importer stores the old hash with its
scheme, and the first successful login replaces it with an argon2id hash. Nothing here creates
legacy hashes for real use: these schemes are too weak for new passwords.

Schemes and stored forms:

=================  ===================================================================
``md5``            32 hex digits of MD5(password), unsalted
``sha1``           40 hex digits of SHA-1(password), unsalted
``sha256_salted``  ``salt$hex``, hex = SHA-256(salt + password)
``bcrypt``         ``$2a$`` / ``$2b$`` / ``$2y$`` modular crypt form
``pbkdf2_sha256``  ``pbkdf2_sha256$iterations$salt$base64(hash)``, the common Django form
=================  ===================================================================

Passwords and salts are UTF-8. Digests are compared in constant time. A stored value that does not
fit its scheme raises :class:`MalformedLegacyHash`; an unknown scheme :class:`UnknownLegacyScheme`,
so an import with broken rows fails loudly instead of locking people out silently.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Callable

import bcrypt

from idp.errors import InvalidInput

#: Upper bound on PBKDF2 iterations, so one malformed import row cannot stall a login for minutes.
MAX_PBKDF2_ITERATIONS = 5_000_000
# bcrypt only ever hashed the first 72 bytes of a password; the old system did the same.
BCRYPT_MAX_BYTES = 72

_HEX32 = re.compile(r"[0-9a-fA-F]{32}")
_HEX40 = re.compile(r"[0-9a-fA-F]{40}")
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_BCRYPT = re.compile(r"\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}")


class LegacyHashError(InvalidInput):
    """A legacy hash cannot be used."""


class UnknownLegacyScheme(LegacyHashError):
    def __init__(self, scheme: str) -> None:
        super().__init__(
            f"未知的旧密码散列方案。 Unknown legacy password hash scheme {scheme[:40]!r}.",
            f"unknown legacy hash scheme {scheme[:40]!r}",
        )


class MalformedLegacyHash(LegacyHashError):
    def __init__(self, scheme: str, why: str) -> None:
        # The stored hash itself is never put into the message.
        super().__init__(
            f"旧密码散列格式错误({scheme})。 Malformed legacy password hash ({scheme}): {why}.",
            f"malformed {scheme} hash: {why}",
        )


# A parsed stored hash: tells whether a password (UTF-8 bytes) matches it.
Checker = Callable[[bytes], bool]


def _compare_hex(expected_hex: str, digest: bytes) -> bool:
    return hmac.compare_digest(expected_hex.lower().encode("ascii"), digest.hex().encode("ascii"))


def _md5(stored: str) -> Checker:
    if not _HEX32.fullmatch(stored):
        raise MalformedLegacyHash("md5", "expected 32 hex digits")
    return lambda secret: _compare_hex(stored, hashlib.md5(secret, usedforsecurity=False).digest())


def _sha1(stored: str) -> Checker:
    if not _HEX40.fullmatch(stored):
        raise MalformedLegacyHash("sha1", "expected 40 hex digits")
    return lambda secret: _compare_hex(stored, hashlib.sha1(secret, usedforsecurity=False).digest())


def _sha256_salted(stored: str) -> Checker:
    salt, sep, digest = stored.rpartition("$")
    if not sep or not salt or not _HEX64.fullmatch(digest):
        raise MalformedLegacyHash("sha256_salted", "expected salt$64 hex digits")
    salt_bytes = salt.encode("utf-8")
    return lambda secret: _compare_hex(digest, hashlib.sha256(salt_bytes + secret).digest())


def _bcrypt(stored: str) -> Checker:
    if not _BCRYPT.fullmatch(stored):
        raise MalformedLegacyHash("bcrypt", "expected $2a$/$2b$/$2y$, a cost and 53 characters")
    # $2y$ (PHP) is the same algorithm as $2b$.
    hashed = ("$2b$" + stored[4:] if stored.startswith("$2y$") else stored).encode("ascii")

    def check(secret: bytes) -> bool:
        try:
            # The old system hashed only the first 72 bytes (bcrypt's limit), so the same prefix is
            # checked; the full password goes into the argon2id hash that replaces this one.
            return bcrypt.checkpw(secret[:BCRYPT_MAX_BYTES], hashed)
        except ValueError as exc:
            raise MalformedLegacyHash("bcrypt", "the library refused the hash") from exc

    return check


def _pbkdf2_sha256(stored: str) -> Checker:
    parts = stored.split("$")
    if len(parts) != 4 or parts[0] != "pbkdf2_sha256":
        raise MalformedLegacyHash("pbkdf2_sha256", "expected pbkdf2_sha256$iterations$salt$hash")
    _, iterations_text, salt, encoded = parts
    if not iterations_text.isascii() or not iterations_text.isdigit() or len(iterations_text) > 9:
        raise MalformedLegacyHash("pbkdf2_sha256", "iterations is not a number")
    iterations = int(iterations_text)
    if not 1 <= iterations <= MAX_PBKDF2_ITERATIONS:
        raise MalformedLegacyHash("pbkdf2_sha256", f"iterations outside 1..{MAX_PBKDF2_ITERATIONS}")
    if not salt:
        raise MalformedLegacyHash("pbkdf2_sha256", "empty salt")
    try:
        expected = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedLegacyHash("pbkdf2_sha256", "hash is not base64") from None
    if not 16 <= len(expected) <= 64:
        raise MalformedLegacyHash("pbkdf2_sha256", "hash length outside 16..64 bytes")
    salt_bytes = salt.encode("utf-8")

    def check(secret: bytes) -> bool:
        actual = hashlib.pbkdf2_hmac("sha256", secret, salt_bytes, iterations, dklen=len(expected))
        return hmac.compare_digest(expected, actual)

    return check


_PARSERS: dict[str, Callable[[str], Checker]] = {
    "md5": _md5,
    "sha1": _sha1,
    "sha256_salted": _sha256_salted,
    "bcrypt": _bcrypt,
    "pbkdf2_sha256": _pbkdf2_sha256,
}
SCHEMES = tuple(_PARSERS)


def _parse(scheme: str, stored: object) -> Checker:
    parser = _PARSERS.get(scheme) if isinstance(scheme, str) else None
    if parser is None:
        raise UnknownLegacyScheme(str(scheme))
    if not isinstance(stored, str):
        raise MalformedLegacyHash(scheme, "not text")
    if len(stored) > 512:
        raise MalformedLegacyHash(scheme, "longer than 512 characters")
    return parser(stored.strip())


def verify_legacy_password(scheme: str, stored: str, password: str) -> bool:
    """True when ``password`` matches the ``stored`` hash of ``scheme``.

    Raises :class:`UnknownLegacyScheme` or :class:`MalformedLegacyHash` for unusable stored values;
    a wrong password is just ``False``.
    """
    return _parse(scheme, stored)(password.encode("utf-8"))


def check_legacy_hash(scheme: str, stored: str) -> str:
    """Validate the form of a hash at import time (nothing is hashed) and return it as it will be stored."""
    _parse(scheme, stored)
    return stored.strip()
