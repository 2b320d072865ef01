"""Protection of personal data at rest: field encryption with rotating keys and blind indexes.

Typical use::

    keyring = Keyring.from_settings(settings)
    cipher, index = FieldCipher(keyring), BlindIndex(keyring)
    row.id_number_enc = cipher.encrypt(number, "user.id_number")
    row.id_number_idx = index.compute(number, "user.id_number")
    number = cipher.decrypt(row.id_number_enc, "user.id_number")

Algorithms are chosen in :mod:`idp.crypto.algorithms` only.
"""

from __future__ import annotations

from idp.crypto.blind_index import BlindIndex, normalise_for_index
from idp.crypto.errors import DecryptionFailed, UnknownDataKey
from idp.crypto.fields import FieldCipher
from idp.crypto.keyring import DataKey, Keyring, parse_old_keys

__all__ = [
    "BlindIndex",
    "DataKey",
    "DecryptionFailed",
    "FieldCipher",
    "Keyring",
    "UnknownDataKey",
    "normalise_for_index",
    "parse_old_keys",
]
