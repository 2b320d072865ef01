"""Open-redirect probes: no request can produce a Location outside the configured targets, or a 5xx."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask, redirect
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.legacy_redirect.conftest import LOGIN_URL, PLATFORM_URL, PUBLIC_URL, get_raw

ALLOWED = {LOGIN_URL, PLATFORM_URL, PUBLIC_URL + "/", PUBLIC_URL + "/instructions"}

# PATH_INFO as a server hands it over: percent-decoded, raw bytes as latin-1 characters.
HOSTILE_PATHS = [
    "//evil.example",
    "//evil.example/",
    "///evil.example",
    "////evil.example/login.jsp",
    "/\\evil.example",
    "/\\\\evil.example",
    "/\\/evil.example",
    "/%2F%2Fevil.example",
    "/%5Cevil.example",
    "/https://evil.example",
    "/http:/evil.example",
    "/@evil.example",
    "/.evil.example",
    "/..//evil.example",
    "/login.jsp//evil.example",
    "//evil.example/login.jsp",
    "/login.jsp/\\evil.example",
    "/\r\nLocation: https://evil.example",
    "/login.jsp\r\nLocation: https://evil.example",
    "/\t//evil.example",
    "/\x00//evil.example",
    "/\xff\xfe\xfd",
    "/\xc0\xaf\xc0\xafevil.example",
    "/login.jsp\xff",
    "/" + "a" * 100_000,
    "/login.jsp" + "/" * 5_000,
    "/" + "%2F" * 5_000 + "evil.example",
]

HOSTILE_QUERIES = [
    {"next": "https://evil.example/"},
    {"next": "//evil.example"},
    {"url": "https://evil.example/"},
    {"redirect": "//evil.example"},
    {"redirect_uri": "https://evil.example/cb"},
    {"return_to": "/\\evil.example"},
    {"lang": "//evil.example"},
]

HOSTILE_HEADERS: list[dict[str, str]] = [
    {},
    {"Host": "evil.example"},
    {"X-Forwarded-Host": "evil.example"},
    {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https", "X-Forwarded-Port": "443"},
    {"X-Forwarded-Prefix": "//evil.example"},
    {"Forwarded": "host=evil.example;proto=https"},
    {"X-Original-URL": "//evil.example", "X-Rewrite-URL": "//evil.example"},
    {"Referer": "https://evil.example/phish"},
]


def assert_safe(response: Any) -> None:
    assert response.status_code < 500
    location = response.headers.get("Location")
    assert location is None or location in ALLOWED, location
    assert b"evil.example" not in response.get_data()
    assert all("evil.example" not in value for _name, value in response.headers.items())


@pytest.fixture(params=[0, 1], ids=["direct", "behind-proxy"])
def probe_client(request: pytest.FixtureRequest, make_app: Callable[..., Flask]) -> FlaskClient:
    return make_app(trusted_proxies=request.param).test_client()


@pytest.mark.parametrize("path", HOSTILE_PATHS, ids=lambda p: repr(p[:30]))
def test_hostile_paths(probe_client: FlaskClient, path: str) -> None:
    for headers in HOSTILE_HEADERS:
        assert_safe(get_raw(probe_client, path, headers=headers))
        assert_safe(probe_client.head(environ_overrides={"PATH_INFO": path}, headers=headers))


@pytest.mark.parametrize("path", ["/", "/login.jsp", "/index.jsp", "/unknown"])
@pytest.mark.parametrize("query", HOSTILE_QUERIES, ids=lambda q: next(iter(q)))
def test_redirect_parameters_are_ignored(probe_client: FlaskClient, path: str, query: dict[str, str]) -> None:
    for headers in HOSTILE_HEADERS:
        assert_safe(probe_client.get(path, query_string=query, headers=headers))


def test_forged_host_does_not_change_a_deep_link(client: FlaskClient) -> None:
    for headers in HOSTILE_HEADERS:
        response = client.get("/login.jsp", headers=headers)
        assert response.headers["Location"] == LOGIN_URL


def test_non_utf8_query_and_headers(client: FlaskClient) -> None:
    environ = {
        "QUERY_STRING": "next=%FF%FE&url=\xff\xfe",
        "HTTP_REFERER": "http://\xff\xfe/",
        "PATH_INFO": "/",
    }
    assert_safe(client.get(environ_overrides=environ))
    assert_safe(client.get(environ_overrides={**environ, "PATH_INFO": "/login.jsp"}))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=255), max_size=300),
    host=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=60),
)
def test_any_path_and_host_stay_within_configured_targets(client: FlaskClient, path: str, host: str) -> None:
    response = get_raw(client, "/" + path, headers={"Host": host, "X-Forwarded-Host": host})
    assert response.status_code < 500
    assert response.headers.get("Location") in ALLOWED | {None}


def test_a_redirect_to_an_unconfigured_location_is_suppressed(make_app: Callable[..., Flask]) -> None:
    app = make_app()
    # Stands for a future bug: a view that builds a Location from the request.
    app.add_url_rule("/broken", "broken", lambda: redirect("https://evil.example/"))
    response = app.test_client().get("/broken")
    assert response.status_code == 200
    assert "Location" not in response.headers
    assert "您正在进入" in response.get_data(as_text=True)
