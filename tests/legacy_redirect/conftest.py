"""Fixtures for the legacy host: in-process apps with chosen settings, and a real gunicorn server."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from legacy_redirect import create_app
from tests.support.live import free_port, running

LOGIN_URL = "https://fuwu.example.test/training/login"
PLATFORM_URL = "https://fuwu.example.test"
PUBLIC_URL = "https://otm.example.test"

#: Settings the in-process tests use: distinct, recognisable targets.
TEST_SETTINGS: dict[str, Any] = {
    "login_url": LOGIN_URL,
    "platform_url": PLATFORM_URL,
    "public_url": PUBLIC_URL,
}


@pytest.fixture()
def make_app(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Flask]:
    """Build an app from TEST_SETTINGS plus keyword overrides, ignoring any LEGACY_* of the shell."""
    import os

    for key in list(os.environ):
        if key.startswith("LEGACY_") or key == "PROMETHEUS_MULTIPROC_DIR":
            monkeypatch.delenv(key)

    def build(**overrides: Any) -> Flask:
        return create_app({**TEST_SETTINGS, **overrides})

    return build


@pytest.fixture()
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def get_raw(client: FlaskClient, path_info: str, **kwargs: Any) -> Any:
    """GET with PATH_INFO exactly as a server would hand it over (latin-1 decoded bytes)."""
    return client.get(environ_overrides={"PATH_INFO": path_info}, **kwargs)


@dataclass(frozen=True)
class LiveServer:
    url: str
    log_path: Path
    login_url: str
    port: int


def live_env(port: int, login_url: str) -> dict[str, str]:
    return {
        "LEGACY_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "LEGACY_LOGIN_URL": login_url,
        "LEGACY_PLATFORM_URL": "http://127.0.0.1:9/platform",
    }


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """``legacy-redirect serve`` with two gunicorn workers, as operators run it."""
    port = free_port()
    login_url = "http://127.0.0.1:9/training/login"
    log_path = tmp_path_factory.mktemp("legacy-live") / "server.log"
    args = [sys.executable, "-m", "legacy_redirect", "serve", "--port", str(port), "--workers", "2"]
    with running(args, live_env(port, login_url), f"http://127.0.0.1:{port}/healthz", log_path):
        yield LiveServer(f"http://127.0.0.1:{port}", log_path, login_url, port)
