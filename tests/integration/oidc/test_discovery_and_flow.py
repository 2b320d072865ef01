"""Discovery, JWKS and the authorization-code flow end to end through the app."""

from __future__ import annotations

import time
from typing import Any

from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import KeySet

from idp.oidc.tokens import half_hash
from tests.integration.oidc.conftest import (
    ISSUER,
    RP_REDIRECT,
    Person,
    authorize,
    exchange,
    query_of,
)


def test_discovery_names_this_issuer_and_code_flow_only(browser_client: FlaskClient) -> None:
    meta = browser_client.get("/.well-known/openid-configuration").get_json()
    assert meta["issuer"] == ISSUER
    assert meta["authorization_endpoint"] == ISSUER + "/authorize"
    assert meta["response_types_supported"] == ["code"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["authorization_response_iss_parameter_supported"] is True
    assert "realname" in meta["scopes_supported"] and "idcard" in meta["scopes_supported"]
    assert meta["request_uri_parameter_supported"] is False


def test_jwks_publishes_public_rs256_and_es256_keys_only(browser_client: FlaskClient) -> None:
    keys = browser_client.get("/jwks").get_json()["keys"]
    assert {k["alg"] for k in keys} == {"RS256", "ES256"}
    for key in keys:
        assert key["kid"] and key["use"] == "sig"
        assert "d" not in key and "p" not in key


def _keyset(client: FlaskClient) -> KeySet:
    return KeySet.import_key_set(client.get("/jwks").get_json())


def test_code_flow_issues_verifiable_tokens(signed_in: FlaskClient, rp: str, person: Person) -> None:
    result = authorize(signed_in)
    q = query_of(result.location)
    assert result.location.startswith(RP_REDIRECT + "?")
    assert q["state"] == result.state
    assert q["iss"] == ISSUER  # RFC 9207
    resp = exchange(signed_in, result)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.headers["Cache-Control"] == "no-store"
    token = resp.get_json()
    assert token["token_type"] == "Bearer" and token["refresh_token"]
    id_token = jwt.decode(token["id_token"], _keyset(signed_in), algorithms=["RS256"])
    claims: dict[str, Any] = id_token.claims
    assert claims["iss"] == ISSUER and claims["aud"] == "rp" and claims["sub"] == person.id
    assert claims["nonce"] == result.nonce
    assert claims["at_hash"] == half_hash(token["access_token"])
    assert abs(claims["auth_time"] - time.time()) < 60
    assert claims["sid"]
    assert claims["name"] == "张三" and claims["email"] == "zs@example.cn"
    access = jwt.decode(token["access_token"], _keyset(signed_in), algorithms=["RS256"])
    assert access.header["typ"] == "at+jwt"  # RFC 9068 §2.1
    assert access.claims["client_id"] == "rp" and access.claims["sub"] == person.id
    info = signed_in.get("/userinfo", headers={"Authorization": "Bearer " + token["access_token"]})
    assert info.status_code == 200
    assert info.get_json()["sub"] == person.id and info.get_json()["name"] == "张三"
    posted = signed_in.post("/userinfo", data={"access_token": token["access_token"]})
    assert posted.status_code == 200 and posted.get_json()["sub"] == person.id


def test_unauthenticated_authorize_goes_to_login_and_back(
    browser_client: FlaskClient, rp: str, person: Person
) -> None:
    resp = browser_client.get(
        "/authorize?response_type=code&client_id=rp&scope=openid&state=s1&nonce=n1"
        f"&redirect_uri={RP_REDIRECT}&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        "&code_challenge_method=S256&login_hint=zhangsan"
    )
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/login?")
    assert "login_hint=zhangsan" in resp.headers["Location"]


def test_prompt_none_without_session_answers_login_required(browser_client: FlaskClient, rp: str) -> None:
    resp = browser_client.get(
        f"/authorize?response_type=code&client_id=rp&scope=openid&state=xyz&prompt=none&redirect_uri={RP_REDIRECT}"
    )
    assert resp.status_code == 302
    q = query_of(resp.headers["Location"])
    assert q == {
        "error": "login_required",
        "error_description": q["error_description"],
        "state": "xyz",
        "iss": ISSUER,
    }


def test_prompt_login_forces_a_new_sign_in(signed_in: FlaskClient, rp: str) -> None:
    resp = signed_in.get(
        f"/authorize?response_type=code&client_id=rp&scope=openid&state=s&prompt=login&redirect_uri={RP_REDIRECT}"
    )
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login?")


def test_max_age_zero_forces_a_new_sign_in(signed_in: FlaskClient, rp: str) -> None:
    time.sleep(1.1)
    resp = signed_in.get(
        f"/authorize?response_type=code&client_id=rp&scope=openid&state=s&max_age=0&redirect_uri={RP_REDIRECT}"
    )
    assert resp.headers["Location"].startswith("/login?")


def test_third_party_client_asks_for_consent_first_party_does_not(
    signed_in: FlaskClient, public_rp: str, rp: str
) -> None:
    from tests.integration.oidc.conftest import PUBLIC_REDIRECT, csrf_of, pkce_pair

    _, challenge = pkce_pair()
    url = (
        f"/authorize?response_type=code&client_id=spa&scope=openid+email&state=s&redirect_uri={PUBLIC_REDIRECT}"
        f"&code_challenge={challenge}&code_challenge_method=S256"
    )
    page = signed_in.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-scope="email"' in html
    import re

    tx = re.search(r'name="tx" value="([^"]+)"', html)
    assert tx
    resp = signed_in.post(
        "/authorize/consent", data={"csrf_token": csrf_of(html), "tx": tx.group(1), "decision": "allow"}
    )
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/authorize?")
    final = signed_in.get(resp.headers["Location"])
    assert final.status_code == 302 and "code=" in final.headers["Location"]
    # First-party: straight to the code, no consent page.
    assert "code" in query_of(authorize(signed_in).location)
