"""Field encryption, blind indexes and data-key rotation."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import replace

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from idp.config import Settings
from idp.crypto import (
    BlindIndex,
    DataKey,
    DecryptionFailed,
    FieldCipher,
    Keyring,
    UnknownDataKey,
    normalise_for_index,
    parse_old_keys,
)
from idp.crypto.algorithms import AesGcmSha256, register_suite, suite
from idp.errors import ConfigError

FIELD = "user.id_number"
NUMBER = "11010519491231002X"


def encoded(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode()


K1, K2 = os.urandom(32), os.urandom(32)


def keyring(current: tuple[str, bytes] = ("k1", K1), *old: tuple[str, bytes]) -> Keyring:
    return Keyring(DataKey(*current), tuple(DataKey(i, k) for i, k in old))


def blob_of(envelope: str) -> bytes:
    text = envelope.split(":", 1)[1]
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def with_blob(envelope: str, blob: bytes) -> str:
    return envelope.split(":", 1)[0] + ":" + base64.urlsafe_b64encode(blob).rstrip(b"=").decode()


def test_round_trip_and_envelope_format() -> None:
    cipher = FieldCipher(keyring())
    envelope = cipher.encrypt(NUMBER, FIELD)
    assert envelope.startswith("k1:")
    assert NUMBER not in envelope
    assert "=" not in envelope and envelope.isascii()
    # 12-byte nonce, 18 bytes of text, 16-byte tag.
    assert len(blob_of(envelope)) == 12 + len(NUMBER) + 16
    assert cipher.decrypt(envelope, FIELD) == NUMBER


def test_round_trip_of_bytes_and_unicode() -> None:
    cipher = FieldCipher(keyring())
    photo = os.urandom(5000)
    assert cipher.open(cipher.seal(photo, "evidence.photo"), "evidence.photo") == photo
    assert (
        cipher.decrypt(cipher.encrypt("北京市海淀区 🏠", "user.address"), "user.address") == "北京市海淀区 🏠"
    )
    assert cipher.decrypt(cipher.encrypt("", FIELD), FIELD) == ""


def test_the_same_value_encrypts_differently_each_time() -> None:
    cipher = FieldCipher(keyring())
    assert cipher.encrypt(NUMBER, FIELD) != cipher.encrypt(NUMBER, FIELD)


def test_ciphertext_is_bound_to_its_field() -> None:
    cipher = FieldCipher(keyring())
    envelope = cipher.encrypt(NUMBER, FIELD)
    with pytest.raises(DecryptionFailed):
        cipher.decrypt(envelope, "user.mobile")
    with pytest.raises(DecryptionFailed):
        cipher.decrypt(envelope, FIELD + ":42")


def test_every_flipped_bit_is_detected() -> None:
    cipher = FieldCipher(keyring())
    envelope = cipher.encrypt(NUMBER, FIELD)
    blob = blob_of(envelope)
    for index in range(len(blob)):
        tampered = bytearray(blob)
        tampered[index] ^= 0x01
        with pytest.raises(DecryptionFailed):
            cipher.decrypt(with_blob(envelope, bytes(tampered)), FIELD)


def test_truncated_extended_and_malformed_envelopes_are_refused() -> None:
    cipher = FieldCipher(keyring())
    envelope = cipher.encrypt(NUMBER, FIELD)
    blob = blob_of(envelope)
    for bad in (
        with_blob(envelope, blob[:-1]),
        with_blob(envelope, blob + b"\0"),
        with_blob(envelope, blob[:20]),
        "k1:",
        "k1",
        "",
        "k1:!!!!",
        "k1:" + "Ａ" * 20,
        envelope + "\n",
    ):
        with pytest.raises(DecryptionFailed):
            cipher.decrypt(bad, FIELD)


def test_tamper_error_is_generic_and_carries_no_data() -> None:
    cipher = FieldCipher(keyring())
    envelope = cipher.encrypt(NUMBER, FIELD)
    with pytest.raises(DecryptionFailed) as info:
        cipher.decrypt(envelope, "other")
    assert NUMBER not in info.value.public and NUMBER not in info.value.detail
    assert "integrity" in info.value.public and "完整性" in info.value.public


def test_unknown_key_id_is_refused() -> None:
    envelope = FieldCipher(keyring(("k9", K2))).encrypt(NUMBER, FIELD)
    with pytest.raises(UnknownDataKey):
        FieldCipher(keyring()).decrypt(envelope, FIELD)


def test_swapping_the_key_id_does_not_decrypt() -> None:
    ring = keyring(("k2", K2), ("k1", K1))
    cipher = FieldCipher(ring)
    envelope = cipher.encrypt(NUMBER, FIELD)
    with pytest.raises(DecryptionFailed):
        cipher.decrypt("k1:" + envelope.split(":", 1)[1], FIELD)


def test_rotation_old_ciphertexts_stay_readable_and_are_reencrypted() -> None:
    old_envelope = FieldCipher(keyring()).encrypt(NUMBER, FIELD)
    rotated = FieldCipher(keyring(("k2", K2), ("k1", K1)))
    assert rotated.decrypt(old_envelope, FIELD) == NUMBER
    assert rotated.needs_reencryption(old_envelope)
    new_envelope = rotated.reencrypt(old_envelope, FIELD)
    assert new_envelope.startswith("k2:") and not rotated.needs_reencryption(new_envelope)
    # Once every value is re-encrypted the old key can go.
    only_new = FieldCipher(keyring(("k2", K2)))
    assert only_new.decrypt(new_envelope, FIELD) == NUMBER
    with pytest.raises(UnknownDataKey):
        only_new.decrypt(old_envelope, FIELD)


def test_reencrypt_verifies_before_rewriting() -> None:
    rotated = FieldCipher(keyring(("k2", K2), ("k1", K1)))
    envelope = FieldCipher(keyring()).encrypt(NUMBER, FIELD)
    blob = bytearray(blob_of(envelope))
    blob[-1] ^= 0xFF
    with pytest.raises(DecryptionFailed):
        rotated.reencrypt(with_blob(envelope, bytes(blob)), FIELD)


def test_keyring_from_settings() -> None:
    settings = Settings(
        data_key=encoded(K2), data_key_id="k2", old_data_keys=f"k1:{encoded(K1)}, k0:{encoded(K2)}"
    )
    ring = Keyring.from_settings(settings)
    assert ring.current.key_id == "k2" and ring.key_ids == ("k2", "k1", "k0")
    assert FieldCipher(ring).decrypt(FieldCipher(keyring()).encrypt(NUMBER, FIELD), FIELD) == NUMBER
    assert Keyring.from_settings(Settings()).current.secret == b"\0" * 32


def test_key_secrets_are_not_in_repr() -> None:
    assert K1.hex() not in repr(DataKey("k1", K1)) and repr(K1) not in repr(DataKey("k1", K1))


@pytest.mark.parametrize(
    "value",
    ["k1", "k1:notbase64!", "k1:" + encoded(b"short"), "bad id:" + encoded(K1), ":" + encoded(K1)],
)
def test_malformed_old_keys_are_a_config_error(value: str) -> None:
    with pytest.raises(ConfigError):
        parse_old_keys(value)


def test_duplicate_or_invalid_key_ids_are_a_config_error() -> None:
    with pytest.raises(ConfigError):
        keyring(("k1", K1), ("k1", K2))
    with pytest.raises(ConfigError):
        DataKey("k1:x", K1)
    with pytest.raises(ConfigError):
        DataKey("k1", K1[:16])
    with pytest.raises(ConfigError):
        DataKey("k1", K1, "rot13")
    settings = replace(Settings(), old_data_keys=f"k1:{encoded(K2)}")
    with pytest.raises(ConfigError):
        Keyring.from_settings(settings)


# --- blind index ---------------------------------------------------------------------------------


def test_blind_index_is_deterministic_and_normalised() -> None:
    index = BlindIndex(keyring())
    value = index.compute(NUMBER, FIELD)
    assert len(value) == 64 and int(value, 16) >= 0
    assert index.compute(NUMBER, FIELD) == value
    assert index.compute(" 11010519491231002x ", FIELD) == value
    assert index.compute("１１０１０５１９４９１２３１００２Ｘ", FIELD) == value
    assert normalise_for_index(" 1101 05x ") == "110105X"


def test_blind_index_differs_by_field_value_and_key() -> None:
    index = BlindIndex(keyring())
    value = index.compute(NUMBER, FIELD)
    assert index.compute(NUMBER, "user.passport") != value
    assert index.compute("110105194912310029", FIELD) != value
    assert BlindIndex(keyring(("k1", K2))).compute(NUMBER, FIELD) != value


def test_blind_index_key_is_not_the_encryption_key() -> None:
    index = BlindIndex(keyring())
    data = FIELD.encode() + b"\0" + NUMBER.encode()
    assert index.compute(NUMBER, FIELD) != hmac.new(K1, data, hashlib.sha256).hexdigest()
    assert index.compute(NUMBER, FIELD) != hashlib.sha256(data).hexdigest()


def test_blind_index_candidates_cover_old_keys_during_rotation() -> None:
    before = BlindIndex(keyring()).compute(NUMBER, FIELD)
    during = BlindIndex(keyring(("k2", K2), ("k1", K1)))
    candidates = during.candidates(NUMBER, FIELD)
    assert candidates[0] == during.compute(NUMBER, FIELD) != before
    assert before in candidates and len(candidates) == 2


# --- algorithm registry --------------------------------------------------------------------------


class ChaChaSha256(AesGcmSha256):
    """A second real suite, showing that a key's suite decides its algorithms."""

    name = "chacha20poly1305-sha256"

    def encrypt(self, key: bytes, nonce: bytes, plaintext: bytes, associated_data: bytes) -> bytes:
        return ChaCha20Poly1305(key).encrypt(nonce, plaintext, associated_data)

    def decrypt(self, key: bytes, nonce: bytes, ciphertext: bytes, associated_data: bytes) -> bytes:
        try:
            return ChaCha20Poly1305(key).decrypt(nonce, ciphertext, associated_data)
        except InvalidTag:
            raise DecryptionFailed("authentication tag does not verify") from None


def test_each_key_uses_its_own_suite() -> None:
    register_suite(ChaChaSha256())
    assert suite("chacha20poly1305-sha256").name == "chacha20poly1305-sha256"
    aes_envelope = FieldCipher(keyring()).encrypt(NUMBER, FIELD)
    ring = Keyring(DataKey("c1", K2, "chacha20poly1305-sha256"), (DataKey("k1", K1),))
    cipher = FieldCipher(ring)
    chacha_envelope = cipher.encrypt(NUMBER, FIELD)
    assert cipher.decrypt(chacha_envelope, FIELD) == NUMBER
    assert cipher.decrypt(aes_envelope, FIELD) == NUMBER
    # The ChaCha ciphertext is not AES-GCM under the same key.
    with pytest.raises(DecryptionFailed):
        FieldCipher(keyring(("c1", K2))).decrypt(chacha_envelope, FIELD)


def test_unknown_suite_lookup_fails() -> None:
    with pytest.raises(LookupError):
        suite("sm4gcm-sm3-not-yet")
