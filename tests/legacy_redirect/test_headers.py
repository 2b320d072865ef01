"""Security and cache headers on every answer; HSTS only over HTTPS."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from legacy_redirect.security import CONTENT_SECURITY_POLICY


@pytest.mark.parametrize(
    "path",
    ["/", "/old/page.jsp", "/login.jsp", "/robots.txt", "/instructions", "/assets/notice.css", "/healthz"],
)
def test_security_headers_everywhere(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in response.headers
    response.close()


def test_policy_allows_no_script_frame_or_form() -> None:
    directives = dict(d.strip().split(" ", 1) for d in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["form-action"] == "'none'"
    assert "script-src" not in directives
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY


def test_error_pages_carry_the_headers_too(client: FlaskClient) -> None:
    response = client.delete("/")
    assert response.status_code == 405
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["Cache-Control"] == "no-store"


def test_hsts_on_https_requests(client: FlaskClient) -> None:
    response = client.get("/", base_url="https://otm.example.test")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    redirect = client.get("/login.jsp", base_url="https://otm.example.test")
    assert "Strict-Transport-Security" in redirect.headers


def test_hsts_can_be_disabled(make_app: Callable[..., Flask]) -> None:
    client = make_app(hsts_max_age=0).test_client()
    assert "Strict-Transport-Security" not in client.get("/", base_url="https://otm.example.test").headers


def test_forwarded_proto_is_believed_only_from_a_trusted_proxy(make_app: Callable[..., Flask]) -> None:
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"}
    direct = make_app().test_client().get("/", headers=headers)
    assert "Strict-Transport-Security" not in direct.headers
    proxied = make_app(trusted_proxies=1).test_client().get("/", headers=headers)
    assert proxied.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_language_cookie_is_secure_over_https(client: FlaskClient) -> None:
    response = client.get("/?lang=en", base_url="https://otm.example.test")
    assert "Secure" in response.headers["Set-Cookie"]


def test_notice_has_a_short_public_cache_time_and_varies_by_language(make_app: Callable[..., Flask]) -> None:
    response = make_app(notice_max_age=120).test_client().get("/")
    assert response.headers["Cache-Control"] == "public, max-age=120"
    assert {"Accept-Language", "Cookie"} <= {v.strip() for v in response.headers["Vary"].split(",")}


def test_metrics_are_never_cached(client: FlaskClient) -> None:
    assert client.get("/metrics").headers["Cache-Control"] == "no-store"
