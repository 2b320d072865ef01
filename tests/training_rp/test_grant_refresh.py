"""The IdP's tokens behind a session: kept sealed, refreshed when old, and what a refresh decides.

The issuer is a real HTTP server on loopback (:mod:`tests.training_rp.refreshing_issuer`), so the
relying party's token endpoint calls, JWKS fetches and ID-token checks all run for real.
"""

from __future__ import annotations

import html
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from tests.training_rp.conftest import rp_overrides
from tests.training_rp.forging_issuer import (
    SigningKey,
    hmac_with_public_key,
    jws,
    unsigned,
)
from tests.training_rp.helpers import (
    add_department_user,
    csrf_token_of,
    is_signed_in,
    services_of,
    sign_in,
    synthetic_id,
)
from tests.training_rp.refreshing_issuer import UNIT, RefreshingIssuer
from training_rp import create_app
from training_rp.crypto import RefreshTokenCipher, UndecryptableData
from training_rp.db import utcnow
from training_rp.models import RpSession


@pytest.fixture(scope="module")
def issuer_server() -> Iterator[RefreshingIssuer]:
    """Replaces the plain forging issuer for this module: the ``issuer`` and ``app`` fixtures use it."""
    server = RefreshingIssuer()
    server.start()
    yield server
    server.stop()


@pytest.fixture()
def person(app: Flask, issuer: RefreshingIssuer) -> None:
    add_department_user(app, serial=2)
    issuer.person.id_number = synthetic_id(2)


def session_row(app: Flask) -> RpSession:
    with services_of(app).db.transaction() as tx:
        rows = tx.scalars(select(RpSession).where(RpSession.sub.is_not(None))).all()
    assert len(rows) == 1, f"expected one signed-in session, found {len(rows)}"
    return rows[0]


def age_tokens(app: Flask, seconds: int) -> None:
    """Make the session's tokens look ``seconds`` old (instead of sleeping)."""
    then = utcnow() - timedelta(seconds=seconds)
    with services_of(app).db.transaction() as tx:
        tx.execute(update(RpSession).values(tokens_obtained_at=then))


def page_text(client: FlaskClient, path: str = "/") -> str:
    return html.unescape(client.get(path).data.decode())


def refresh_now(client: FlaskClient) -> Any:
    return client.post("/refresh", data={"csrf_token": csrf_token_of(client)})


# --- storage ---------------------------------------------------------------------------------------


def test_the_refresh_token_is_sealed_in_the_session_row_and_never_in_the_cookie(
    app: Flask, client: FlaskClient, issuer: RefreshingIssuer, person: None
) -> None:
    response = sign_in(client)
    [refresh_token] = issuer.live_refresh_tokens()
    row = session_row(app)
    assert row.refresh_token_sealed is not None and row.refresh_key_id == "k1"
    assert refresh_token.encode() not in row.refresh_token_sealed
    assert refresh_token not in row.data and "refresh" not in json.loads(row.data)
    assert refresh_token not in response.headers.get("Set-Cookie", "")
    assert refresh_token not in client.get("/").data.decode()
    assert row.tokens_obtained_at is not None and row.access_expires_at is not None
    assert timedelta(seconds=290) < row.access_expires_at - row.tokens_obtained_at <= timedelta(seconds=300)


def test_a_sealed_refresh_token_opens_only_for_its_own_subject() -> None:
    cipher = RefreshTokenCipher({"k1": b"\3" * 32}, "k1")
    key_id, blob = cipher.seal("rt-secret", "sub-a")
    assert cipher.open(key_id, blob, "sub-a") == "rt-secret"
    with pytest.raises(UndecryptableData):
        cipher.open(key_id, blob, "sub-b")
    with pytest.raises(UndecryptableData):
        cipher.open(key_id, blob[:-1] + bytes([blob[-1] ^ 1]), "sub-a")
    with pytest.raises(UndecryptableData):
        RefreshTokenCipher({"k2": b"\3" * 32}, "k2").open(key_id, blob, "sub-a")


