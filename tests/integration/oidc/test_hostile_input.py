"""Hostile requests get the protocol's error or an error page: never a redirect to an unregistered
place, never a 5xx."""

from __future__ import annotations

from urllib.parse import quote, urlencode

import pytest
from flask.testing import FlaskClient

from tests.integration.oidc.conftest import RP_REDIRECT, basic

BAD_REDIRECTS = [
    "https://rp.example/callback/",
    "https://RP.example/callback",
    "HTTPS://rp.example/callback",
    "https://rp.example/callback?x=1",
    "https://rp.example/callback#frag",
    "https://rp.example/callback/../evil",
    "https://rp.example.evil.example/callback",
    "https://evil.example/?https://rp.example/callback",
    "https://rp.example@evil.example/callback",
    "https://rp.example%2Fcallback",
    "//evil.example/callback",
    "javascript:alert(1)",
    "https://rp.example/callback\r\nLocation: https://evil.example",
]


@pytest.mark.parametrize("redirect_uri", BAD_REDIRECTS)
def test_mismatched_redirect_uri_shows_an_error_page(
    signed_in: FlaskClient, rp: str, redirect_uri: str
) -> None:
    resp = signed_in.get(
        "/authorize?"
        + urlencode(
            {
                "response_type": "code",
                "client_id": "rp",
                "scope": "openid",
                "redirect_uri": redirect_uri,
                "state": "s",
            }
        )
    )
    assert resp.status_code == 400
    assert "Location" not in resp.headers
    assert "<script" not in resp.get_data(as_text=True).lower().replace("<script src", "")


def test_unknown_client_shows_an_error_page_with_escaped_echo(browser_client: FlaskClient) -> None:
    resp = browser_client.get(
        "/authorize?"
        + urlencode(
            {"response_type": "code", "client_id": "<img src=x>", "redirect_uri": "https://evil.example/"}
        )
    )
    assert resp.status_code == 400 and "Location" not in resp.headers
    assert "<img src=x>" not in resp.get_data(as_text=True)


def test_repeated_parameters_are_refused(signed_in: FlaskClient, rp: str) -> None:
    resp = signed_in.get(
        f"/authorize?response_type=code&client_id=rp&client_id=rp&redirect_uri={quote(RP_REDIRECT)}"
    )
    assert resp.status_code == 400 and "Location" not in resp.headers
    token = signed_in.post(
        "/token",
        data=b"grant_type=authorization_code&code=a&code=b",
        content_type="application/x-www-form-urlencoded",
        headers=basic(),
    )
    assert token.status_code == 400 and token.get_json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    "body,content_type",
    [
        (b"grant_type=authorization_code&code=%ff%fe", "application/x-www-form-urlencoded"),
        (b'{"grant_type": "authorization_code"}', "application/json"),
        (b"\xff\xfe\xfd", "application/x-www-form-urlencoded"),
        (b"grant_type=" + b"A" * 200_000, "application/x-www-form-urlencoded"),
        (b"", "text/plain"),
        (b"grant_type=password&username=a&password=b", "application/x-www-form-urlencoded"),
        (b"grant_type=implicit", "application/x-www-form-urlencoded"),
    ],
)
def test_token_endpoint_malformed_bodies(
    browser_client: FlaskClient, rp: str, body: bytes, content_type: str
) -> None:
    resp = browser_client.post("/token", data=body, content_type=content_type, headers=basic())
    assert 400 <= resp.status_code < 500
    assert resp.get_json()["error"] in {
        "invalid_request",
        "unsupported_grant_type",
        "invalid_grant",
        "invalid_client",
    }


@pytest.mark.parametrize(
    "path", ["/authorize", "/userinfo", "/end-session", "/introspect", "/revoke", "/token"]
)
def test_endpoints_survive_garbage(browser_client: FlaskClient, rp: str, path: str) -> None:
    for query in ("%ff%fe", "client_id=" + "x" * 10000, "redirect_uri=%00", "a=%E0%80%80&state=%0d%0a"):
        assert browser_client.get(f"{path}?{query}").status_code < 500
        assert (
            browser_client.post(
                f"{path}?{query}", data=b"\xff", content_type="application/octet-stream"
            ).status_code
            < 500
        )


def test_token_parameters_in_the_url_are_refused(browser_client: FlaskClient, rp: str) -> None:
    resp = browser_client.post("/token?grant_type=client_credentials", headers=basic())
    assert resp.get_json()["error"] == "invalid_request"


def test_request_uri_is_never_fetched(signed_in: FlaskClient, rp: str) -> None:
    resp = signed_in.get(
        "/authorize?"
        + urlencode(
            {
                "response_type": "code",
                "client_id": "rp",
                "scope": "openid",
                "redirect_uri": RP_REDIRECT,
                "state": "s",
                "request_uri": "http://127.0.0.1:1/req",
            }
        )
    )
    assert resp.status_code == 302 and "request_uri_not_supported" in resp.headers["Location"]
