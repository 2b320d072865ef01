"""Encryption at rest (AES-GCM) of ID numbers, with their blind index (HMAC-SHA256), and of the
IdP's refresh tokens.

Every key is derived from ``RP_DATA_KEY`` with HKDF for one purpose, so that the cipher keys and
the index key are never the same bytes. Every ciphertext carries its key id; old keys in
``RP_OLD_DATA_KEYS`` still decrypt and still find records, so a key can rotate without downtime
(``training-rp data rekey`` re-encrypts and re-indexes ID numbers afterwards; refresh tokens are
sealed under the new key at their next refresh).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from training_rp.errors import N_, ConfigError, RpError

UNREADABLE = N_("数据无法解密,请联系系统管理员。")

_AAD = b"training_rp:id_number:v1"
_NONCE_BYTES = 12


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"training_rp:" + purpose).derive(
        master
    )


class UndecryptableData(RpError):
    """A stored ciphertext cannot be read with any configured key (wrong key set or tampering)."""

    status_code = 500
    exit_code = 70


@dataclass(frozen=True)
class Sealed:
    key_id: str
    blob: bytes
    index: str


class IdNumberCipher:
    """Seal, open and index ID numbers with the current key; open and find with old keys too."""

    def __init__(self, keys: Mapping[str, bytes], current_key_id: str) -> None:
        if current_key_id not in keys:
            raise ConfigError(f"no data key with id {current_key_id!r}")
        self._current = current_key_id
        self._aead = {kid: AESGCM(_derive(key, b"aes-gcm")) for kid, key in keys.items()}
        self._index_keys = {kid: _derive(key, b"blind-index") for kid, key in keys.items()}

    @property
    def current_key_id(self) -> str:
        return self._current

    def seal(self, number: str) -> Sealed:
        nonce = os.urandom(_NONCE_BYTES)
        blob = nonce + self._aead[self._current].encrypt(nonce, number.encode("ascii"), _AAD)
        return Sealed(self._current, blob, self._index_with(self._current, number))

    def open(self, key_id: str, blob: bytes) -> str:
        aead = self._aead.get(key_id)
        if aead is None:
            raise UndecryptableData(UNREADABLE, f"no data key {key_id!r}")
        try:
            plain = aead.decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], _AAD)
        except (InvalidTag, ValueError) as exc:
            raise UndecryptableData(UNREADABLE, "ciphertext rejected") from exc
        return plain.decode("ascii")

    def index(self, number: str) -> str:
        """Blind index under the current key."""
        return self._index_with(self._current, number)

    def candidate_indexes(self, number: str) -> list[str]:
        """Blind indexes under every known key: a lookup matches rows not yet re-indexed."""
        return [self._index_with(kid, number) for kid in self._index_keys]

    def _index_with(self, key_id: str, number: str) -> str:
        return hmac.new(self._index_keys[key_id], number.encode("ascii"), hashlib.sha256).hexdigest()


class RefreshTokenCipher:
    """Seal the IdP's refresh token of a session (AES-GCM), bound to the subject it was issued for.

    Its key is derived from the same data keys for a purpose of its own, so a sealed refresh token
    can never be opened as an ID number or the other way round; the subject in the associated
    data means a sealed value copied onto another person's session does not open.
    """

    def __init__(self, keys: Mapping[str, bytes], current_key_id: str) -> None:
        if current_key_id not in keys:
            raise ConfigError(f"no data key with id {current_key_id!r}")
        self._current = current_key_id
        self._aead = {kid: AESGCM(_derive(key, b"refresh-token")) for kid, key in keys.items()}

    def seal(self, token: str, sub: str) -> tuple[str, bytes]:
        nonce = os.urandom(_NONCE_BYTES)
        blob = nonce + self._aead[self._current].encrypt(nonce, token.encode("utf-8"), _refresh_aad(sub))
        return self._current, blob

    def open(self, key_id: str, blob: bytes, sub: str) -> str:
        aead = self._aead.get(key_id)
        if aead is None:
            raise UndecryptableData(UNREADABLE, f"no data key {key_id!r} for a refresh token")
        try:
            plain = aead.decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], _refresh_aad(sub))
        except (InvalidTag, ValueError) as exc:
            raise UndecryptableData(UNREADABLE, "refresh token ciphertext rejected") from exc
        return plain.decode("utf-8")


def _refresh_aad(sub: str) -> bytes:
    return b"training_rp:refresh_token:v1|" + sub.encode("utf-8")
