"""A running IdP app per test (on both storage set-ups), with a person and registered clients."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from idp import create_app
from idp.accounts.services import AccountService
from idp.db import Database
from idp.oidc.clients import ClientService, ClientSpec
from tests.support.services import redis_url

ISSUER = "http://idp.test"
RP_REDIRECT = "https://rp.example/callback"
PUBLIC_REDIRECT = "http://127.0.0.1:9999/cb"
RP_SECRET = "rp-secret-0123456789abcdef"
PASSWORD = "Corr3ct-Horse-Battery"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass
class Person:
    id: str
    username: str
    password: str


@pytest.fixture()
def idp_app(backend_name: str, database_url: str, database_on: Callable[[str], Database]) -> Iterator[Flask]:
    database_on(database_url)  # empties every table after the test
    overrides: dict[str, Any] = {
        "database_url": database_url,
        "issuer": ISSUER,
        "captcha": "off",
        "redis_url": redis_url() if backend_name == "postgres" else "",
        "redis_prefix": f"t{uuid.uuid4().hex[:12]}:",
    }
    app = create_app(overrides)
    app.config["TESTING"] = True
    yield app


@pytest.fixture()
def services(idp_app: Flask) -> Any:
    return idp_app.extensions["idp"]


@pytest.fixture()
def person(services: Any) -> Person:
    accounts = AccountService(services.db, services.store, services.settings)
    user = accounts.create_user("zhangsan", PASSWORD, name="张三", email="zs@example.cn")
    return Person(user.id, "zhangsan", PASSWORD)


@pytest.fixture()
def rp(services: Any) -> str:
    ClientService(services.db, services.settings).add(
        ClientSpec(
            client_id="rp",
            secret=RP_SECRET,
            redirect_uris=[RP_REDIRECT],
            post_logout_redirect_uris=["https://rp.example/bye"],
            first_party=True,
        )
    )
    return "rp"


@pytest.fixture()
def public_rp(services: Any) -> str:
    ClientService(services.db, services.settings).add(
        ClientSpec(client_id="spa", public=True, redirect_uris=[PUBLIC_REDIRECT], first_party=False)
    )
    return "spa"


def csrf_of(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def login(client: FlaskClient, person: Person, next_url: str = "/me") -> Any:
    page = client.get("/login?" + urlencode({"next": next_url}))
    assert page.status_code == 200
    return client.post(
        "/login?" + urlencode({"next": next_url}),
        data={
            "csrf_token": csrf_of(page.get_data(as_text=True)),
            "username": person.username,
            "password": person.password,
            "account_type": "natural",
        },
    )


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


@dataclass
class CodeResult:
    code: str
    verifier: str
    nonce: str
    state: str
    location: str


def authorize(
    client: FlaskClient,
    client_id: str = "rp",
    redirect_uri: str = RP_REDIRECT,
    scope: str = "openid profile email",
    **extra: str,
) -> CodeResult:
    """Run /authorize for a signed-in browser and return the code from the redirect."""
    verifier, challenge = pkce_pair()
    nonce, state = secrets.token_urlsafe(8), secrets.token_urlsafe(8)
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": scope,
        "state": state,
        "nonce": nonce,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    resp = client.get("/authorize?" + urlencode(params))
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    location = resp.headers["Location"]
    q = query_of(location)
    assert "code" in q, location
    return CodeResult(q["code"], verifier, nonce, state, location)


def exchange(
    client: FlaskClient,
    result: CodeResult,
    client_id: str = "rp",
    secret: str | None = RP_SECRET,
    redirect_uri: str = RP_REDIRECT,
) -> Any:
    data = {
        "grant_type": "authorization_code",
        "code": result.code,
        "redirect_uri": redirect_uri,
        "code_verifier": result.verifier,
    }
    headers = {}
    if secret is None:
        data["client_id"] = client_id
    else:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return client.post("/token", data=data, headers=headers)


def basic(client_id: str = "rp", secret: str = RP_SECRET) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


@pytest.fixture()
def browser_client(idp_app: Flask) -> FlaskClient:
    return idp_app.test_client()


@pytest.fixture()
def signed_in(browser_client: FlaskClient, person: Person) -> FlaskClient:
    resp = login(browser_client, person)
    assert resp.status_code == 303, resp.get_data(as_text=True)[:300]
    return browser_client
