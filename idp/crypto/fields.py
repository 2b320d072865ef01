"""Authenticated encryption of personal-data fields (ID numbers, document photos).

Envelope (ASCII, fits a text column)::

    <key id>:<base64url without padding of nonce || ciphertext || tag>

The associated data binds a ciphertext to its key id and to the field it belongs to (e.g.
``user.id_number``), so a value copied into another column or another row's field of a different
kind does not decrypt. Binding to a row as well is the caller's choice: pass ``field`` as
``"user.id_number:" + user_id``.
"""

from __future__ import annotations

import base64
import binascii
import os

from idp.crypto.algorithms import suite
from idp.crypto.errors import DecryptionFailed
from idp.crypto.keyring import DataKey, Keyring

_AD_PREFIX = b"idp-field-v1\0"


def _associated_data(key_id: str, field: str) -> bytes:
    return _AD_PREFIX + key_id.encode("ascii") + b"\0" + field.encode("utf-8")


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    if not text.isascii():
        raise DecryptionFailed("envelope is not ASCII")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise DecryptionFailed("envelope is not base64url") from None


class FieldCipher:
    """Encrypts with the keyring's current key; decrypts with whichever key the envelope names."""

    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring

    def seal(self, data: bytes, field: str) -> str:
        """Encrypt bytes for ``field`` under the current key."""
        return self._seal_with(self.keyring.current, data, field)

    def open(self, envelope: str, field: str) -> bytes:
        """Decrypt an envelope made for ``field``; :class:`DecryptionFailed` on any mismatch."""
        key, blob = self._parse(envelope)
        algorithms = suite(key.suite_name)
        if len(blob) < algorithms.nonce_size + 16:
            raise DecryptionFailed("envelope too short")
        nonce, ciphertext = blob[: algorithms.nonce_size], blob[algorithms.nonce_size :]
        return algorithms.decrypt(key.secret, nonce, ciphertext, _associated_data(key.key_id, field))

    def encrypt(self, plaintext: str, field: str) -> str:
        return self.seal(plaintext.encode("utf-8"), field)

    def decrypt(self, envelope: str, field: str) -> str:
        data = self.open(envelope, field)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise DecryptionFailed("plaintext is not UTF-8 text") from None

    def key_id_of(self, envelope: str) -> str:
        """The key id an envelope names (no decryption)."""
        key_id, sep, _ = envelope.partition(":")
        if not sep:
            raise DecryptionFailed("envelope has no key id")
        return key_id

    def needs_reencryption(self, envelope: str) -> bool:
        return self.key_id_of(envelope) != self.keyring.current.key_id

    def reencrypt(self, envelope: str, field: str) -> str:
        """The same plaintext under the current key (rotation); verifies the old envelope first."""
        return self.seal(self.open(envelope, field), field)

    def _seal_with(self, key: DataKey, data: bytes, field: str) -> str:
        algorithms = suite(key.suite_name)
        # Random 96-bit nonces: far below the 2^32 messages per key where collisions become a concern.
        nonce = os.urandom(algorithms.nonce_size)
        ciphertext = algorithms.encrypt(key.secret, nonce, data, _associated_data(key.key_id, field))
        return f"{key.key_id}:{_b64encode(nonce + ciphertext)}"

    def _parse(self, envelope: str) -> tuple[DataKey, bytes]:
        if not isinstance(envelope, str):
            raise DecryptionFailed("envelope is not text")
        key_id = self.key_id_of(envelope)
        key = self.keyring.get(key_id)
        return key, _b64decode(envelope[len(key_id) + 1 :])
