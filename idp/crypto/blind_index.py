"""Blind indexes: deterministic keyed hashes that let the database find and de-duplicate encrypted
values (an ID number's uniqueness, login by ID number) without holding the plaintext.

The index key is derived from the data key with HKDF under its own label, so it differs from the
encryption key and from any other sub-key. The field name is hashed in front of the value, so equal
values in different fields have unrelated indexes.

Rotation: indexes are computed with the current key. While old keys are configured,
:meth:`BlindIndex.candidates` gives the index under every key, so a lookup finds rows not yet
re-indexed; the rotation job rewrites each row's ciphertext and index together.
"""

from __future__ import annotations

import unicodedata

from idp.crypto.algorithms import suite
from idp.crypto.keyring import DataKey, Keyring

INDEX_KEY_INFO = b"idp/blind-index/v1"


def normalise_for_index(value: str) -> str:
    """NFKC, whitespace removed, upper case: ``" 11010119900307451x "`` and its full-width form
    index the same as ``"11010119900307451X"``."""
    return "".join(unicodedata.normalize("NFKC", value).split()).upper()


class BlindIndex:
    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring
        self._keys = {key.key_id: self._derive(key) for key in keyring.all()}

    @staticmethod
    def _derive(key: DataKey) -> bytes:
        return suite(key.suite_name).derive_key(key.secret, INDEX_KEY_INFO)

    def _compute(self, key: DataKey, value: str, field: str) -> str:
        data = field.encode("utf-8") + b"\0" + normalise_for_index(value).encode("utf-8")
        return suite(key.suite_name).mac(self._keys[key.key_id], data).hex()

    def compute(self, value: str, field: str) -> str:
        """The index of ``value`` in ``field`` under the current key (64 hex characters)."""
        return self._compute(self.keyring.current, value, field)

    def candidates(self, value: str, field: str) -> tuple[str, ...]:
        """The index under every configured key, current first, for lookups during a rotation."""
        return tuple(self._compute(key, value, field) for key in self.keyring.all())
