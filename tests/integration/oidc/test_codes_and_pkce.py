"""Authorization codes are single use; PKCE is S256-only and cannot be skipped or downgraded."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

from flask import Flask
from flask.testing import FlaskClient

from tests.integration.oidc.conftest import (
    PUBLIC_REDIRECT,
    RP_REDIRECT,
    authorize,
    basic,
    exchange,
    pkce_pair,
    query_of,
)


def test_replayed_code_is_refused_and_revokes_what_it_issued(signed_in: FlaskClient, rp: str) -> None:
    result = authorize(signed_in)
    first = exchange(signed_in, result)
    assert first.status_code == 200
    tokens = first.get_json()
    replay = exchange(signed_in, result)
    assert replay.status_code == 400 and replay.get_json()["error"] == "invalid_grant"
    info = signed_in.get("/userinfo", headers={"Authorization": "Bearer " + tokens["access_token"]})
    assert info.status_code == 401
    refreshed = signed_in.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        headers=basic(),
    )
    assert refreshed.get_json()["error"] == "invalid_grant"


def test_fifty_concurrent_redemptions_succeed_once(idp_app: Flask, signed_in: FlaskClient, rp: str) -> None:
    result = authorize(signed_in)

    def redeem(_: int) -> int:
        return int(exchange(idp_app.test_client(), result).status_code)

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(redeem, range(50)))
    assert statuses.count(200) == 1
    assert statuses.count(400) == 49


def test_code_expires(idp_app: Flask, signed_in: FlaskClient, rp: str, monkeypatch: object) -> None:
    result = authorize(signed_in)
    store = idp_app.extensions["idp"].store
    from idp.oidc.grants import code_key

    store.delete(code_key(result.code))  # what the 60 s TTL does
    assert exchange(signed_in, result).get_json()["error"] == "invalid_grant"


def test_code_is_bound_to_its_client(signed_in: FlaskClient, rp: str, services: object) -> None:
    from idp.oidc.clients import ClientService, ClientSpec

    ClientService(services.db, services.settings).add(  # type: ignore[attr-defined]
        ClientSpec(
            client_id="other", secret="other-secret-0123456789", redirect_uris=[RP_REDIRECT], first_party=True
        )
    )
    result = authorize(signed_in)
    stolen = exchange(signed_in, result, client_id="other", secret="other-secret-0123456789")
    assert stolen.get_json()["error"] == "invalid_grant"


def test_redirect_uri_must_match_at_the_token_endpoint(signed_in: FlaskClient, rp: str) -> None:
    result = authorize(signed_in)
    resp = exchange(signed_in, result, redirect_uri=RP_REDIRECT + "/")
    assert resp.get_json()["error"] == "invalid_grant"


def test_wrong_verifier_is_refused(signed_in: FlaskClient, rp: str) -> None:
    result = authorize(signed_in)
    result.verifier = pkce_pair()[0]
    resp = exchange(signed_in, result)
    assert resp.status_code == 400 and resp.get_json()["error"] == "invalid_grant"


def test_missing_verifier_is_refused_when_a_challenge_was_sent(signed_in: FlaskClient, rp: str) -> None:
    result = authorize(signed_in)
    resp = signed_in.post(
        "/token",
        data={"grant_type": "authorization_code", "code": result.code, "redirect_uri": RP_REDIRECT},
        headers=basic(),
    )
    assert resp.get_json()["error"] == "invalid_request"


def test_verifier_without_stored_challenge_is_refused(signed_in: FlaskClient, rp: str) -> None:
    resp = signed_in.get(
        "/authorize?"
        + urlencode(
            {
                "response_type": "code",
                "client_id": "rp",
                "redirect_uri": RP_REDIRECT,
                "scope": "openid",
                "state": "s",
            }
        )
    )
    code = query_of(resp.headers["Location"])["code"]
    token = signed_in.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": RP_REDIRECT,
            "code_verifier": pkce_pair()[0],
        },
        headers=basic(),
    )
    assert token.get_json()["error"] == "invalid_request"


def test_plain_and_implicit_method_are_refused(signed_in: FlaskClient, rp: str) -> None:
    for extra in ({"code_challenge_method": "plain"}, {}):
        params = {
            "response_type": "code",
            "client_id": "rp",
            "redirect_uri": RP_REDIRECT,
            "scope": "openid",
            "state": "s",
            "code_challenge": "a" * 43,
            **extra,
        }
        resp = signed_in.get("/authorize?" + urlencode(params))
        assert resp.status_code == 302
        assert query_of(resp.headers["Location"])["error"] == "invalid_request"


def test_public_client_must_use_pkce(signed_in: FlaskClient, public_rp: str) -> None:
    resp = signed_in.get(
        "/authorize?"
        + urlencode(
            {
                "response_type": "code",
                "client_id": "spa",
                "redirect_uri": PUBLIC_REDIRECT,
                "scope": "openid",
                "state": "s",
            }
        )
    )
    assert query_of(resp.headers["Location"])["error"] == "invalid_request"


def test_implicit_and_hybrid_response_types_are_refused(signed_in: FlaskClient, rp: str) -> None:
    for response_type in ("token", "id_token", "code id_token", "code token"):
        resp = signed_in.get(
            "/authorize?"
            + urlencode(
                {
                    "response_type": response_type,
                    "client_id": "rp",
                    "redirect_uri": RP_REDIRECT,
                    "scope": "openid",
                    "state": "s",
                }
            )
        )
        assert resp.status_code in (302, 400)
        if resp.status_code == 302:
            assert query_of(resp.headers["Location"])["error"] == "unsupported_response_type"
            assert "code" not in query_of(resp.headers["Location"])
