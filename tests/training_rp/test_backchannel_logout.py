"""Back-channel logout (OIDC Back-Channel Logout 1.0): a valid logout token ends exactly the
sessions it names; anything else is a 400 and ends nothing."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.training_rp.forging_issuer import (
    ForgingIssuer,
    SigningKey,
    hmac_with_public_key,
    jws,
    tampered,
    unsigned,
)
from tests.training_rp.helpers import (
    add_department_user,
    add_unit,
    is_signed_in,
    services_of,
    sign_in,
    synthetic_id,
)
from training_rp.models import Role

FORM = "application/x-www-form-urlencoded"


@pytest.fixture()
def signed_in(app: Flask, client: FlaskClient, issuer: ForgingIssuer) -> str:
    """A signed-in department user; returns the IdP session id (sid) of that sign-in."""
    add_department_user(app, serial=2)
    issuer.person.id_number = synthetic_id(2)
    issuer.person.sub, issuer.person.sid = "sub-dept", "sid-browser-1"
    assert sign_in(client).status_code == 302
    assert is_signed_in(client)
    return "sid-browser-1"


def post_logout(app: Flask, token: str, **extra: Any) -> Any:
    return app.test_client().post("/backchannel-logout", data={"logout_token": token, **extra})


def test_a_logout_token_with_the_sid_ends_that_session(
    app: Flask, client: FlaskClient, issuer: ForgingIssuer, signed_in: str
) -> None:
    response = post_logout(app, issuer.logout_token(sub="sub-dept", sid=signed_in))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert not is_signed_in(client)


def test_a_sid_alone_ends_the_session_and_a_sub_alone_ends_all_of_the_person(
    app: Flask, client: FlaskClient, issuer: ForgingIssuer, signed_in: str
) -> None:
    second = app.test_client()
    issuer.person.sid = "sid-browser-2"
    sign_in(second)
    assert post_logout(app, issuer.logout_token(sid="sid-browser-2")).status_code == 200
    assert is_signed_in(client) and not is_signed_in(second)

    third = app.test_client()
    issuer.person.sid = "sid-browser-3"
    sign_in(third)
    assert post_logout(app, issuer.logout_token(sub="sub-dept")).status_code == 200
    assert not is_signed_in(client) and not is_signed_in(third)


def test_other_peoples_sessions_are_untouched(
    app: Flask, client: FlaskClient, issuer: ForgingIssuer, signed_in: str
) -> None:
    department = services_of(app).accounts.list_all(Role.DEPARTMENT_USER)[0]
    add_unit(app, department, serial=3)
    other = app.test_client()
    issuer.person.sub, issuer.person.sid, issuer.person.id_number = "sub-unit", "sid-unit", synthetic_id(3)
    sign_in(other)
    assert post_logout(app, issuer.logout_token(sub="sub-dept", sid=signed_in)).status_code == 200
    assert not is_signed_in(client)
    assert is_signed_in(other)
    # A sid paired with another person's sub ends nothing.
    assert post_logout(app, issuer.logout_token(sub="sub-dept", sid="sid-unit")).status_code == 200
    assert is_signed_in(other)


def claims_changed(issuer: ForgingIssuer, sid: str, **changes: Any) -> str:
    token = issuer.logout_token(sub="sub-dept", sid=sid)
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    return jws({k: v for k, v in claims.items() if v is not None}, issuer.rsa, typ="logout+jwt")


BAD_TOKENS: dict[str, Callable[[ForgingIssuer, str], str]] = {
    "tampered": lambda i, sid: tampered(i.logout_token(sub="sub-dept", sid=sid)),
    "alg none": lambda i, sid: unsigned({"iss": i.url, "aud": "training", "sid": sid}),
    "hs256 public key": lambda i, sid: hmac_with_public_key(
        {"iss": i.url, "aud": "training", "sid": sid}, i.rsa
    ),
    "foreign key": lambda i, sid: jws({"iss": i.url, "aud": "training", "sid": sid}, SigningKey.rsa("rsa-1")),
    "wrong aud": lambda i, sid: claims_changed(i, sid, aud="another-client"),
    "wrong iss": lambda i, sid: claims_changed(i, sid, iss="http://evil.example"),
    "nonce present": lambda i, sid: claims_changed(i, sid, nonce="n"),
    "no events": lambda i, sid: claims_changed(i, sid, events=None),
    "no jti": lambda i, sid: claims_changed(i, sid, jti=None),
    "too old": lambda i, sid: claims_changed(i, sid, iat=1, exp=None),
    "jku": lambda i, sid: jws({"iss": i.url, "aud": "training", "sid": sid}, i.rsa, jku=i.url + "/jwks"),
    "garbage": lambda i, sid: "not.a.token",
}


@pytest.mark.parametrize("kind", list(BAD_TOKENS))
def test_invalid_logout_tokens_are_refused_and_end_nothing(
    kind: str,
    app: Flask,
    client: FlaskClient,
    issuer: ForgingIssuer,
    signed_in: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="training_rp")
    response = post_logout(app, BAD_TOKENS[kind](issuer, signed_in))
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"
    assert is_signed_in(client)
    assert "backchannel logout rejected" in caplog.text


def test_a_replayed_logout_token_is_refused(
    app: Flask, client: FlaskClient, issuer: ForgingIssuer, signed_in: str
) -> None:
    token = issuer.logout_token(sub="sub-dept", sid=signed_in)
    assert post_logout(app, token).status_code == 200
    assert post_logout(app, token).status_code == 400


@pytest.mark.parametrize(
    "send",
    [
        lambda c, t: c.post("/backchannel-logout", json={"logout_token": t}),
        lambda c, t: c.post("/backchannel-logout", data={"logout_token": [t, t]}),
        lambda c, t: c.post("/backchannel-logout", data={}),
        lambda c, t: c.post("/backchannel-logout", data=b"logout_token=%FF%FE", content_type=FORM),
        lambda c, t: c.post("/backchannel-logout", data={"logout_token": "x" * 70000}),
        lambda c, t: c.get("/backchannel-logout"),
    ],
    ids=["json", "twice", "missing", "invalid-utf8", "huge", "get"],
)
def test_malformed_logout_requests_get_a_client_error(
    send: Any, app: Flask, client: FlaskClient, issuer: ForgingIssuer, signed_in: str
) -> None:
    response = send(app.test_client(), issuer.logout_token(sub="sub-dept", sid=signed_in))
    assert 400 <= response.status_code < 500
    assert is_signed_in(client)


def test_the_endpoint_needs_no_csrf_token_and_creates_no_session(
    app: Flask, issuer: ForgingIssuer, signed_in: str
) -> None:
    probe = app.test_client()
    response = probe.post("/backchannel-logout", data={"logout_token": issuer.logout_token(sid=signed_in)})
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
