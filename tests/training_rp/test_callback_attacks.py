"""Attacks on /callback with an issuer whose keys the test controls: each one gets an error page,
a log line naming the failed check, and no session."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.training_rp.forging_issuer import (
    ForgingIssuer,
    SigningKey,
    b64url_json,
    hmac_with_public_key,
    jws,
    tampered,
    unsigned,
)
from tests.training_rp.helpers import (
    add_department_user,
    callback_url_for,
    csrf_token_of,
    is_signed_in,
    services_of,
    sign_in,
    synthetic_id,
)
from training_rp import create_app
from training_rp.models import RpSession

Hook = Callable[[dict[str, Any], ForgingIssuer], str]
FAILED = "登录失败"


def signed_sessions(app: Flask) -> int:
    with services_of(app).db.transaction() as tx:
        return int(
            tx.scalar(select(func.count()).select_from(RpSession).where(RpSession.sub.is_not(None))) or 0
        )


@pytest.fixture()
def recorded(app: Flask, issuer: ForgingIssuer) -> None:
    """A verified person with a recorded account: only the attack can stop them."""
    add_department_user(app, serial=2)
    issuer.person.id_number = synthetic_id(2)


def assert_refused(
    app: Flask,
    client: FlaskClient,
    response: Any,
    caplog: pytest.LogCaptureFixture,
    why: str,
    others: int = 0,
) -> None:
    """Error page, no session for this browser (``others``: sessions of other browsers), a log line."""
    assert response.status_code == 400, response.data[:300]
    assert FAILED in response.data.decode()
    assert not is_signed_in(client)
    assert signed_sessions(app) == others
    assert f"signin rejected: reason={why}" in caplog.text


def with_changes(**changes: Any) -> Hook:
    def hook(claims: dict[str, Any], issuer: ForgingIssuer) -> str:
        claims.update(changes)
        return jws(claims, issuer.rsa)

    return hook


def embedded_attacker_key(claims: dict[str, Any], issuer: ForgingIssuer) -> str:
    attacker = SigningKey.rsa("attacker")
    return jws(claims, attacker, jwk=attacker.public_jwk())


ATTACKS: dict[str, tuple[Hook, str]] = {
    "tampered signature": (lambda c, i: tampered(jws(c, i.rsa)), "signature"),
    "signed by another key under our kid": (lambda c, i: jws(c, SigningKey.rsa("rsa-1")), "signature"),
    "wrong audience": (with_changes(aud="another-client"), "aud"),
    "extra untrusted audience": (with_changes(aud=["training", "another-client"]), "aud"),
    "wrong issuer": (with_changes(iss="http://127.0.0.1:1"), "iss"),
    "expired": (with_changes(exp=int(time.time()) - 3600, iat=int(time.time()) - 4000), "exp"),
    "issued in the future": (with_changes(iat=int(time.time()) + 3600), "iat"),
    "wrong nonce": (with_changes(nonce="not-the-nonce-we-sent"), "nonce"),
    "no nonce": (with_changes(nonce=None), "nonce"),
    "alg none": (lambda c, i: unsigned(c), "alg"),
    "HS256 keyed with the public key": (lambda c, i: hmac_with_public_key(c, i.rsa), "alg"),
    "unknown kid": (lambda c, i: jws(c, SigningKey.rsa("never-published")), "kid"),
    "jku header": (lambda c, i: jws(c, i.rsa, jku=i.url + "/jwks"), "header"),
    "x5u header": (lambda c, i: jws(c, i.rsa, x5u=i.url + "/cert"), "header"),
    "embedded jwk": (embedded_attacker_key, "header"),
    "unknown crit": (lambda c, i: jws(c, i.rsa, crit=["urn:x"], **{"urn:x": 1}), "header"),
    "at_hash of another access token": (with_changes(at_hash="AAAAAAAAAAAAAAAAAAAAAA"), "at_hash"),
    "not a JWT": (lambda c, i: "this-is-not-a-token", "format"),
    "unsigned payload, no kid": (
        lambda c, i: f"{b64url_json({'alg': 'RS256'})}.{b64url_json([1])}.x",
        "signature",
    ),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_forged_id_tokens_are_refused_without_a_session(
    attack: str,
    app: Flask,
    client: FlaskClient,
    issuer: ForgingIssuer,
    recorded: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    hook, reason = ATTACKS[attack]
    issuer.token_hook = hook
    caplog.set_level(logging.WARNING, logger="training_rp")
    response = sign_in(client)
    assert_refused(app, client, response, caplog, reason)
    # The forged token is never written to the log.
    assert "eyJ" not in caplog.text


def test_the_same_person_gets_in_with_an_honest_token(
    app: Flask, client: FlaskClient, issuer: ForgingIssuer, recorded: None
) -> None:
    """The control case of the attacks above: only the forgery made the difference."""
    response = sign_in(client)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert is_signed_in(client)
    assert signed_sessions(app) == 1
    # PKCE: the verifier was sent and matched the S256 challenge (the issuer checks it).
    assert issuer.token_requests[-1]["code_verifier"]


def test_an_es256_token_is_accepted_too(
    app: Flask, client: FlaskClient, issuer: ForgingIssuer, recorded: None
) -> None:
    issuer.token_hook = lambda c, i: jws(c, i.ec)
    assert sign_in(client).status_code == 302
    assert is_signed_in(client)


def test_a_replayed_callback_is_refused_in_the_same_browser(
    app: Flask, client: FlaskClient, issuer: ForgingIssuer, recorded: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="training_rp")
    callback = callback_url_for(client)
    assert client.get(callback).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token_of(client)})
    replay = client.get(callback)
    assert_refused(app, client, replay, caplog, "state")


def test_a_replayed_callback_with_a_copied_cookie_is_refused(
    app: Flask, client: FlaskClient, issuer: ForgingIssuer, recorded: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="training_rp")
    callback = callback_url_for(client)
    cookie = client.get_cookie("training_session")
    assert cookie is not None
    assert client.get(callback).status_code == 302

    attacker = app.test_client()
    attacker.set_cookie("training_session", cookie.value)
    replay = attacker.get(callback)
    assert_refused(app, attacker, replay, caplog, "state", others=1)  # the victim's own session only


def test_a_callback_started_in_another_browser_is_refused(
    app: Flask, client: FlaskClient, issuer: ForgingIssuer, recorded: None, caplog: pytest.LogCaptureFixture
) -> None:
    """Login CSRF: an attacker's authorization response delivered into the victim's browser."""
    caplog.set_level(logging.WARNING, logger="training_rp")
    attacker = app.test_client()
    attackers_callback = callback_url_for(attacker)
    client.get("/login")  # the victim has a session of their own
    assert_refused(app, client, client.get(attackers_callback), caplog, "state")


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("", "state"),
        ("?code=abc", "state"),
        ("?code=abc&state=made-up", "state"),
        ("?code=abc&state=" + "s" * 5000, "params"),
        ("?code=abc&code=def&state=x", "params"),
        ("?state=%FF%FE&code=%00", "state"),
    ],
)
def test_malformed_callbacks_are_refused(
    query: str, reason: str, app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="training_rp")
    client.get("/login")
    assert_refused(app, client, client.get("/callback" + query), caplog, reason)


def test_a_repeated_state_parameter_is_refused(
    app: Flask, client: FlaskClient, issuer: ForgingIssuer, recorded: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="training_rp")
    callback = callback_url_for(client)
    state = callback.split("state=")[1].split("&")[0]
    assert_refused(app, client, client.get(f"{callback}&state={state}"), caplog, "params")


def test_an_authorization_response_from_another_issuer_is_refused(
    app: Flask, client: FlaskClient, issuer: ForgingIssuer, recorded: None, caplog: pytest.LogCaptureFixture
) -> None:
    """RFC 9207 mix-up defence: the iss parameter must name our issuer."""
    caplog.set_level(logging.WARNING, logger="training_rp")
    callback = callback_url_for(client).replace("iss=", "iss=http%3A%2F%2Fevil.example%2F&x=")
    assert_refused(app, client, client.get(callback), caplog, "iss")
    assert issuer.token_requests == [], "the code is not sent anywhere after a mix-up"


def test_a_missing_iss_parameter_is_refused_when_the_issuer_promises_it(
    app: Flask, client: FlaskClient, issuer: ForgingIssuer, recorded: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="training_rp")
    issuer.send_iss = False
    assert_refused(app, client, sign_in(client), caplog, "iss")


def test_an_error_from_the_issuer_ends_the_attempt_cleanly(
    app: Flask, client: FlaskClient, issuer: ForgingIssuer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="training_rp")
    callback = callback_url_for(client)
    state = callback.split("state=")[1].split("&")[0]
    response = client.get(f"/callback?error=access_denied&state={state}&iss={issuer.url}")
    assert response.status_code == 400
    assert "未授权本次登录" in response.data.decode()
    assert not is_signed_in(client)


def test_a_code_the_issuer_refuses_is_not_a_session(
    app: Flask, client: FlaskClient, issuer: ForgingIssuer, recorded: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="training_rp")
    callback = callback_url_for(client)
    issuer.requests.clear()  # the issuer no longer knows the code (used or expired)
    assert_refused(app, client, client.get(callback), caplog, "token_endpoint")


def test_a_token_response_without_an_id_token_is_refused(
    app: Flask, client: FlaskClient, issuer: ForgingIssuer, recorded: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="training_rp")
    issuer.token_hook = lambda c, i: ""
    assert_refused(app, client, sign_in(client), caplog, "token_response")


def test_userinfo_of_another_subject_is_not_used(
    app: Flask, client: FlaskClient, issuer: ForgingIssuer, recorded: None, caplog: pytest.LogCaptureFixture
) -> None:
    """OIDC Core 5.3.4: claims fetched from userinfo must be about the ID token's subject."""
    caplog.set_level(logging.WARNING, logger="training_rp")
    issuer.claims_in_id_token = False
    issuer.userinfo_extra = {"sub": "someone-else"}
    assert_refused(app, client, sign_in(client), caplog, "userinfo")


def test_claims_missing_from_the_id_token_are_taken_from_userinfo(
    app: Flask, client: FlaskClient, issuer: ForgingIssuer, recorded: None
) -> None:
    issuer.claims_in_id_token = False
    assert sign_in(client).status_code == 302
    assert is_signed_in(client)


def test_a_discovery_document_naming_another_issuer_is_refused(
    app: Flask, client: FlaskClient, issuer: ForgingIssuer, caplog: pytest.LogCaptureFixture
) -> None:
    """OIDC Discovery 4.3: the document's issuer must be the configured one."""
    caplog.set_level(logging.WARNING, logger="training_rp")
    issuer.metadata_overrides = {"issuer": "http://evil.example"}
    response = client.get("/login")
    assert response.status_code == 503
    assert "暂时无法访问" in response.data.decode()
    assert "discovery document refused" in caplog.text


def test_an_unreachable_issuer_gives_a_clear_page(app: Flask, database_url: str) -> None:
    down = create_app({"issuer": "http://127.0.0.1:9", "database_url": database_url, "http_timeout": 1.0})
    response = down.test_client().get("/login")
    assert response.status_code == 503
    assert "统一身份认证平台暂时无法访问" in response.data.decode()
