"""ID token and logout token checks, step by step, against keys held by the test (no HTTP)."""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Any

import pytest

from tests.training_rp.forging_issuer import (
    SigningKey,
    b64url_json,
    hmac_with_public_key,
    jws,
    tampered,
    unsigned,
)
from training_rp.errors import LoginRejected
from training_rp.oidc.keys import JwksCache
from training_rp.oidc.tokens import (
    BACKCHANNEL_LOGOUT_EVENT,
    Expectations,
    verify_id_token,
    verify_logout_token,
)

ISS, CLIENT = "https://idp.example", "training"
RSA, EC = SigningKey.rsa("rsa-1"), SigningKey.ec("ec-1")
EXPECT = Expectations(ISS, CLIENT, clock_skew=60, max_age=600)


def keys(*published: SigningKey) -> JwksCache:
    chosen = published or (RSA, EC)
    return JwksCache(lambda: {"keys": [k.public_jwk() for k in chosen]}, min_refresh=60, max_age=3600)


def id_claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": ISS,
        "aud": CLIENT,
        "sub": "s1",
        "iat": now,
        "exp": now + 300,
        "nonce": "n-1",
        "sid": "x",
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def reason(token: str, nonce: str = "n-1", cache: JwksCache | None = None) -> str:
    with pytest.raises(LoginRejected) as caught:
        verify_id_token(token, cache or keys(), EXPECT, nonce, None)
    return caught.value.reason


@pytest.mark.parametrize("key", [RSA, EC], ids=["RS256", "ES256"])
def test_a_valid_id_token_passes(key: SigningKey) -> None:
    claims = verify_id_token(jws(id_claims(), key), keys(), EXPECT, "n-1", None)
    assert claims["sub"] == "s1"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"iss": "https://evil.example"}, "iss"),
        ({"iss": ISS + "/"}, "iss"),
        ({"iss": None}, "iss"),
        ({"aud": "another-client"}, "aud"),
        ({"aud": [CLIENT, "another-client"]}, "aud"),
        ({"aud": None}, "aud"),
        ({"azp": "another-client"}, "azp"),
        ({"exp": int(time.time()) - 3600}, "exp"),
        ({"exp": "tomorrow"}, "exp"),
        ({"exp": True}, "exp"),
        ({"iat": int(time.time()) + 3600}, "iat"),
        ({"iat": int(time.time()) - 86400, "exp": int(time.time()) + 10 * 365 * 86400}, "iat"),
        ({"iat": None}, "iat"),
        ({"nonce": "n-2"}, "nonce"),
        ({"nonce": None}, "nonce"),
        ({"nonce": 1}, "nonce"),
        ({"sub": ""}, "sub"),
        ({"sub": "x" * 300}, "sub"),
        ({"sub": 42}, "sub"),
        ({"sid": {"a": 1}}, "sid"),
        ({"at_hash": "AAAA"}, "at_hash"),
    ],
)
def test_each_claim_check_refuses_its_violation(changes: dict[str, Any], expected: str) -> None:
    assert reason(jws(id_claims(**changes), RSA)) == expected


def test_a_list_audience_with_only_this_client_is_accepted() -> None:
    assert verify_id_token(jws(id_claims(aud=[CLIENT]), RSA), keys(), EXPECT, "n-1", None)["aud"] == [CLIENT]


def test_at_hash_binds_the_access_token() -> None:
    at_hash = base64.urlsafe_b64encode(hashlib.sha256(b"tok").digest()[:16]).rstrip(b"=").decode()
    token = jws(id_claims(at_hash=at_hash), RSA)
    assert verify_id_token(token, keys(), EXPECT, "n-1", "tok")["at_hash"] == at_hash
    with pytest.raises(LoginRejected):
        verify_id_token(token, keys(), EXPECT, "n-1", "another")


def test_a_changed_claim_breaks_the_signature() -> None:
    assert reason(tampered(jws(id_claims(), RSA))) == "signature"


def test_a_token_signed_by_a_foreign_key_with_our_kid_is_refused() -> None:
    intruder = SigningKey.rsa("rsa-1")
    assert reason(jws(id_claims(), intruder)) == "signature"


def test_alg_none_is_refused_before_any_key_is_looked_at() -> None:
    assert reason(unsigned(id_claims())) == "alg"


def test_hs256_keyed_with_the_public_key_is_refused() -> None:
    assert reason(hmac_with_public_key(id_claims(), RSA)) == "alg"


