"""Refresh rotation and reuse detection, client authentication, client credentials, introspection,
revocation and userinfo checks, including forged and downgraded tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from tests.integration.oidc.conftest import ISSUER, RP_SECRET, authorize, basic, exchange


def _tokens(client: FlaskClient) -> dict[str, Any]:
    resp = exchange(client, authorize(client))
    assert resp.status_code == 200
    body: dict[str, Any] = resp.get_json()
    return body


def _refresh(client: FlaskClient, refresh_token: str) -> Any:
    return client.post(
        "/token", data={"grant_type": "refresh_token", "refresh_token": refresh_token}, headers=basic()
    )


def test_refresh_rotates_and_reuse_revokes_the_family(signed_in: FlaskClient, rp: str) -> None:
    first = _tokens(signed_in)
    second = _refresh(signed_in, first["refresh_token"])
    assert second.status_code == 200
    rotated = second.get_json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert "nonce" not in jwt.decode(rotated["id_token"], _keys(signed_in), algorithms=["RS256"]).claims
    reuse = _refresh(signed_in, first["refresh_token"])
    assert reuse.get_json()["error"] == "invalid_grant"
    # The family is gone: the successor and its access token stop working too.
    assert _refresh(signed_in, rotated["refresh_token"]).get_json()["error"] == "invalid_grant"
    info = signed_in.get("/userinfo", headers={"Authorization": "Bearer " + rotated["access_token"]})
    assert info.status_code == 401


def test_concurrent_refresh_never_yields_two_live_successors(
    idp_app: Flask, signed_in: FlaskClient, rp: str
) -> None:
    first = _tokens(signed_in)

    def use(_: int) -> Any:
        return _refresh(idp_app.test_client(), first["refresh_token"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(use, range(10)))
    winners = [r.get_json() for r in results if r.status_code == 200]
    assert len(winners) == 1
    # Others were reuse: the family is revoked, so even the single successor is dead.
    assert _refresh(signed_in, winners[0]["refresh_token"]).get_json()["error"] == "invalid_grant"


def test_wrong_client_secret_is_invalid_client(signed_in: FlaskClient, rp: str) -> None:
    result = authorize(signed_in)
    resp = exchange(signed_in, result, secret=RP_SECRET + "x")
    assert resp.status_code == 401 and resp.get_json()["error"] == "invalid_client"
    assert exchange(signed_in, result).status_code == 200  # the code was not burnt by the failed attempt


def test_client_secret_post_works_when_registered(services: Any, browser_client: FlaskClient) -> None:
    from idp.oidc.clients import ClientService, ClientSpec

    ClientService(services.db, services.settings).add(
        ClientSpec(
            client_id="svc",
            secret="svc-secret-0123456789",
            redirect_uris=[],
            grant_types=["client_credentials"],
            auth_method="client_secret_post",
            access_token_alg="ES256",
            scope="profile",
        )
    )
    resp = browser_client.post(
        "/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "svc",
            "client_secret": "svc-secret-0123456789",
        },
    )
    assert resp.status_code == 200
    token = resp.get_json()
    assert "refresh_token" not in token and "id_token" not in token
    decoded = jwt.decode(token["access_token"], _keys(browser_client), algorithms=["ES256"])
    assert decoded.header["alg"] == "ES256" and decoded.claims["sub"] == "svc"
    # A service token identifies no person: userinfo refuses it.
    info = browser_client.get("/userinfo", headers={"Authorization": "Bearer " + token["access_token"]})
    assert info.status_code == 403
    # Basic is not its registered method.
    other = browser_client.post(
        "/token", data={"grant_type": "client_credentials"}, headers=basic("svc", "svc-secret-0123456789")
    )
    assert other.get_json()["error"] == "invalid_client"


def test_private_key_jwt_client_authentication(services: Any, browser_client: FlaskClient) -> None:
    from idp.oidc.clients import ClientService, ClientSpec

    key = ECKey.generate_key("P-256", parameters={"kid": "c1", "alg": "ES256"}, private=True)
    ClientService(services.db, services.settings).add(
        ClientSpec(
            client_id="pkj",
            redirect_uris=[],
            grant_types=["client_credentials"],
            auth_method="private_key_jwt",
            jwks=json.dumps({"keys": [key.as_dict(private=False)]}),
            scope="profile",
        )
    )

    def assertion(jti: str) -> str:
        now = int(time.time())
        claims = {
            "iss": "pkj",
            "sub": "pkj",
            "aud": ISSUER + "/token",
            "iat": now,
            "exp": now + 60,
            "jti": jti,
        }
        return jwt.encode({"alg": "ES256", "kid": "c1"}, claims, key)

    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    }
    ok = browser_client.post("/token", data={**form, "client_assertion": assertion("j1")})
    assert ok.status_code == 200, ok.get_data(as_text=True)
    replay = browser_client.post("/token", data={**form, "client_assertion": assertion("j1")})
    assert replay.get_json()["error"] == "invalid_client"
    stranger = ECKey.generate_key("P-256", parameters={"kid": "c1"}, private=True)
    now = int(time.time())
    forged = jwt.encode(
        {"alg": "ES256", "kid": "c1"},
        {"iss": "pkj", "sub": "pkj", "aud": ISSUER + "/token", "exp": now + 60, "jti": "j2"},
        stranger,
    )
    assert (
        browser_client.post("/token", data={**form, "client_assertion": forged}).get_json()["error"]
        == "invalid_client"
    )


def _keys(client: FlaskClient) -> Any:
    from joserfc.jwk import KeySet

    return KeySet.import_key_set(client.get("/jwks").get_json())


def test_introspection_and_revocation(signed_in: FlaskClient, rp: str, services: Any) -> None:
    from idp.oidc.clients import ClientService, ClientSpec

    tokens = _tokens(signed_in)
    active = signed_in.post("/introspect", data={"token": tokens["access_token"]}, headers=basic())
    assert active.status_code == 200 and active.get_json()["active"] is True
    assert active.get_json()["client_id"] == "rp"
    rt = signed_in.post(
        "/introspect",
        data={"token": tokens["refresh_token"], "token_type_hint": "refresh_token"},
        headers=basic(),
    )
    assert rt.get_json()["active"] is True
    # Another client learns nothing about rp's tokens.
    ClientService(services.db, services.settings).add(
        ClientSpec(
            client_id="nosy",
            secret="nosy-secret-0123456789",
            redirect_uris=[],
            grant_types=["client_credentials"],
        )
    )
    nosy = signed_in.post(
        "/introspect", data={"token": tokens["access_token"]}, headers=basic("nosy", "nosy-secret-0123456789")
    )
    assert nosy.get_json() == {"active": False}
    assert signed_in.post("/introspect", data={"token": tokens["access_token"]}).status_code == 401
    revoked = signed_in.post("/revoke", data={"token": tokens["access_token"]}, headers=basic())
    assert revoked.status_code == 200
    assert signed_in.post(
        "/introspect", data={"token": tokens["access_token"]}, headers=basic()
    ).get_json() == {"active": False}
    assert (
        signed_in.get("/userinfo", headers={"Authorization": "Bearer " + tokens["access_token"]}).status_code
        == 401
    )
    # Revoking the refresh token ends the family (RFC 7009 §2.1).
    assert (
        signed_in.post("/revoke", data={"token": tokens["refresh_token"]}, headers=basic()).status_code == 200
    )
    assert _refresh(signed_in, tokens["refresh_token"]).get_json()["error"] == "invalid_grant"
    # Unknown tokens: 200 per RFC 7009 §2.2, inactive per RFC 7662.
    assert signed_in.post("/revoke", data={"token": "nonsense"}, headers=basic()).status_code == 200
    assert signed_in.post("/introspect", data={"token": "a.b.c"}, headers=basic()).get_json() == {
        "active": False
    }


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_userinfo_refuses_forged_and_downgraded_tokens(signed_in: FlaskClient, rp: str) -> None:
    tokens = _tokens(signed_in)
    header, payload, signature = tokens["access_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    bearer = "/userinfo"

    def status(token: str) -> int:
        return int(signed_in.get(bearer, headers={"Authorization": "Bearer " + token}).status_code)

    tampered = dict(claims, sub="someone-else")
    assert status(f"{header}.{_b64(tampered)}.{signature}") == 401
    assert status(f"{_b64({'alg': 'none', 'typ': 'at+jwt'})}.{payload}.") == 401
    # HMAC keyed with the RSA public key (algorithm confusion).
    jwks = signed_in.get("/jwks").get_json()["keys"]
    rsa_public = RSAKey.import_key(next(k for k in jwks if k["alg"] == "RS256"))
    pem = rsa_public.as_pem(private=False)
    signing_input = f"{_b64({'alg': 'HS256', 'typ': 'at+jwt', 'kid': rsa_public.kid})}.{payload}"
    mac = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    hs = signing_input + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    assert status(hs) == 401
    # Headers that point at other keys are refused even with a valid signature elsewhere.
    stranger = RSAKey.generate_key(2048, parameters={"kid": "evil"}, private=True)
    jku = jwt.encode(
        {"alg": "RS256", "typ": "at+jwt", "kid": "evil", "jku": "https://evil.example/jwks"}, claims, stranger
    )
    assert status(jku) == 401
    expired = dict(claims, exp=int(time.time()) - 10)
    assert status(f"{header}.{_b64(expired)}.{signature}") == 401
    assert status("not-a-jwt") == 401
    assert signed_in.get(bearer).status_code == 401
    assert "Bearer" in signed_in.get(bearer).headers["WWW-Authenticate"]


def test_ending_all_sessions_of_a_person_revokes_their_tokens(
    idp_app: Flask, signed_in: FlaskClient, rp: str, person: Any
) -> None:
    from idp.web import session as sso

    tokens = _tokens(signed_in)
    with idp_app.test_request_context("/"):
        sso.end_sessions_of(person.id)
    assert _refresh(signed_in, tokens["refresh_token"]).get_json()["error"] == "invalid_grant"
    info = signed_in.get("/userinfo", headers={"Authorization": "Bearer " + tokens["access_token"]})
    assert info.status_code == 401
