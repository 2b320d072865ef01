"""Data keys: the current one encrypts, the current and old ones decrypt (rotation without downtime).

Configured through ``Settings.data_key`` / ``data_key_id`` (current) and ``Settings.old_data_keys``
(``id:key,id:key``; keys are 32 bytes in URL-safe base64). To rotate: make the old key an old key,
set a new current key with a new id, restart, then re-encrypt stored values
(:meth:`idp.crypto.fields.FieldCipher.reencrypt`) and drop the old key once none is left under it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from idp.config import Settings, decode_key
from idp.crypto.algorithms import DEFAULT_SUITE, suite
from idp.crypto.errors import UnknownDataKey
from idp.errors import ConfigError

# Key ids are stored in front of every ciphertext, separated by ":".
KEY_ID_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,32}")


@dataclass(frozen=True)
class DataKey:
    key_id: str
    secret: bytes = field(repr=False)
    suite_name: str = DEFAULT_SUITE

    def __post_init__(self) -> None:
        if not KEY_ID_PATTERN.fullmatch(self.key_id):
            raise ConfigError(f"data key id {self.key_id!r} must be 1-32 letters, digits, '_', '.' or '-'")
        try:
            expected = suite(self.suite_name).key_size
        except LookupError as exc:
            raise ConfigError(str(exc)) from None
        if len(self.secret) != expected:
            raise ConfigError(f"data key {self.key_id!r} must be {expected} bytes")


class Keyring:
    """The current data key and the old ones, by id."""

    def __init__(self, current: DataKey, old: tuple[DataKey, ...] = ()) -> None:
        keys: dict[str, DataKey] = {current.key_id: current}
        for key in old:
            if key.key_id in keys:
                raise ConfigError(f"data key id {key.key_id!r} is configured twice")
            keys[key.key_id] = key
        self.current = current
        self._keys: Mapping[str, DataKey] = keys

    @classmethod
    def from_settings(cls, settings: Settings) -> Keyring:
        current = DataKey(settings.data_key_id, settings.data_key_bytes())
        return cls(current, parse_old_keys(settings.old_data_keys))

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._keys)

    def get(self, key_id: str) -> DataKey:
        try:
            return self._keys[key_id]
        except KeyError:
            raise UnknownDataKey(f"no data key with id {key_id[:40]!r}") from None

    def all(self) -> tuple[DataKey, ...]:
        """Current key first, then the old ones in configured order."""
        return tuple(self._keys.values())


def parse_old_keys(value: str) -> tuple[DataKey, ...]:
    """Parse ``IDP_OLD_DATA_KEYS`` (``id:key,id:key``)."""
    keys = []
    for item in value.split(","):
        item = item.strip()
        if not item:
            continue
        key_id, sep, encoded = item.partition(":")
        if not sep:
            raise ConfigError("IDP_OLD_DATA_KEYS entries must look like id:key")
        keys.append(
            DataKey(key_id.strip(), decode_key(encoded.strip(), f"IDP_OLD_DATA_KEYS[{key_id.strip()}]"))
        )
    return tuple(keys)
