"""The one place where the data-protection algorithms are chosen.

A :class:`CipherSuite` bundles what a data key is used for: authenticated encryption of fields,
the keyed hash of blind indexes and the derivation of sub-keys. Every data key names its suite, so a
later suite (SM4-GCM with SM3, DESIGN.md "Decisions taken") is added by registering it here and giving
new keys its name; ciphertexts made under older keys keep decrypting with the suite of their key.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from idp.crypto.errors import DecryptionFailed


class CipherSuite(Protocol):
    """Algorithms bound to a data key."""

    @property
    def name(self) -> str: ...

    @property
    def key_size(self) -> int: ...

    @property
    def nonce_size(self) -> int: ...

    def encrypt(self, key: bytes, nonce: bytes, plaintext: bytes, associated_data: bytes) -> bytes:
        """Ciphertext with its authentication tag."""
        ...

    def decrypt(self, key: bytes, nonce: bytes, ciphertext: bytes, associated_data: bytes) -> bytes:
        """Plaintext, or :class:`DecryptionFailed` when the tag does not verify."""
        ...

    def derive_key(self, key: bytes, info: bytes) -> bytes:
        """An independent sub-key for the purpose named by ``info``."""
        ...

    def mac(self, key: bytes, data: bytes) -> bytes:
        """A keyed hash of ``data``."""
        ...


class AesGcmSha256:
    """AES-256-GCM (96-bit random nonces, 128-bit tags) with HKDF-SHA-256 and HMAC-SHA-256."""

    name = "aes256gcm-sha256"
    key_size = 32
    nonce_size = 12

    def encrypt(self, key: bytes, nonce: bytes, plaintext: bytes, associated_data: bytes) -> bytes:
        return AESGCM(key).encrypt(nonce, plaintext, associated_data)

    def decrypt(self, key: bytes, nonce: bytes, ciphertext: bytes, associated_data: bytes) -> bytes:
        try:
            return AESGCM(key).decrypt(nonce, ciphertext, associated_data)
        except InvalidTag:
            raise DecryptionFailed("authentication tag does not verify") from None

    def derive_key(self, key: bytes, info: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(key)

    def mac(self, key: bytes, data: bytes) -> bytes:
        return hmac.new(key, data, hashlib.sha256).digest()


DEFAULT_SUITE = AesGcmSha256.name

_SUITES: dict[str, CipherSuite] = {AesGcmSha256.name: AesGcmSha256()}


def register_suite(suite: CipherSuite) -> None:
    """Make ``suite`` available to keys that name it."""
    _SUITES[suite.name] = suite


def suite(name: str) -> CipherSuite:
    try:
        return _SUITES[name]
    except KeyError:
        raise LookupError(f"unknown cipher suite {name!r}") from None
