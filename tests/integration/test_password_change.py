"""修改密码 (/me/password): the current password is checked like a sign-in, other sessions end, audited."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from idp.audit.services import details_of, events
from tests.integration.oidc.conftest import csrf_of, idp_app  # noqa: F401 - idp_app is a fixture
from tests.integration.test_registration import (
    PASSWORD,
    accounts_of,
    app,  # noqa: F401 - a fixture
    services_of,
    submit,
    text_of,
)

NEW_PASSWORD = "Shu-Dao-Nan-8848"
SESSION_COOKIE = "idp_sid"


@pytest.fixture()
def person(app: Flask) -> str:  # noqa: F811 - app is the imported fixture
    return accounts_of(app).create_user("li_taibai", PASSWORD, phone_number="13700137000").id


def sign_in(app: Flask, password: str = PASSWORD) -> FlaskClient:  # noqa: F811
    client = app.test_client()
    answer = submit(client, "/login", username="li_taibai", password=password, account_type="natural")
    assert answer.status_code == 303, text_of(answer)[:500]
    return client


def session_cookie(client: FlaskClient) -> str | None:
    cookie = client.get_cookie(SESSION_COOKIE)
    return cookie.value if cookie is not None else None


def change(client: FlaskClient, current: str, new: str, again: str | None = None) -> Any:
    return submit(client, "/me/password", current_password=current, password=new, password_again=again or new)


def test_change_keeps_this_browser_and_ends_the_others(app: Flask, person: str) -> None:  # noqa: F811
    here, elsewhere = sign_in(app), sign_in(app)
    page = here.get("/me/password")
    assert page.status_code == 200 and "修改密码" in text_of(page) and "li_taibai" in text_of(page)
    before = session_cookie(here)

    answer = change(here, PASSWORD, NEW_PASSWORD)
    assert answer.status_code == 303 and answer.headers["Location"] == "/account/done"
    assert "密码已修改" in text_of(here.get("/account/done"))

    after = session_cookie(here)
    assert after and after != before, "this browser continues under a new session id"
    assert here.get("/me/password").status_code == 200
    assert elsewhere.get("/me/password").status_code == 303, "the other session ended"
    stale = app.test_client()
    stale.set_cookie(SESSION_COOKIE, before or "")
    assert stale.get("/me/password").status_code == 303, "the old id of this browser is dead too"

    fresh = sign_in(app, NEW_PASSWORD)
    assert fresh.get("/me/password").status_code == 200, "new sign-ins are not affected"
    refused = submit(
        app.test_client(), "/login", username="li_taibai", password=PASSWORD, account_type="natural"
    )
    assert refused.status_code == 400

    with services_of(app).db.transaction() as session:
        (row,) = events(session, event="password.changed", target=person)
        assert row.actor == person and row.ip and row.request_id
        assert PASSWORD not in str(details_of(row)) and NEW_PASSWORD not in str(details_of(row))


def test_the_page_needs_a_session(app: Flask) -> None:  # noqa: F811
    client = app.test_client()
    for response in (client.get("/me/password"), client.post("/me/password", data={})):
        assert response.status_code in (303, 400)
    page = client.get("/me/password")
    assert page.headers["Location"] == "/login?next=%2Fme%2Fpassword"


def test_without_csrf_token_nothing_changes(app: Flask, person: str) -> None:  # noqa: F811
    client = sign_in(app)
    answer = client.post(
        "/me/password",
        data={"current_password": PASSWORD, "password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
    )
    assert answer.status_code == 400 and "页面已过期" in text_of(answer)
    assert client.get("/me/password").status_code == 200
    assert sign_in(app, PASSWORD)


def test_a_wrong_current_password_counts_like_a_failed_sign_in(app: Flask, person: str) -> None:  # noqa: F811
    client = sign_in(app)
    lock_after = services_of(app).settings.lock_after
    for _ in range(lock_after):
        wrong = change(client, "not-my-password-1", NEW_PASSWORD)
        assert wrong.status_code == 400 and "当前密码不正确" in text_of(wrong)
    # The account is now locked: even the right current password is refused, and so is signing in.
    locked = change(client, PASSWORD, NEW_PASSWORD)
    assert locked.status_code == 400 and "当前密码不正确" in text_of(locked)
    assert accounts_of(app).throttle.locked("li_taibai")
    blocked = submit(
        app.test_client(), "/login", username="li_taibai", password=PASSWORD, account_type="natural"
    )
    assert blocked.status_code == 400 and "登录名或密码错误" in text_of(blocked)

    with services_of(app).db.transaction() as session:
        failures = events(session, event="password.check.failure", target=person)
        assert len(failures) == lock_after + 1
        assert details_of(failures[0])["reason"] == "locked"
        assert not events(session, event="password.changed")


def test_the_client_ip_limit_applies(app: Flask, person: str) -> None:  # noqa: F811
    svc = services_of(app)
    client = sign_in(app)
    throttle = accounts_of(app).throttle
    for _ in range(svc.settings.ip_limit):
        throttle.failed("127.0.0.1")
    answer = change(client, PASSWORD, NEW_PASSWORD)
    assert answer.status_code == 429 and "过于频繁" in text_of(answer)


@pytest.mark.parametrize(
    ("new", "again", "expected"),
    [
        ("password1", "password1", "过于常见"),
        ("li_taibai_2024", "li_taibai_2024", "登录名"),
        ("short1", "short1", "至少需要 8 个字符"),
        ("abcdefghij", "abcdefghij", "字母和数字"),
        (NEW_PASSWORD, "Something-Else-1", "不一致"),
        (PASSWORD, PASSWORD, "不能与当前密码相同"),
        ("x1" * 600, "x1" * 600, "密码过长"),
    ],
)
def test_the_new_password_follows_the_policy(
    app: Flask,  # noqa: F811
    person: str,
    new: str,
    again: str,
    expected: str,
) -> None:
    client = sign_in(app)
    answer = change(client, PASSWORD, new, again)
    assert answer.status_code == 400 and expected in text_of(answer)
    assert new not in text_of(answer), "passwords are never sent back"
    with services_of(app).db.transaction() as session:
        assert not events(session, event="password.changed")


def test_hostile_input_never_gives_a_5xx(app: Flask, person: str) -> None:  # noqa: F811
    client = sign_in(app)
    token = csrf_of(text_of(client.get("/me/password")))
    cases: list[dict[str, Any]] = [
        {
            "data": {
                "csrf_token": token,
                "current_password": "p" * 200_000,
                "password": "a",
                "password_again": "a",
            }
        },
        {
            "data": {
                "csrf_token": token,
                "current_password": "\x00\r\n",
                "password": "\x00",
                "password_again": "\x00",
            }
        },
        {
            "data": (
                f"csrf_token={token}&current_password=%FF%FE&password=%C3%28&password_again=%C3%28".encode()
            ),
            "content_type": "application/x-www-form-urlencoded",
        },
        {"data": {"csrf_token": token}},
        {"json": {"current_password": PASSWORD, "password": NEW_PASSWORD, "password_again": NEW_PASSWORD}},
    ]
    for case in cases:
        response = client.post("/me/password", **case)
        assert 400 <= response.status_code < 500, case
        assert "Traceback" not in text_of(response)
    # Repeating a successful change submits nothing twice: the second is checked against the new password.
    assert change(client, PASSWORD, NEW_PASSWORD).status_code == 303
    repeated = change(client, PASSWORD, NEW_PASSWORD)
    assert repeated.status_code == 400 and "当前密码不正确" in text_of(repeated)
