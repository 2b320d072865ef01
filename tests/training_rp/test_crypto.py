"""ID numbers at rest: AES-GCM with key ids, a blind index, and key rotation."""

from __future__ import annotations

import os

import pytest

from tests.training_rp.helpers import synthetic_id
from training_rp.crypto import IdNumberCipher, UndecryptableData
from training_rp.errors import ConfigError

K1, K2 = os.urandom(32), os.urandom(32)


def test_sealed_numbers_open_again_and_hide_the_plaintext() -> None:
    cipher = IdNumberCipher({"k1": K1}, "k1")
    number = synthetic_id(7)
    sealed = cipher.seal(number)
    assert number.encode() not in sealed.blob
    assert sealed.key_id == "k1"
    assert cipher.open(sealed.key_id, sealed.blob) == number
    # A fresh nonce each time: equal numbers do not give equal ciphertexts.
    assert cipher.seal(number).blob != sealed.blob


def test_the_blind_index_is_stable_keyed_and_not_the_number() -> None:
    a, b = IdNumberCipher({"k1": K1}, "k1"), IdNumberCipher({"k1": K2}, "k1")
    number = synthetic_id(8)
    assert a.index(number) == a.index(number)
    assert a.index(number) != b.index(number)
    assert number not in a.index(number)


def test_a_tampered_ciphertext_is_refused() -> None:
    cipher = IdNumberCipher({"k1": K1}, "k1")
    sealed = cipher.seal(synthetic_id(9))
    broken = sealed.blob[:-1] + bytes([sealed.blob[-1] ^ 1])
    with pytest.raises(UndecryptableData):
        cipher.open("k1", broken)
    with pytest.raises(UndecryptableData):
        cipher.open("k1", b"short")


def test_rotation_keeps_old_ciphertexts_readable_and_findable() -> None:
    old = IdNumberCipher({"k1": K1}, "k1")
    number = synthetic_id(10)
    sealed = old.seal(number)
    rotated = IdNumberCipher({"k2": K2, "k1": K1}, "k2")
    assert rotated.open("k1", sealed.blob) == number
    assert sealed.index in rotated.candidate_indexes(number)
    assert rotated.seal(number).key_id == "k2"


def test_an_unknown_key_id_is_reported_not_crashed() -> None:
    with pytest.raises(UndecryptableData):
        IdNumberCipher({"k1": K1}, "k1").open("k9", b"\0" * 40)
    with pytest.raises(ConfigError):
        IdNumberCipher({"k1": K1}, "k2")
