"""ID numbers at rest: encrypted, indexed blind, shown masked."""

from __future__ import annotations

from idp.config import Settings
from idp.crypto import BlindIndex, FieldCipher, Keyring
from idp.realname.masking import mask_id_number

ID_FIELD = "person.id_number"
PHOTO_FIELD = "realname.document"


class IdentityCodec:
    def __init__(self, settings: Settings) -> None:
        keyring = Keyring.from_settings(settings)
        self.cipher = FieldCipher(keyring)
        self.index = BlindIndex(keyring)

    def seal_number(self, number: str) -> tuple[str, str]:
        """(ciphertext, blind index) of a normalised document number."""
        return self.cipher.encrypt(number, ID_FIELD), self.index.compute(number, ID_FIELD)

    def open_number(self, envelope: str | None) -> str | None:
        return None if envelope is None else self.cipher.decrypt(envelope, ID_FIELD)

    def index_candidates(self, number: str) -> tuple[str, ...]:
        return self.index.candidates(number, ID_FIELD)

    def masked(self, envelope: str | None) -> str | None:
        number = self.open_number(envelope)
        return None if number is None else mask_id_number(number)

    def seal_photo(self, data: bytes) -> str:
        return self.cipher.seal(data, PHOTO_FIELD)

    def open_photo(self, envelope: str) -> bytes:
        return self.cipher.open(envelope, PHOTO_FIELD)
