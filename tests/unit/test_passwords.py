"""argon2id hashing: explicit parameters, any Unicode, long passwords, no truncation, rehash signals."""

from __future__ import annotations

import bcrypt
import pytest
from argon2 import extract_parameters

from idp.accounts import passwords
from idp.accounts.passwords import (
    DEFAULT_PARAMS,
    MAX_LENGTH,
    Argon2Params,
    hash_password,
    verify_dummy,
    verify_legacy,
    verify_password,
)
from idp.errors import InvalidInput

# Cheap parameters keep the tests that only look at behaviour fast; one test checks the real ones.
FAST = Argon2Params(time_cost=1, memory_cost=8 * 1024, parallelism=1)


def test_hash_is_argon2id_with_the_documented_parameters() -> None:
    stored = hash_password("correct horse battery staple")
    params = extract_parameters(stored)
    assert stored.startswith("$argon2id$")
    assert (params.time_cost, params.memory_cost, params.parallelism) == (3, 65536, 4)
    assert (params.salt_len, params.hash_len) == (16, 32)
    assert DEFAULT_PARAMS == Argon2Params(3, 65536, 4)


def test_right_password_verifies_and_wrong_one_does_not() -> None:
    stored = hash_password("s3cret-passphrase", FAST)
    assert verify_password(stored, "s3cret-passphrase", FAST).ok
    assert not verify_password(stored, "s3cret-passphrasE", FAST).ok
    assert not verify_password(stored, "", FAST).ok


def test_same_password_gets_a_new_salt_each_time() -> None:
    assert hash_password("same password", FAST) != hash_password("same password", FAST)


@pytest.mark.parametrize("length", [64, 72, 73, 200, MAX_LENGTH])
def test_long_passwords_are_not_truncated(length: int) -> None:
    password = ("长密码Ab1-" * 200)[:length]
    stored = hash_password(password, FAST)
    assert verify_password(stored, password, FAST).ok
    # Changing only the very last character must fail: nothing past some prefix is ignored.
    changed = password[:-1] + ("x" if password[-1] != "x" else "y")
    assert not verify_password(stored, changed, FAST).ok
    assert not verify_password(stored, password[:-1], FAST).ok


@pytest.mark.parametrize(
    "password",
    [
        "中华人民共和国科学技术部",
        "пароль-для-входа",
        "🔐🗝️ emoji pass",
        "混合 mixed ümlaut ß",
        "\u00a0non-break space",
    ],
)
def test_any_unicode_password_round_trips(password: str) -> None:
    stored = hash_password(password, FAST)
    assert verify_password(stored, password, FAST).ok
    assert not verify_password(stored, password + "!", FAST).ok


def test_compatibility_forms_are_normalised() -> None:
    # Full-width Latin letters (a Chinese input method's default) and the ASCII ones are one password.
    stored = hash_password("Ｐａｓｓｗｏｒｄ１２３", FAST)
    assert verify_password(stored, "Password123", FAST).ok
    # Composed and decomposed accents are one password as well.
    assert verify_password(hash_password("café-lounge", FAST), "cafe\u0301-lounge", FAST).ok


def test_outdated_parameters_ask_for_a_rehash() -> None:
    old = hash_password("upgrade me please", FAST)
    result = verify_password(old, "upgrade me please", DEFAULT_PARAMS)
    assert result.ok and result.needs_rehash
    current = hash_password("upgrade me please", FAST)
    assert not verify_password(current, "upgrade me please", FAST).needs_rehash


@pytest.mark.parametrize("damaged", ["", "not a hash", "$argon2id$v=19$m=8192,t=1,p=1$broken", "$2b$12$abc"])
def test_a_damaged_stored_hash_is_a_mismatch_not_an_error(damaged: str) -> None:
    assert verify_password(damaged, "whatever", FAST) == passwords.Verification(ok=False)


def test_overlong_password_is_refused_without_error() -> None:
    stored = hash_password("short enough", FAST)
    assert not verify_password(stored, "a" * (MAX_LENGTH + 1), FAST).ok
    with pytest.raises(InvalidInput):
        hash_password("a" * (MAX_LENGTH + 1), FAST)


def test_dummy_verification_runs_with_the_given_parameters() -> None:
    verify_dummy(FAST)
    dummy = passwords._dummy_hash(FAST)
    assert dummy.startswith("$argon2id$")
    assert extract_parameters(dummy).memory_cost == FAST.memory_cost


def test_legacy_bcrypt_hash_verifies_once_and_asks_for_argon2id() -> None:
    legacy = bcrypt.hashpw(b"old-system-password", bcrypt.gensalt(rounds=4)).decode()
    result = verify_legacy("bcrypt", legacy, "old-system-password")
    assert result.ok and result.needs_rehash
    assert verify_legacy("bcrypt", legacy, "wrong") == passwords.Verification(ok=False)


@pytest.mark.parametrize(("scheme", "stored"), [("bcrypt", "garbage"), ("rot13", "abc"), ("md5", "zz")])
def test_unusable_legacy_hashes_are_a_mismatch(scheme: str, stored: str) -> None:
    assert verify_legacy(scheme, stored, "anything") == passwords.Verification(ok=False)
