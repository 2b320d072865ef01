"""Verification of password hashes imported from the old system, one scheme at a time."""

from __future__ import annotations

import base64
import hashlib

import bcrypt
import pytest

from idp.accounts.legacy_hashes import (
    MAX_PBKDF2_ITERATIONS,
    SCHEMES,
    MalformedLegacyHash,
    UnknownLegacyScheme,
    check_legacy_hash,
    verify_legacy_password,
)
from idp.errors import InvalidInput

# Published digests of "password".
MD5_PASSWORD = "5f4dcc3b5aa765d61d8327deb882cf99"
SHA1_PASSWORD = "5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8"


def pbkdf2(password: str, salt: str = "seasalt", iterations: int = 1000) -> str:
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations)
    return f"pbkdf2_sha256${iterations}${salt}${base64.b64encode(digest).decode()}"


def test_schemes() -> None:
    assert SCHEMES == ("md5", "sha1", "sha256_salted", "bcrypt", "pbkdf2_sha256")


def test_md5() -> None:
    assert verify_legacy_password("md5", MD5_PASSWORD, "password")
    assert verify_legacy_password("md5", MD5_PASSWORD.upper(), "password")
    assert not verify_legacy_password("md5", MD5_PASSWORD, "Password")


def test_sha1() -> None:
    assert verify_legacy_password("sha1", SHA1_PASSWORD, "password")
    assert not verify_legacy_password("sha1", SHA1_PASSWORD, "password ")


def test_sha256_salted() -> None:
    stored = "s4lt$" + hashlib.sha256(b"s4ltpassword").hexdigest()
    assert verify_legacy_password("sha256_salted", stored, "password")
    assert not verify_legacy_password("sha256_salted", stored, "s4ltpassword")
    # A salt may itself contain "$" and non-ASCII text; the digest is after the last "$".
    stored = "盐$a$" + hashlib.sha256("盐$a口令123".encode()).hexdigest()
    assert verify_legacy_password("sha256_salted", stored, "口令123")


def test_bcrypt_in_its_variants() -> None:
    stored = bcrypt.hashpw(b"password", bcrypt.gensalt(rounds=4)).decode()
    assert stored.startswith("$2b$")
    assert verify_legacy_password("bcrypt", stored, "password")
    assert not verify_legacy_password("bcrypt", stored, "passwort")
    for prefix in ("$2a$", "$2y$"):
        assert verify_legacy_password("bcrypt", prefix + stored[4:], "password")


def test_bcrypt_checks_the_72_bytes_the_old_system_hashed() -> None:
    long_password = "长" * 30  # 90 bytes in UTF-8
    stored = bcrypt.hashpw(long_password.encode()[:72], bcrypt.gensalt(rounds=4)).decode()
    assert verify_legacy_password("bcrypt", stored, long_password)
    assert not verify_legacy_password("bcrypt", stored, "短" * 30)


def test_pbkdf2_sha256_in_the_django_form() -> None:
    stored = pbkdf2("password")
    assert verify_legacy_password("pbkdf2_sha256", stored, "password")
    assert not verify_legacy_password("pbkdf2_sha256", stored, "password1")
    assert verify_legacy_password("pbkdf2_sha256", pbkdf2("密码😀"), "密码😀")


def test_unicode_passwords_are_utf8() -> None:
    assert verify_legacy_password(
        "md5", hashlib.md5("密码".encode(), usedforsecurity=False).hexdigest(), "密码"
    )
    assert not verify_legacy_password(
        "md5", hashlib.md5("密码".encode("gbk"), usedforsecurity=False).hexdigest(), "密码"
    )


def test_unknown_scheme() -> None:
    for scheme in ("", "MD5", "crypt", "argon2", "md5 ", "x" * 1000):
        with pytest.raises(UnknownLegacyScheme) as info:
            verify_legacy_password(scheme, MD5_PASSWORD, "password")
        assert isinstance(info.value, InvalidInput)
        assert "x" * 100 not in info.value.public


@pytest.mark.parametrize(
    ("scheme", "stored"),
    [
        ("md5", ""),
        ("md5", MD5_PASSWORD[:-1]),
        ("md5", MD5_PASSWORD + "0"),
        ("md5", "g" * 32),
        ("sha1", MD5_PASSWORD),
        ("sha256_salted", hashlib.sha256(b"x").hexdigest()),
        ("sha256_salted", "$" + hashlib.sha256(b"x").hexdigest()),
        ("sha256_salted", "salt$" + "z" * 64),
        ("bcrypt", "$2b$10$tooshort"),
        ("bcrypt", "$2c$10$" + "a" * 53),
        ("bcrypt", "$2b$03$" + "a" * 53),
        ("bcrypt", "$2b$10$" + "a" * 52 + "!"),
        ("pbkdf2_sha256", "pbkdf2_sha256$1000$salt"),
        ("pbkdf2_sha256", "pbkdf2_sha1$1000$salt$" + base64.b64encode(b"x" * 32).decode()),
        ("pbkdf2_sha256", "pbkdf2_sha256$abc$salt$" + base64.b64encode(b"x" * 32).decode()),
        ("pbkdf2_sha256", "pbkdf2_sha256$0$salt$" + base64.b64encode(b"x" * 32).decode()),
        (
            "pbkdf2_sha256",
            f"pbkdf2_sha256${MAX_PBKDF2_ITERATIONS + 1}$salt$" + base64.b64encode(b"x" * 32).decode(),
        ),
        ("pbkdf2_sha256", "pbkdf2_sha256$99999999999999999999$salt$" + base64.b64encode(b"x" * 32).decode()),
        ("pbkdf2_sha256", "pbkdf2_sha256$1000$$" + base64.b64encode(b"x" * 32).decode()),
        ("pbkdf2_sha256", "pbkdf2_sha256$1000$salt$not base64!"),
        ("pbkdf2_sha256", "pbkdf2_sha256$1000$salt$" + base64.b64encode(b"x" * 4).decode()),
        ("md5", "a" * 100_000),
    ],
)
def test_malformed_hashes_are_refused_without_being_echoed(scheme: str, stored: str) -> None:
    with pytest.raises(MalformedLegacyHash) as info:
        verify_legacy_password(scheme, stored, "password")
    if len(stored) > 8:
        assert stored not in info.value.public and stored not in info.value.detail
    with pytest.raises(MalformedLegacyHash):
        check_legacy_hash(scheme, stored)


def test_non_text_stored_hash_is_malformed() -> None:
    with pytest.raises(MalformedLegacyHash):
        verify_legacy_password("md5", None, "password")  # type: ignore[arg-type]


def test_check_legacy_hash_returns_the_stored_form() -> None:
    assert check_legacy_hash("md5", f" {MD5_PASSWORD}\n") == MD5_PASSWORD
    # Checking the form hashes nothing, so even the largest iteration count is instant.
    stored = f"pbkdf2_sha256${MAX_PBKDF2_ITERATIONS}$salt${base64.b64encode(b'x' * 32).decode()}"
    assert check_legacy_hash("pbkdf2_sha256", stored) == stored