@pytest.mark.parametrize("alg", ["HS256", "RS512", "PS256", "ES384", "EdDSA", "NONE", "None"])
def test_algorithms_outside_the_allow_list_are_refused(alg: str) -> None:
    assert reason(jws(id_claims(), RSA, alg=alg)) == "alg"


def test_an_es256_header_on_an_rsa_kid_finds_no_key() -> None:
    assert reason(jws(id_claims(), RSA, alg="ES256")) == "kid"


@pytest.mark.parametrize(
    "header",
    [
        {"jku": "https://evil.example/jwks"},
        {"x5u": "https://evil.example/cert.pem"},
        {"jwk": {"kty": "oct", "k": "AAAA"}},
        {"x5c": ["MIIB"]},
        {"crit": ["exp"]},
        {"crit": ["urn:example:unknown"], "urn:example:unknown": True},
    ],
)
def test_key_carrying_and_critical_headers_are_refused(header: dict[str, Any]) -> None:
    assert reason(jws(id_claims(), RSA, **header)) == "header"


def test_an_unknown_kid_is_refused() -> None:
    stranger = SigningKey.rsa("rsa-unknown")
    assert reason(jws(id_claims(), stranger)) == "kid"


def test_a_logout_typ_is_not_accepted_as_an_id_token() -> None:
    assert reason(jws(id_claims(), RSA, typ="logout+jwt")) == "typ"


def test_no_kid_is_accepted_only_when_one_key_could_have_signed() -> None:
    token = jws(id_claims(), RSA, kid=None)
    assert verify_id_token(token, keys(RSA, EC), EXPECT, "n-1", None)["sub"] == "s1"
    other = SigningKey.rsa("rsa-2")
    assert reason(token, cache=keys(RSA, other)) == "kid"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "a.b",
        "a.b.c.d",
        "!!!.e30.sig",
        f"{b64url_json([1, 2])}.e30.sig",
        "x" * 20000,
        "éé.éé.éé",
    ],
)
def test_garbage_is_refused_as_format(token: str) -> None:
    assert reason(token) in ("format", "alg")


def test_a_payload_that_is_not_an_object_is_refused() -> None:
    header = b64url_json({"alg": "RS256", "kid": "rsa-1"})
    signing_input = f"{header}.{b64url_json([1, 2, 3])}"
    signature = base64.urlsafe_b64encode(RSA.sign(signing_input.encode())).rstrip(b"=").decode()
    assert reason(f"{signing_input}.{signature}") == "format"


# --- logout tokens --------------------------------------------------------------------------


def logout_claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISS,
        "aud": CLIENT,
        "iat": now,
        "jti": "j-1",
        "sub": "s1",
        "sid": "x",
        "events": {BACKCHANNEL_LOGOUT_EVENT: {}},
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def logout_reason(token: str) -> str:
    with pytest.raises(LoginRejected) as caught:
        verify_logout_token(token, keys(), EXPECT)
    return caught.value.reason


def test_a_valid_logout_token_passes_with_either_typ() -> None:
    assert verify_logout_token(jws(logout_claims(), RSA, typ="logout+jwt"), keys(), EXPECT)["sid"] == "x"
    assert verify_logout_token(jws(logout_claims(sub=None), EC), keys(), EXPECT)["sid"] == "x"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"iss": "https://evil.example"}, "iss"),
        ({"aud": "other"}, "aud"),
        ({"iat": None}, "iat"),
        ({"exp": int(time.time()) - 3600}, "exp"),
        ({"events": None}, "events"),
        ({"events": {BACKCHANNEL_LOGOUT_EVENT: "yes"}}, "events"),
        ({"events": {"http://schemas.openid.net/event/other": {}}}, "events"),
        ({"sub": None, "sid": None}, "sub"),
        ({"nonce": "n-1"}, "nonce"),
        ({"jti": None}, "jti"),
    ],
)
def test_each_logout_token_rule_refuses_its_violation(changes: dict[str, Any], expected: str) -> None:
    assert logout_reason(jws(logout_claims(**changes), RSA)) == expected


def test_an_id_token_cannot_pass_as_a_logout_token() -> None:
    assert logout_reason(jws(id_claims(), RSA)) in ("events", "nonce")


def test_logout_tokens_get_the_same_header_checks() -> None:
    assert logout_reason(unsigned(logout_claims())) == "alg"
    assert logout_reason(hmac_with_public_key(logout_claims(), RSA)) == "alg"
    assert logout_reason(jws(logout_claims(), RSA, jku="https://evil.example")) == "header"
    assert logout_reason(jws(logout_claims(), RSA, typ="at+jwt")) == "typ"