# --- when a refresh happens ------------------------------------------------------------------------


def test_no_refresh_before_rp_refresh_after(
    app: Flask, client: FlaskClient, issuer: RefreshingIssuer, person: None
) -> None:
    sign_in(client)
    for _ in range(3):
        assert client.get("/").status_code == 200
    assert issuer.refresh_requests == []


def test_an_old_access_token_is_refreshed_on_the_next_page_load_and_rotated(
    app: Flask, client: FlaskClient, issuer: RefreshingIssuer, person: None
) -> None:
    sign_in(client)
    [first] = issuer.live_refresh_tokens()
    before = session_row(app)
    age_tokens(app, 301)
    assert client.get("/projects").status_code == 200
    assert [r["refresh_token"] for r in issuer.refresh_requests] == [first]
    [second] = issuer.live_refresh_tokens()
    after = session_row(app)
    assert second != first and after.refresh_token_sealed != before.refresh_token_sealed
    assert after.tokens_obtained_at is not None and utcnow() - after.tokens_obtained_at < timedelta(seconds=5)
    assert after.refresh_blocked_until is None
    # Fresh again: the next page loads do not call the IdP.
    client.get("/")
    assert len(issuer.refresh_requests) == 1
    # The next refresh presents the rotated token, never the used one (whose reuse revokes all).
    age_tokens(app, 301)
    client.get("/")
    assert [r["refresh_token"] for r in issuer.refresh_requests] == [first, second]
    assert is_signed_in(client)


def test_an_expired_access_token_is_refreshed_even_before_rp_refresh_after(
    app: Flask, client: FlaskClient, issuer: RefreshingIssuer, person: None
) -> None:
    sign_in(client)
    with services_of(app).db.transaction() as tx:
        tx.execute(update(RpSession).values(access_expires_at=utcnow() - timedelta(seconds=1)))
    client.get("/")
    assert len(issuer.refresh_requests) == 1


def test_rp_refresh_after_is_a_setting(issuer: RefreshingIssuer, database_url: str) -> None:
    application = create_app(rp_overrides(issuer, database_url, refresh_after=30))
    try:
        add_department_user(application, serial=2)
        issuer.person.id_number = synthetic_id(2)
        client = application.test_client()
        sign_in(client)
        age_tokens(application, 31)
        client.get("/")
        assert len(issuer.refresh_requests) == 1
    finally:
        services_of(application).db.engine.dispose()


def test_the_refresh_button_asks_the_idp_at_once(
    app: Flask, client: FlaskClient, issuer: RefreshingIssuer, person: None
) -> None:
    sign_in(client)
    response = refresh_now(client)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert len(issuer.refresh_requests) == 1
    assert "授权信息已更新" in page_text(client)


def test_the_refresh_button_needs_a_csrf_token(
    app: Flask, client: FlaskClient, issuer: RefreshingIssuer, person: None
) -> None:
    sign_in(client)
    assert client.post("/refresh").status_code == 400
    assert client.post("/refresh", data={"csrf_token": "forged"}).status_code == 400
    assert issuer.refresh_requests == []


def test_the_refresh_button_needs_a_sign_in(
    app: Flask, client: FlaskClient, issuer: RefreshingIssuer
) -> None:
    # The login page's round trip gives an anonymous session a CSRF token to send.
    app.config["WTF_CSRF_ENABLED"] = False
    response = client.post("/refresh")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert issuer.refresh_requests == []


def test_health_checks_and_posts_never_refresh(
    app: Flask, client: FlaskClient, issuer: RefreshingIssuer, person: None
) -> None:
    sign_in(client)
    age_tokens(app, 301)
    for path in ("/healthz", "/readyz", "/static/style.css"):
        assert client.get(path).status_code == 200
    assert issuer.refresh_requests == []


