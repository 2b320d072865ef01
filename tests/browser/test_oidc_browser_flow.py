"""Signing in to the IdP in a real headless Chromium, from an authorization request to the client's callback.

A live ``idp serve`` (two workers, SQLite, embedded store) and a tiny HTTP server standing in for the
relying party's redirect URI, which records every query string it receives. The browser is driven
like a person: open the authorization URL, see the 自然人登录 tab, type, press 用户登录.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from tests.interop.live_idp import HTTP_TIMEOUT, LiveIdP, live_idp
from tests.support.live import free_port

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

CLIENT_ID = "browser-rp"
CLIENT_SECRET = "browser-rp-secret-" + secrets.token_hex(8)
USERNAME = "browser_li"
PASSWORD = "Browser-Passw0rd-" + secrets.token_hex(4)
WRONG_PASSWORD_MESSAGE = "登录名或密码错误"
CALLBACK_PATH = "/callback"


class Callbacks:
    """The relying party's redirect URI: answers every GET and records its query string."""

    def __init__(self) -> None:
        self.received: list[dict[str, list[str]]] = []
        self._lock = threading.Lock()
        callbacks = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
                target = urlsplit(self.path)
                if target.path != CALLBACK_PATH:
                    # The browser's own requests (favicon) are not authorization responses.
                    self.send_error(404)
                    return
                with callbacks._lock:
                    callbacks.received.append(parse_qs(target.query))
                body = b"<!doctype html><title>relying party</title><p>callback received</p>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature of the base class
                """Quiet: the query strings hold authorization codes."""

        self._server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}{CALLBACK_PATH}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="rp-callback", daemon=True)

    def __enter__(self) -> Callbacks:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def count(self) -> int:
        with self._lock:
            return len(self.received)

    def last(self) -> dict[str, list[str]]:
        with self._lock:
            assert self.received, "nothing reached the redirect URI"
            return self.received[-1]


@dataclass(frozen=True)
class Setup:
    idp: LiveIdP
    callbacks: Callbacks


@dataclass
class AuthorizationRequest:
    url: str
    state: str
    verifier: str
    nonce: str = field(default_factory=lambda: secrets.token_urlsafe(12))


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    with Callbacks() as callbacks, live_idp(tmp_path_factory.mktemp("idp-browser")) as idp:
        idp.add_client(CLIENT_ID, callbacks.url, secret=CLIENT_SECRET, first_party=True)
        idp.add_user(USERNAME, PASSWORD, "李四", "lisi@example.cn")
        yield Setup(idp, callbacks)


def authorization_request(setup: Setup) -> AuthorizationRequest:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    state = secrets.token_urlsafe(12)
    request = AuthorizationRequest(url="", state=state, verifier=verifier)
    request.url = f"{setup.idp.issuer}/authorize?" + urlencode(
        {
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": setup.callbacks.url,
            "scope": "openid profile",
            "state": state,
            "nonce": request.nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    return request


def open_login_page(page: Any, setup: Setup, request: AuthorizationRequest) -> None:
    page.goto(request.url)
    page.wait_for_url(re.compile(re.escape(setup.idp.issuer) + r"/login\?"))
    natural = page.get_by_role("tab", name="自然人登录")
    assert natural.get_attribute("aria-selected") == "true"
    assert page.get_by_role("tab", name="法人登录").get_attribute("aria-selected") == "false"


def callback_url(setup: Setup) -> re.Pattern[str]:
    return re.compile(re.escape(setup.callbacks.url) + r"\?.+")


def submit_login(page: Any, username: str, password: str) -> None:
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.get_by_role("button", name="用户登录").click()


def test_sign_in_returns_code_state_and_iss_then_single_sign_on(
    page: Any, setup: Setup, tmp_path: Path
) -> None:
    first = authorization_request(setup)
    open_login_page(page, setup, first)
    shot = tmp_path / "login-page.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000, "the login page screenshot is (nearly) empty"

    submit_login(page, USERNAME, PASSWORD)
    page.wait_for_url(callback_url(setup))
    assert "callback received" in page.locator("body").inner_text()
    query = setup.callbacks.last()
    assert query["state"] == [first.state]
    assert query["iss"] == [setup.idp.issuer]  # RFC 9207
    assert len(query["code"]) == 1 and query["code"][0]

    # The code the browser carried is a real one: the relying party redeems it with its PKCE verifier.
    tokens = requests.post(
        f"{setup.idp.issuer}/token",
        data={
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": setup.callbacks.url,
            "code_verifier": first.verifier,
        },
        auth=(CLIENT_ID, CLIENT_SECRET),
        timeout=HTTP_TIMEOUT,
    )
    assert tokens.status_code == 200, tokens.text
    assert tokens.json()["id_token"] and tokens.json()["access_token"]

    # Single sign-on: a second authorization request in the same browser comes straight back.
    navigations: list[str] = []
    page.on("request", lambda r: navigations.append(r.url) if r.is_navigation_request() else None)
    second = authorization_request(setup)
    received_before = setup.callbacks.count()
    page.goto(second.url)
    page.wait_for_url(callback_url(setup))
    assert not [url for url in navigations if urlsplit(url).path == "/login"], navigations
    assert setup.callbacks.count() == received_before + 1
    again = setup.callbacks.last()
    assert again["state"] == [second.state]
    assert again["iss"] == [setup.idp.issuer]
    assert again["code"] != query["code"]


def test_wrong_password_shows_the_error_on_the_login_page(page: Any, setup: Setup) -> None:
    request = authorization_request(setup)
    received_before = setup.callbacks.count()
    open_login_page(page, setup, request)
    submit_login(page, USERNAME, PASSWORD + "-wrong")

    alert = page.get_by_role("alert")
    alert.wait_for()
    assert WRONG_PASSWORD_MESSAGE in alert.inner_text()
    assert urlsplit(page.url).path == "/login"
    assert page.locator("#username").input_value() == USERNAME
    assert page.locator("#password").input_value() == "", "the password must not be sent back to the page"
    assert setup.callbacks.count() == received_before, "a failed sign-in reached the relying party"

    # The same page still works: the right password now signs in and returns to the client.
    submit_login(page, USERNAME, PASSWORD)
    page.wait_for_url(callback_url(setup))
    assert setup.callbacks.last()["state"] == [request.state]


def test_markup_typed_as_login_name_is_shown_as_text(page: Any, setup: Setup) -> None:
    request = authorization_request(setup)
    open_login_page(page, setup, request)
    hostile = '"><img src=x onerror="window.__injected=1">'
    submit_login(page, hostile, "whatever-password")

    page.get_by_role("alert").wait_for()
    assert page.locator("#username").input_value() == hostile
    assert page.evaluate("() => window.__injected === undefined")
    assert page.locator("img[src=x]").count() == 0
