"""Server-side sessions (fixation, idle and absolute limits, cookie flags) and the logout button."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from tests.training_rp.conftest import rp_overrides
from tests.training_rp.forging_issuer import ForgingIssuer
from tests.training_rp.helpers import (
    add_department_user,
    callback_url_for,
    csrf_token_of,
    is_signed_in,
    services_of,
    sign_in,
    synthetic_id,
)
from training_rp import create_app
from training_rp.db import utcnow
from training_rp.models import RpSession
from training_rp.services.sessions import token_hash


@pytest.fixture()
def person(app: Flask, issuer: ForgingIssuer) -> None:
    add_department_user(app, serial=2)
    issuer.person.id_number = synthetic_id(2)


def test_an_anonymous_visit_stores_nothing(app: Flask, client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    with services_of(app).db.transaction() as tx:
        assert tx.scalars(select(RpSession)).all() == []


def test_sign_in_issues_a_new_session_id_and_the_old_one_is_dead(
    app: Flask, client: FlaskClient, person: None
) -> None:
    callback = callback_url_for(client)
    before = client.get_cookie("training_session")
    assert before is not None
    client.get(callback)
    after = client.get_cookie("training_session")
    assert after is not None and after.value != before.value
    planted = app.test_client()
    planted.set_cookie("training_session", before.value)
    assert not is_signed_in(planted)


def test_the_database_holds_a_hash_of_the_cookie_not_the_cookie(
    app: Flask, client: FlaskClient, person: None
) -> None:
    sign_in(client)
    token = client.get_cookie("training_session").value  # type: ignore[union-attr]
    with services_of(app).db.transaction() as tx:
        keys = tx.scalars(select(RpSession.id_hash)).all()
    assert token not in keys and token_hash(token) in keys


def test_cookie_flags(app: Flask, client: FlaskClient, person: None) -> None:
    response = client.get("/login")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie


def test_over_https_the_cookie_is_host_prefixed_and_secure(issuer: ForgingIssuer, database_url: str) -> None:
    app = create_app(rp_overrides(issuer, database_url, base_url="https://training.example"))
    response = app.test_client().get("/login", base_url="https://training.example")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-training_session=") and "Secure" in cookie
    assert "Strict-Transport-Security" in response.headers


def _age_session(app: Flask, client: FlaskClient, **values: object) -> None:
    token = client.get_cookie("training_session").value  # type: ignore[union-attr]
    with services_of(app).db.transaction() as tx:
        tx.execute(update(RpSession).where(RpSession.id_hash == token_hash(token)).values(**values))


def test_an_idle_session_ends(app: Flask, client: FlaskClient, person: None) -> None:
    sign_in(client)
    assert is_signed_in(client)
    _age_session(app, client, last_seen_at=utcnow() - timedelta(seconds=1801))
    assert not is_signed_in(client)


def test_an_active_session_still_ends_at_its_absolute_lifetime(
    app: Flask, client: FlaskClient, person: None
) -> None:
    sign_in(client)
    _age_session(app, client, expires_at=utcnow() - timedelta(seconds=1))
    assert not is_signed_in(client)


def test_expired_rows_are_purged(app: Flask, client: FlaskClient, person: None) -> None:
    sign_in(client)
    _age_session(app, client, expires_at=utcnow() - timedelta(seconds=1))
    assert services_of(app).sessions.purge_expired() == 1


def test_logout_ends_the_local_session_and_goes_to_the_idps_end_session_endpoint(
    app: Flask, client: FlaskClient, issuer: ForgingIssuer, person: None
) -> None:
    sign_in(client)
    response = client.post("/logout", data={"csrf_token": csrf_token_of(client)})
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == issuer.url + "/logout"
    params = parse_qs(target.query)
    assert params["post_logout_redirect_uri"] == ["http://127.0.0.1:8002/"]
    assert params["client_id"] == ["training"]
    assert params["id_token_hint"][0].count(".") == 2
    assert params["state"][0]
    assert not is_signed_in(client)
    with services_of(app).db.transaction() as tx:
        assert tx.scalars(select(RpSession).where(RpSession.sub.is_not(None))).all() == []


def test_logout_without_the_csrf_token_is_refused(app: Flask, client: FlaskClient, person: None) -> None:
    sign_in(client)
    response = client.post("/logout")
    assert response.status_code == 400
    assert is_signed_in(client)


def test_logout_still_ends_the_local_session_when_the_idp_is_down(
    app: Flask, client: FlaskClient, issuer: ForgingIssuer, person: None
) -> None:
    sign_in(client)
    provider = services_of(app).provider
    provider.app.server_metadata.pop("_loaded_at", None)
    provider.app._server_metadata_url = "http://127.0.0.1:9/.well-known/openid-configuration"
    response = client.post("/logout", data={"csrf_token": csrf_token_of(client)})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert not is_signed_in(client)


def test_security_headers_on_pages(app: Flask, client: FlaskClient) -> None:
    response = client.get("/")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"


def test_language_switch_keeps_to_the_site(app: Flask, client: FlaskClient) -> None:
    response = client.get("/lang/en?next=//evil.example")
    assert response.headers["Location"] == "/"
    assert "Sign in" in client.get("/").data.decode()
    assert client.get("/lang/fr").status_code == 404