def test_a_sign_in_without_a_refresh_token_never_refreshes(
    app: Flask, client: FlaskClient, issuer: RefreshingIssuer, person: None
) -> None:
    issuer.issue_refresh_tokens = False
    sign_in(client)
    age_tokens(app, 3600)
    assert client.get("/").status_code == 200
    refresh_now(client)
    assert issuer.refresh_requests == []
    assert "本次登录没有可更新的授权" in page_text(client)
    assert is_signed_in(client)


def test_two_page_loads_at_once_refresh_once(
    app: Flask, client: FlaskClient, issuer: RefreshingIssuer, person: None
) -> None:
    sign_in(client)
    age_tokens(app, 301)
    issuer.refresh_delay = 0.5
    cookie = client.get_cookie("training_session")
    assert cookie is not None
    statuses: list[int] = []

    def load() -> None:
        other = app.test_client()
        other.set_cookie("training_session", cookie.value)
        statuses.append(other.get("/").status_code)

    threads = [threading.Thread(target=load) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert statuses == [200, 200, 200, 200]
    # Presenting one refresh token twice would have revoked the whole grant at the IdP.
    assert len(issuer.refresh_requests) == 1
    assert len(issuer.live_refresh_tokens()) == 1 and is_signed_in(client)


# --- acting for a unit -----------------------------------------------------------------------------


def test_the_home_page_shows_acting_for_oneself(
    app: Flask, client: FlaskClient, issuer: RefreshingIssuer, person: None
) -> None:
    sign_in(client)
    text = page_text(client)
    assert 'id="acting-for" data-kind="self"' in text and "个人" in text
    assert "出国(境)培训归口管理部门用户" in text


def test_the_home_page_shows_the_unit_and_role_next_to_the_account_role(
    app: Flask, client: FlaskClient, issuer: RefreshingIssuer, person: None
) -> None:
    issuer.acting_for = UNIT
    sign_in(client)
    text = page_text(client)
    assert 'data-kind="unit"' in text
    assert f'<span id="acting-unit">{UNIT["name"]}</span>' in text
    assert f'<span id="acting-credit-code">{UNIT["credit_code"]}</span>' in text
    assert '<span id="acting-role">事项办理员</span>' in text
    assert "出国(境)培训归口管理部门用户" in text
    client.get("/lang/en")
    assert '<span id="acting-role">Matter handler</span>' in page_text(client)


@pytest.mark.parametrize(
    "claim",
    [
        "a unit",
        {**UNIT, "type": "natural_person"},
        {**UNIT, "credit_code": "123"},
        {**UNIT, "credit_code": "91110108MA01ABCD2<"},
        {**UNIT, "name": ""},
        {**UNIT, "name": "单" * 201},
        {**UNIT, "role": "superuser"},
        {k: v for k, v in UNIT.items() if k != "role"},
    ],
    ids=["string", "type", "short-code", "code-chars", "empty-name", "long-name", "role", "no-role"],
)
def test_a_malformed_unit_claim_is_refused_at_sign_in(
    app: Flask, client: FlaskClient, issuer: RefreshingIssuer, person: None, claim: Any
) -> None:
    issuer.acting_for = claim
    response = sign_in(client)
    assert response.status_code == 400
    assert not is_signed_in(client)


def test_a_withdrawn_unit_ends_the_session_and_the_page_says_so(
    app: Flask, client: FlaskClient, issuer: RefreshingIssuer, person: None
) -> None:
    issuer.acting_for = UNIT
    sign_in(client)
    issuer.refresh_error = "invalid_grant"
    age_tokens(app, 301)
    response = client.get("/projects")
    text = html.unescape(response.data.decode())
    assert response.status_code == 403
    assert 'data-outcome="withdrawn"' in text
    assert f"您代表{UNIT['name']}(统一社会信用代码:{UNIT['credit_code']})以事项办理员身份" in text
    assert "授权已被撤销" in text
    assert 'id="sign-in-again"' in text and 'id="logout"' not in text
    assert not is_signed_in(client)
    with services_of(app).db.transaction() as tx:
        assert tx.scalars(select(RpSession).where(RpSession.sub.is_not(None))).all() == []


def test_the_refresh_button_also_ends_a_withdrawn_unit_session(
    app: Flask, client: FlaskClient, issuer: RefreshingIssuer, person: None
) -> None:
    issuer.acting_for = UNIT
    sign_in(client)
    issuer.refresh_error = "invalid_grant"
    response = refresh_now(client)
    assert response.status_code == 403 and "授权已被撤销" in html.unescape(response.data.decode())
    assert not is_signed_in(client)


def test_a_unit_the_idp_stops_asserting_is_withdrawn_too(
    app: Flask, client: FlaskClient, issuer: RefreshingIssuer, person: None
) -> None:
    issuer.acting_for = UNIT
    sign_in(client)
    issuer.drop_unit_on_refresh = True
    response = refresh_now(client)
    assert response.status_code == 403 and "授权已被撤销" in html.unescape(response.data.decode())
    assert not is_signed_in(client)


def test_another_unit_or_role_on_refresh_is_withdrawn(
    app: Flask, client: FlaskClient, issuer: RefreshingIssuer, person: None
) -> None:
    issuer.acting_for = UNIT
    sign_in(client)

    def other_role(claims: dict[str, Any], iss: RefreshingIssuer) -> str:
        claims["acting_for"] = {**UNIT, "role": "matter_manager", "role_name": "事项管理员"}
        return jws(claims, iss.rsa)

    issuer.refresh_hook = other_role
    assert refresh_now(client).status_code == 403
    assert not is_signed_in(client)


def test_a_unit_appearing_on_a_personal_session_is_rejected(
    app: Flask, client: FlaskClient, issuer: RefreshingIssuer, person: None
) -> None:
    sign_in(client)

    def add_unit(claims: dict[str, Any], iss: RefreshingIssuer) -> str:
        claims["acting_for"] = UNIT
        return jws(claims, iss.rsa)

    issuer.refresh_hook = add_unit
    response = refresh_now(client)
    assert response.status_code == 403 and 'data-outcome="rejected"' in response.data.decode()
    assert not is_signed_in(client)


def test_invalid_grant_on_a_personal_session_ends_it_too(
    app: Flask, client: FlaskClient, issuer: RefreshingIssuer, person: None
) -> None:
    sign_in(client)
    issuer.refresh_error = "invalid_grant"
    response = refresh_now(client)
    text = html.unescape(response.data.decode())
    assert response.status_code == 403 and "统一身份认证平台已不再认可本次登录" in text
    assert not is_signed_in(client)


def test_a_replayed_refresh_token_revokes_the_grant_and_ends_the_session(
    app: Flask, client: FlaskClient, issuer: RefreshingIssuer, person: None
) -> None:
    """If a copy of the refresh token was used elsewhere first, the IdP's reuse detection wins."""
    sign_in(client)
    [stolen] = issuer.live_refresh_tokens()
    issuer.grants[stolen].used = True  # the thief refreshed first
    assert refresh_now(client).status_code == 403
    assert not is_signed_in(client)


# --- the refreshed ID token is checked like a sign-in ---------------------------------------------


def _forge(change: dict[str, Any]) -> Any:
    def hook(claims: dict[str, Any], iss: RefreshingIssuer) -> str:
        claims.update(change)
        return jws({k: v for k, v in claims.items() if v is not None}, iss.rsa)

    return hook


OTHER_KEY = SigningKey.rsa("rsa-1")


@pytest.mark.parametrize(
    "hook",
    [
        _forge({"sub": "sub-9999"}),
        _forge({"iss": "https://evil.example"}),
        _forge({"aud": "another-client"}),
        _forge({"aud": ["training", "another-client"]}),
        _forge({"azp": "another-client"}),
        _forge({"exp": 1_000_000_000}),
        _forge({"iat": 1_000_000_000}),
        _forge({"iat": None}),
        _forge({"nonce": "not-the-original"}),
        _forge({"auth_time": 1_000_000_000}),
        _forge({"sid": "another-idp-session"}),
        _forge({"at_hash": "AAAAAAAAAAAAAAAAAAAAAA"}),
        lambda claims, iss: unsigned(claims),
        lambda claims, iss: hmac_with_public_key(claims, iss.rsa),
        lambda claims, iss: jws(claims, OTHER_KEY),
        lambda claims, iss: jws(claims, iss.rsa, kid="unknown-kid"),
        lambda claims, iss: jws(claims, iss.rsa, jku="https://evil.example/jwks"),
        lambda claims, iss: jws(claims, iss.rsa, crit=["exp"]),
        lambda claims, iss: "not.a.token",
    ],
    ids=[
        "other-sub",
        "iss",
        "aud",
        "extra-aud",
        "azp",
        "expired",
        "old-iat",
        "no-iat",
        "other-nonce",
        "auth_time",
        "other-sid",
        "at_hash",
        "alg-none",
        "hs256-public-key",
        "wrong-key",
        "unknown-kid",
        "jku",
        "crit",
        "garbage",
    ],
)
def test_a_forged_or_wrong_refreshed_id_token_ends_the_session(
    app: Flask, client: FlaskClient, issuer: RefreshingIssuer, person: None, hook: Any
) -> None:
    sign_in(client)
    issuer.refresh_hook = hook
    response = refresh_now(client)
    assert response.status_code == 403
    assert 'data-outcome="rejected"' in response.data.decode()
    assert not is_signed_in(client)


def test_a_refreshed_id_token_repeating_the_original_nonce_is_accepted(
    app: Flask, client: FlaskClient, issuer: RefreshingIssuer, person: None
) -> None:
    sign_in(client)
    [grant] = issuer.grants.values()
    issuer.refresh_hook = _forge({"nonce": grant.nonce})
    refresh_now(client)
    assert "授权信息已更新" in page_text(client) and is_signed_in(client)


def test_a_refresh_without_an_id_token_ends_the_session(
    app: Flask, client: FlaskClient, issuer: RefreshingIssuer, person: None
) -> None:
    sign_in(client)
    issuer.omit_id_token_on_refresh = True
    assert refresh_now(client).status_code == 403
    assert not is_signed_in(client)


# --- the IdP unreachable ---------------------------------------------------------------------------


def test_an_unreachable_idp_keeps_the_session_and_pauses_before_trying_again(
    app: Flask, client: FlaskClient, issuer: RefreshingIssuer, person: None
) -> None:
    sign_in(client)
    issuer.refresh_error = "down"
    age_tokens(app, 301)
    assert client.get("/").status_code == 200
    assert len(issuer.refresh_requests) == 1
    row = session_row(app)
    assert row.refresh_blocked_until is not None and row.refresh_blocked_until > utcnow()
    # Within the pause no page waits for the IdP again.
    assert client.get("/projects").status_code == 200
    assert len(issuer.refresh_requests) == 1
    assert "正在更新" in html.unescape(refresh_now(client).data.decode() + page_text(client))
    # After the pause, with the IdP back, the same refresh token still works.
    issuer.refresh_error = None
    with services_of(app).db.transaction() as tx:
        tx.execute(update(RpSession).values(refresh_blocked_until=utcnow() - timedelta(seconds=1)))
    client.get("/")
    assert len(issuer.refresh_requests) == 2 and is_signed_in(client)


def test_an_idp_answering_an_unexpected_error_is_treated_as_unavailable(
    app: Flask, client: FlaskClient, issuer: RefreshingIssuer, person: None
) -> None:
    sign_in(client)
    issuer.refresh_error = "server_error"
    refresh_now(client)
    assert "暂时无法访问" in page_text(client)
    assert is_signed_in(client)
