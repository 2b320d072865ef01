"""RP-initiated logout and signing-key rotation."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import KeySet

from idp.oidc.keys import KeyService
from tests.integration.oidc.conftest import authorize, exchange


def test_end_session_with_hint_ends_the_session_and_returns_state(signed_in: FlaskClient, rp: str) -> None:
    tokens = exchange(signed_in, authorize(signed_in)).get_json()
    resp = signed_in.get(
        "/end-session?"
        + urlencode(
            {
                "id_token_hint": tokens["id_token"],
                "state": "bye1",
                "post_logout_redirect_uri": "https://rp.example/bye",
            }
        )
    )
    assert resp.status_code == 302
    assert resp.headers["Location"] == "https://rp.example/bye?state=bye1"
    # The SSO session is gone: authorize asks for a login again; tokens of the session are revoked.
    again = signed_in.get(
        "/authorize?"
        + urlencode(
            {
                "response_type": "code",
                "client_id": "rp",
                "scope": "openid",
                "redirect_uri": "https://rp.example/callback",
                "state": "s",
            }
        )
    )
    assert again.headers["Location"].startswith("/login?")
    refreshed = signed_in.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        headers={"Authorization": "Basic cnA6cnAtc2VjcmV0LTAxMjM0NTY3ODlhYmNkZWY="},
    )
    assert refreshed.get_json()["error"] == "invalid_grant"


def test_end_session_refuses_unregistered_targets(signed_in: FlaskClient, rp: str) -> None:
    tokens = exchange(signed_in, authorize(signed_in)).get_json()
    for target in ("https://evil.example/", "https://rp.example/bye/", "https://rp.example/bye?x=1"):
        resp = signed_in.get(
            "/end-session?"
            + urlencode({"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": target})
        )
        assert resp.status_code == 400 and "Location" not in resp.headers
    no_client = signed_in.get(
        "/end-session?" + urlencode({"post_logout_redirect_uri": "https://rp.example/bye"})
    )
    assert no_client.status_code == 400


def test_end_session_without_hint_asks_for_confirmation(signed_in: FlaskClient, rp: str) -> None:
    page = signed_in.get("/end-session")
    assert page.status_code == 200 and 'name="confirm"' in page.get_data(as_text=True)
    still = signed_in.get(
        "/authorize?"
        + urlencode(
            {
                "response_type": "code",
                "client_id": "rp",
                "scope": "openid",
                "redirect_uri": "https://rp.example/callback",
                "state": "s",
            }
        )
    )
    assert "code=" in still.headers["Location"]


def test_key_rotation_signs_with_the_new_key_and_keeps_the_old_published(
    signed_in: FlaskClient, rp: str, services: Any
) -> None:
    before = exchange(signed_in, authorize(signed_in)).get_json()
    old_kid = jwt.decode(
        before["id_token"], KeySet.import_key_set(signed_in.get("/jwks").get_json()), algorithms=["RS256"]
    ).header["kid"]
    new_kid, next_kid = KeyService(services.db, services.settings).rotate("RS256")
    ring = services.extras["oidc_server"].idp.keys
    ring.invalidate()
    jwks = signed_in.get("/jwks").get_json()
    kids = {k["kid"] for k in jwks["keys"]}
    assert {old_kid, new_kid, next_kid} <= kids
    after = exchange(signed_in, authorize(signed_in)).get_json()
    header = jwt.decode(after["id_token"], KeySet.import_key_set(jwks), algorithms=["RS256"]).header
    assert header["kid"] == new_kid
    # Tokens signed with the retired key still verify until they expire.
    info = signed_in.get("/userinfo", headers={"Authorization": "Bearer " + before["access_token"]})
    assert info.status_code == 200
