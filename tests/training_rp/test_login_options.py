"""``/login?prompt=login`` and ``/login?max_age=N``: passed to the IdP, and checked in ``auth_time``."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from tests.training_rp.forging_issuer import ForgingIssuer, jws
from tests.training_rp.helpers import add_department_user, is_signed_in, sign_in, synthetic_id
from training_rp.errors import InvalidInput, LoginRejected
from training_rp.oidc.options import LoginOptions, check_reauthentication, parse_login_options


@pytest.fixture()
def person(app: Flask, issuer: ForgingIssuer) -> None:
    add_department_user(app, serial=2)
    issuer.person.id_number = synthetic_id(2)


def sign_in_with(client: FlaskClient, query: str) -> Any:
    """Start at ``/login`` + ``query``, let the issuer answer, deliver the callback."""
    response = client.get("/login" + query)
    assert response.status_code == 302, response.data[:300]
    authorize = requests.get(response.headers["Location"], allow_redirects=False, timeout=5)
    parts = urlsplit(authorize.headers["Location"])
    return client.get(f"{parts.path}?{parts.query}")


def authorize_params(client: FlaskClient, query: str) -> dict[str, list[str]]:
    response = client.get("/login" + query)
    assert response.status_code == 302, response.data[:300]
    return parse_qs(urlsplit(response.headers["Location"]).query)


def test_a_plain_sign_in_asks_for_nothing_more(app: Flask, client: FlaskClient) -> None:
    params = authorize_params(client, "")
    assert "prompt" not in params and "max_age" not in params


def test_prompt_login_and_max_age_travel_to_the_idp(app: Flask, client: FlaskClient) -> None:
    params = authorize_params(client, "?prompt=login&max_age=0&next=/projects")
    assert params["prompt"] == ["login"] and params["max_age"] == ["0"]


def test_a_signed_in_person_asking_for_a_new_login_goes_to_the_idp(
    app: Flask, client: FlaskClient, issuer: ForgingIssuer, person: None
) -> None:
    sign_in(client)
    assert client.get("/login").headers["Location"] == "/"
    assert (
        urlsplit(client.get("/login?prompt=login").headers["Location"]).netloc == urlsplit(issuer.url).netloc
    )


@pytest.mark.parametrize(
    "query",
    [
        "?prompt=none",
        "?prompt=consent",
        "?prompt=",
        "?prompt=login%20none",
        "?prompt=login&prompt=login",
        "?max_age=-1",
        "?max_age=abc",
        "?max_age=",
        "?max_age=1e3",
        "?max_age=%EF%BC%91",
        "?max_age=99999999999",
        "?max_age=1&max_age=2",
    ],
)
def test_hostile_options_get_a_clear_error_page(app: Flask, client: FlaskClient, query: str) -> None:
    response = client.get("/login" + query)
    assert response.status_code == 400
    assert "登录参数无效" in response.data.decode()
    assert "Traceback" not in response.data.decode()


def test_a_fresh_authentication_passes_max_age_and_prompt_login(
    app: Flask, client: FlaskClient, issuer: ForgingIssuer, person: None
) -> None:
    assert sign_in(client).status_code == 302
    response = sign_in_with(client, "?prompt=login&max_age=0&next=/projects")
    assert response.status_code == 302 and response.headers["Location"] == "/projects"
    assert is_signed_in(client)


def _with_auth_time(value: Any) -> Any:
    def hook(claims: dict[str, Any], iss: ForgingIssuer) -> str:
        claims["auth_time"] = value
        return jws({k: v for k, v in claims.items() if v is not None}, iss.rsa)

    return hook


@pytest.mark.parametrize(
    ("query", "auth_time"),
    [
        ("?max_age=60", -3600),
        ("?max_age=60", None),
        ("?max_age=60", "recent"),
        ("?prompt=login", -600),
        ("?prompt=login", None),
    ],
    ids=["too-old", "missing-with-max-age", "not-a-number", "before-the-request", "missing-with-prompt"],
)
def test_an_idp_that_skipped_the_re_authentication_is_refused(
    app: Flask, client: FlaskClient, issuer: ForgingIssuer, person: None, query: str, auth_time: Any
) -> None:
    value = int(time.time()) + auth_time if isinstance(auth_time, int) else auth_time
    issuer.token_hook = _with_auth_time(value)
    assert sign_in_with(client, query).status_code == 400
    assert not is_signed_in(client)


def test_the_check_itself() -> None:
    now = 1_000_000.0
    asked = LoginOptions(prompt_login=True, max_age=300).state_data(started_at=now - 10)
    check_reauthentication({"auth_time": int(now - 5)}, asked, now, skew=0)
    check_reauthentication({}, LoginOptions().state_data(now), now, skew=0)
    with pytest.raises(LoginRejected):
        check_reauthentication({"auth_time": True}, asked, now, skew=0)
    assert parse_login_options({}) == LoginOptions()
    assert parse_login_options({"max_age": ["0"]}) == LoginOptions(max_age=0)
    with pytest.raises(InvalidInput):
        parse_login_options({"prompt": ["select_account"]})
