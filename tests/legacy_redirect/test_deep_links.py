"""Known old deep links answer 301 to the configured new home, and only to it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.legacy_redirect.conftest import LOGIN_URL, PUBLIC_URL


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/login.jsp", LOGIN_URL),
        ("/login.do", LOGIN_URL),
        ("/LOGIN.JSP", LOGIN_URL),
        ("/login.jsp/", LOGIN_URL),
        ("/login.jsp;jsessionid=8F2A", LOGIN_URL),
        ("/login.jsp?next=https://evil.example/", LOGIN_URL),
        ("/index.jsp", PUBLIC_URL + "/"),
        ("/index.html?from=bookmark", PUBLIC_URL + "/"),
        ("/help.jsp", PUBLIC_URL + "/instructions"),
    ],
)
def test_known_deep_links_answer_301(client: FlaskClient, path: str, location: str) -> None:
    response = client.get(path)
    assert response.status_code == 301
    assert response.headers["Location"] == location


def test_redirects_are_cached_for_a_bounded_time(make_app: Callable[..., Flask]) -> None:
    response = make_app(redirect_max_age=600).test_client().get("/login.jsp")
    assert response.headers["Cache-Control"] == "public, max-age=600"


def test_operator_map_replaces_the_shipped_one(make_app: Callable[..., Flask], tmp_path: Path) -> None:
    path = tmp_path / "redirects.txt"
    path.write_text("/portal/enter.do login\n/files/guide.pdf https://fuwu.example.test/guide.pdf\n", "utf-8")
    client = make_app(redirects_file=str(path)).test_client()
    assert client.get("/portal/enter.do").headers["Location"] == LOGIN_URL
    assert client.get("/files/guide.pdf").headers["Location"] == "https://fuwu.example.test/guide.pdf"
    assert client.get("/login.jsp").status_code == 200  # no longer mapped: the notice
