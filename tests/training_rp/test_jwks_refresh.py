"""The JWKS cache: an unknown kid refetches at most once per interval; rotation needs no restart."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.training_rp.forging_issuer import ForgingIssuer, SigningKey, jws
from tests.training_rp.helpers import add_department_user, is_signed_in, services_of, sign_in, synthetic_id
from training_rp.errors import LoginRejected, ProviderUnavailable
from training_rp.oidc.keys import JwksCache, parse_jwks


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CountingSource:
    def __init__(self, *published: SigningKey) -> None:
        self.published = list(published)
        self.fetches = 0

    def __call__(self) -> dict[str, Any]:
        self.fetches += 1
        return {"keys": [k.public_jwk() for k in self.published]}


def test_unknown_kids_refetch_at_most_once_per_interval() -> None:
    first, second = SigningKey.rsa("k1"), SigningKey.rsa("k2")
    source, clock = CountingSource(first), Clock()
    cache = JwksCache(source, min_refresh=60, max_age=3600, clock=clock)
    cache.find("k1", "RS256")
    assert source.fetches == 1
    for _ in range(20):
        with pytest.raises(LoginRejected):
            cache.find("made-up", "RS256")
    assert source.fetches == 1, "a burst of unknown kids inside the interval must not refetch"
    clock.now += 61
    with pytest.raises(LoginRejected):
        cache.find("made-up", "RS256")
    assert source.fetches == 2
    source.published.append(second)
    clock.now += 61
    assert cache.find("k2", "RS256") is not None
    assert source.fetches == 3


def test_the_whole_set_is_refetched_after_its_maximum_age() -> None:
    key = SigningKey.ec("e1")
    source, clock = CountingSource(key), Clock()
    cache = JwksCache(source, min_refresh=60, max_age=300, clock=clock)
    cache.find("e1", "ES256")
    clock.now += 301
    cache.find("e1", "ES256")
    assert source.fetches == 2


def test_a_failing_fetch_is_reported_and_not_retried_in_a_loop() -> None:
    clock = Clock()
    calls = []

    def down() -> Any:
        calls.append(1)
        raise ProviderUnavailable("down", "jwks: ConnectionError")

    cache = JwksCache(down, min_refresh=60, max_age=3600, clock=clock)
    with pytest.raises(ProviderUnavailable):
        cache.find("k", "RS256")
    assert len(calls) == 1


def test_unusable_jwks_entries_are_skipped() -> None:
    good = SigningKey.rsa("good").public_jwk()
    private_leak = {**SigningKey.ec("leak").public_jwk(), "d": "AAAA"}
    document = {
        "keys": [
            good,
            {**good, "kid": "enc", "use": "enc"},
            {**good, "kid": "wrong-alg", "alg": "RS512"},
            {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
            {"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA", "kid": "p384"},
            {"kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "tiny"},
            {**good, "kid": "ops", "key_ops": ["encrypt"]},
            "not an object",
            private_leak,
        ]
    }
    parsed = parse_jwks(document)
    assert [k.kid for k in parsed] == ["good", "leak"]
    leaked = parsed[1].key
    assert not leaked.is_private, "private members of a published key must never be imported"
    with pytest.raises(ValueError):
        parse_jwks({"nokeys": []})
    with pytest.raises(ValueError):
        parse_jwks([1, 2])


def test_key_rotation_at_the_issuer_works_without_restarting_the_rp(
    app: Flask, client: FlaskClient, issuer: ForgingIssuer
) -> None:
    add_department_user(app, serial=2)
    issuer.person.id_number = synthetic_id(2)
    assert sign_in(client).status_code == 302
    fetches_after_first = issuer.jwks_fetches

    rotated = SigningKey.rsa("rsa-rotated")
    issuer.published = [rotated, issuer.ec]
    issuer.token_hook = lambda claims, _issuer: jws(claims, rotated)
    keys = services_of(app).provider.keys
    keys.clock = lambda: time.monotonic() + 120  # the minimum interval since the last fetch has passed
    fresh = app.test_client()
    assert sign_in(fresh).status_code == 302
    assert is_signed_in(fresh)
    assert issuer.jwks_fetches == fetches_after_first + 1
