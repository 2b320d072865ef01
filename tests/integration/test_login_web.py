"""The sign-in pages over HTTP (Flask test client on the real app, real database and store)."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator
from http.cookies import SimpleCookie
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from idp import create_app
from idp.accounts.passwords import Argon2Params
from idp.accounts.services import AccountService
from idp.audit.models import AuditEvent
from idp.audit.services import details_of, events
from idp.context import Services
from idp.db import Database
from idp.observability import EscapingFormatter, JsonFormatter
from tests.support.services import redis_url

FAST = Argon2Params(time_cost=1, memory_cost=8 * 1024, parallelism=1)
PASSWORD = "Qingming-Shanghe-42"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
CAPTCHA_FIELD = re.compile(r'name="captcha_id" value="([0-9a-f]{32})"')
AppFactory = Callable[..., Flask]


@pytest.fixture()
def make_app(database: Database, database_url: str, backend_name: str, tmp_path: Any) -> Iterator[AppFactory]:
    """Builds the real IdP on this test's database (and Redis under a private prefix)."""
    prefixes: list[str] = []

    def build(**overrides: Any) -> Flask:
        settings: dict[str, Any] = {
            "database_url": database_url,
            "outbox_dir": str(tmp_path / "outbox"),
            "captcha": "off",
            "redis_url": "",
        }
        if backend_name == "postgres":
            prefix = f"test:{uuid.uuid4().hex}:"
            prefixes.append(prefix)
            settings.update(redis_url=redis_url(), redis_prefix=prefix)
        settings.update(overrides)
        app = create_app(settings)
        svc: Services = app.extensions["idp"]
        # Cheap hashing parameters: these tests are about the pages, not about argon2's cost.
        svc.extras["accounts"] = AccountService(svc.db, svc.store, svc.settings, password_params=FAST)
        return app

    yield build
    if prefixes:
        client = redis.Redis.from_url(redis_url())
        for prefix in prefixes:
            for key in client.scan_iter(match=f"{prefix}*", count=500):
                client.delete(key)
        client.close()


@pytest.fixture()
def app(make_app: AppFactory) -> Flask:
    return make_app()


def accounts_of(app: Flask) -> AccountService:
    found: AccountService = app.extensions["idp"].extras["accounts"]
    return found


def csrf_token(client: FlaskClient, path: str = "/login", **kwargs: Any) -> str:
    page = client.get(path, **kwargs)
    found = CSRF_FIELD.search(page.get_data(as_text=True))
    assert found, page.get_data(as_text=True)[:500]
    return found.group(1)


def post_login(
    client: FlaskClient, username: str, password: str, path: str = "/login", **fields: str
) -> TestResponse:
    token = csrf_token(client, path)
    data = {
        "csrf_token": token,
        "username": username,
        "password": password,
        "account_type": "natural",
        **fields,
    }
    return client.post(path, data=data)


def set_cookies(response: TestResponse) -> dict[str, SimpleCookie]:
    cookies: dict[str, SimpleCookie] = {}
    for header in response.headers.getlist("Set-Cookie"):
        cookie: SimpleCookie = SimpleCookie()
        cookie.load(header)
        for name in cookie:
            cookies[name] = cookie
    return cookies


# --- the page -----------------------------------------------------------------------------------------


def test_login_page_shows_the_platform_login_box(app: Flask) -> None:
    page = app.test_client().get("/login")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for text in (
        "自然人登录",
        "法人登录",
        "忘记密码?",
        "立即注册账号",
        "用户登录",
        "国家政务服务平台账号登录",
        "科学技术部政务服务平台",
    ):
        assert text in html
    assert 'name="username"' in html and 'name="password"' in html
    assert 'type="hidden" name="account_type" value="natural"' in html
    assert 'name="captcha"' not in html, "captcha mode off shows no captcha"
    assert "style=" not in html and "<script" not in html, "nothing inline, so the CSP holds"
    legal = app.test_client().get("/login?type=legal").get_data(as_text=True)
    assert 'name="account_type" value="legal"' in legal and "即将开放" in legal


def test_every_page_carries_the_security_headers(app: Flask) -> None:
    client = app.test_client()
    for path in ("/login", "/", "/no-such-page", "/me"):
        response = client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert "Strict-Transport-Security" not in response.headers, "no HSTS on a plain-http issuer"
    assert client.get("/login").headers["Cache-Control"] == "no-store"


def test_https_issuer_adds_hsts_and_host_prefixed_secure_cookies(make_app: AppFactory) -> None:
    app = make_app(issuer="https://idp.example.test")
    accounts_of(app).create_user("secure_user", PASSWORD)
    client = app.test_client()
    base = {"base_url": "https://idp.example.test", "headers": {"Referer": "https://idp.example.test/login"}}
    page = client.get("/login", **base)
    assert page.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    token = CSRF_FIELD.search(page.get_data(as_text=True))
    assert token
    response = client.post(
        "/login",
        data={
            "csrf_token": token.group(1),
            "username": "secure_user",
            "password": PASSWORD,
            "account_type": "natural",
        },
        **base,
    )
    assert response.status_code == 303
    cookie = set_cookies(response)["__Host-idp_sid"]["__Host-idp_sid"]
    assert cookie["secure"] and cookie["httponly"] and cookie["path"] == "/" and not cookie["domain"]
    assert cookie["samesite"] == "Lax"


# --- signing in and out -------------------------------------------------------------------------------


def test_sign_in_issues_a_new_session_id_and_goes_to_next(app: Flask) -> None:
    accounts_of(app).create_user("liu_bei", PASSWORD, name="刘备")
    client = app.test_client()
    planted = "A" * 43  # a session id an attacker chose and planted in the victim's browser
    client.set_cookie("idp_sid", planted)
    response = post_login(
        client, "Liu_Bei", PASSWORD, "/login?next=/authorize%3Fclient_id%3Dtraining%26state%3Dx"
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/authorize?client_id=training&state=x"
    cookie = set_cookies(response)["idp_sid"]["idp_sid"]
    assert cookie.value != planted and re.fullmatch(r"[A-Za-z0-9_-]{43}", cookie.value)
    assert (
        cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/" and not cookie["secure"]
    )
    me = client.get("/me").get_data(as_text=True)
    assert "liu_bei" in me and "刘备" in me and "未实名认证" in me

    # Signing in again (re-authentication) issues yet another id and retires the first one.
    first = cookie.value
    again = post_login(client, "liu_bei", PASSWORD)
    second = set_cookies(again)["idp_sid"]["idp_sid"].value
    assert second != first
    stale = app.test_client()
    stale.set_cookie("idp_sid", first)
    assert stale.get("/me").status_code == 302


def test_idle_timeout_is_refreshed_by_use(make_app: AppFactory) -> None:
    app = make_app(session_idle=3, session_lifetime=3600)
    accounts_of(app).create_user("idle_user", PASSWORD)
    client = app.test_client()
    post_login(client, "idle_user", PASSWORD)
    for _ in range(3):
        time.sleep(1.2)
        assert client.get("/me").status_code == 200, "use keeps the session alive past the idle timeout"
    time.sleep(4.2)
    assert client.get("/me").status_code == 302, "unused for longer than the idle timeout: gone"


def test_absolute_lifetime_ends_even_an_active_session(make_app: AppFactory) -> None:
    app = make_app(session_idle=3600, session_lifetime=3)
    accounts_of(app).create_user("busy_user", PASSWORD)
    client = app.test_client()
    post_login(client, "busy_user", PASSWORD)
    assert client.get("/me").status_code == 200
    time.sleep(1.5)
    assert client.get("/me").status_code == 200
    time.sleep(2.6)
    assert client.get("/me").status_code == 302


def test_session_ids_are_kept_only_as_hashes_in_the_store(app: Flask) -> None:
    accounts_of(app).create_user("guan_yu", PASSWORD)
    client = app.test_client()
    response = post_login(client, "guan_yu", PASSWORD)
    cookie = set_cookies(response)["idp_sid"]["idp_sid"].value
    store = app.extensions["idp"].store
    assert store.get(f"sso:{{{cookie}}}") is None
    import hashlib

    assert store.get(f"sso:{{{hashlib.sha256(cookie.encode()).hexdigest()}}}") is not None


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/x",
        "/\\evil.example",
        "https://evil.example/",
        "http:/evil.example",
        "javascript:alert(1)",
        "/\t/evil.example",
        "/%0d%0aSet-Cookie:x",
        "evil.example",
        "/" + "a" * 5000,
    ],
)
def test_next_must_be_a_local_path(app: Flask, target: str) -> None:
    accounts_of(app).create_user("zhang_fei", PASSWORD)
    client = app.test_client()
    token = csrf_token(client)
    response = client.post(
        "/login",
        query_string={"next": target.replace("%0d%0a", "\r\n")},
        data={"csrf_token": token, "username": "zhang_fei", "password": PASSWORD, "account_type": "natural"},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/me"


def test_unknown_user_wrong_password_and_locked_account_get_the_same_page(make_app: AppFactory) -> None:
    app = make_app(lock_after=2)
    accounts_of(app).create_user("cao_cao", PASSWORD)

    def attempt(username: str, password: str) -> tuple[int, str]:
        response = post_login(app.test_client(), username, password)
        body = CSRF_FIELD.sub('name="csrf_token" value=""', response.get_data(as_text=True))
        return response.status_code, body.replace(f'value="{username}"', 'value=""')

    unknown = attempt("nobody_at_all", PASSWORD)
    wrong = attempt("cao_cao", "Wrong-Password-1")
    attempt("cao_cao", "Wrong-Password-2")
    locked = attempt("cao_cao", PASSWORD)  # the right password, during the lock
    assert unknown == wrong == locked
    assert unknown[0] == 400 and "登录名或密码错误" in unknown[1]
    assert PASSWORD not in unknown[1]


def test_logout_needs_csrf_and_ends_the_session(app: Flask, database: Database) -> None:
    accounts_of(app).create_user("sun_quan", PASSWORD)
    client = app.test_client()
    post_login(client, "sun_quan", PASSWORD)
    assert client.get("/me").status_code == 200

    refused = client.post("/logout")
    assert refused.status_code == 400 and "页面已过期" in refused.get_data(as_text=True)
    assert client.get("/me").status_code == 200, "a cross-site POST without the token logs nobody out"

    token = csrf_token(client, "/me")
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert set_cookies(response)["idp_sid"]["idp_sid"].value == ""
    assert client.get("/me").status_code == 302
    assert client.get("/logout").status_code == 405
    with database.transaction() as session:
        assert [e.event for e in events(session, event="logout")] == ["logout"]


def test_sign_in_without_csrf_token_is_refused_before_any_password_check(
    app: Flask, database: Database
) -> None:
    accounts_of(app).create_user("ma_chao", PASSWORD)
    client = app.test_client()
    client.get("/login")
    for data in (
        {"username": "ma_chao", "password": PASSWORD},
        {"username": "ma_chao", "password": PASSWORD, "csrf_token": "forged"},
    ):
        response = client.post("/login", data=data)
        assert response.status_code == 400
        assert "idp_sid" not in set_cookies(response)
    with database.transaction() as session:
        assert not events(session, event="login.success") and not events(session, event="login.failure")


def test_me_requires_a_session(app: Flask) -> None:
    response = app.test_client().get("/me")
    assert response.status_code == 302 and response.headers["Location"] == "/login?next=%2Fme"
    garbage = app.test_client()
    garbage.set_cookie("idp_sid", "not a session \u2603")
    assert garbage.get("/me").status_code == 302


# --- captcha on the form ------------------------------------------------------------------------------


def _captcha_answer(app: Flask, html: str) -> tuple[str, str]:
    found = CAPTCHA_FIELD.search(html)
    assert found, "the form shows a captcha"
    raw = app.extensions["idp"].store.get(f"captcha:{{{found.group(1)}}}")
    assert raw is not None
    return found.group(1), raw.partition("|")[2]


def test_captcha_always_mode_on_the_form(make_app: AppFactory) -> None:
    app = make_app(captcha="always")
    accounts_of(app).create_user("huang_zhong", PASSWORD)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    captcha_id, answer = _captcha_answer(app, page)
    image = client.get(f"/captcha/{captcha_id}.png")
    assert image.status_code == 200 and image.mimetype == "image/png" and image.data.startswith(b"\x89PNG")
    assert image.headers["Cache-Control"] == "no-store"
    assert client.get("/captcha/../../etc/passwd.png").status_code == 404
    assert client.get(f"/captcha/{'0' * 32}.png").status_code == 404

    token = CSRF_FIELD.search(page)
    assert token
    base = {
        "csrf_token": token.group(1),
        "username": "huang_zhong",
        "password": PASSWORD,
        "account_type": "natural",
    }
    missing = client.post("/login", data=base)
    assert missing.status_code == 400 and "验证码错误" in missing.get_data(as_text=True)
    wrong = client.post("/login", data={**base, "captcha_id": captcha_id, "captcha": "XXXX"})
    assert wrong.status_code == 400
    reused = client.post("/login", data={**base, "captcha_id": captcha_id, "captcha": answer})
    assert reused.status_code == 400, "the captcha was discarded after the wrong answer"

    fresh_id, fresh_answer = _captcha_answer(app, reused.get_data(as_text=True))
    done = client.post("/login", data={**base, "captcha_id": fresh_id, "captcha": fresh_answer.lower()})
    assert done.status_code == 303


def test_captcha_appears_after_failures(make_app: AppFactory) -> None:
    app = make_app(captcha="after-failures", captcha_after=2)
    accounts_of(app).create_user("wei_yan", PASSWORD)
    client = app.test_client()
    first = post_login(client, "wei_yan", "Wrong-1")
    assert 'name="captcha"' not in first.get_data(as_text=True)
    second = post_login(client, "wei_yan", "Wrong-2")
    assert 'name="captcha"' in second.get_data(as_text=True)
    without = post_login(client, "wei_yan", PASSWORD)
    assert without.status_code == 400 and "验证码" in without.get_data(as_text=True)


# --- the store down --------------------------------------------------------------------------------------


def test_store_down_answers_503_quickly_and_recovers(make_app: AppFactory, redis_server: Any) -> None:
    app = make_app(redis_url=f"redis://127.0.0.1:{redis_server.port}/0", redis_prefix="idp:")
    accounts_of(app).create_user("zhuge_liang", PASSWORD)
    client = app.test_client()
    token = csrf_token(client)
    redis_server.stop()

    started = time.monotonic()
    page = client.get("/login")
    assert time.monotonic() - started < 2.0
    assert page.status_code == 503 and "服务暂时不可用" in page.get_data(as_text=True)
    assert page.headers["Retry-After"]

    started = time.monotonic()
    attempt = client.post(
        "/login",
        data={
            "csrf_token": token,
            "username": "zhuge_liang",
            "password": PASSWORD,
            "account_type": "natural",
        },
    )
    assert time.monotonic() - started < 2.0
    assert attempt.status_code == 503 and "idp_sid" not in set_cookies(attempt)
    assert "Traceback" not in attempt.get_data(as_text=True)

    redis_server.start()
    assert client.get("/login").status_code == 200
    assert post_login(client, "zhuge_liang", PASSWORD).status_code == 303


# --- hostile input and error pages -------------------------------------------------------------------------


def test_hostile_form_input_never_gives_a_5xx(app: Flask) -> None:
    client = app.test_client()
    token = csrf_token(client)
    cases: list[dict[str, Any]] = [
        {"data": {"csrf_token": token, "username": "x" * 100_000, "password": "p"}},
        {"data": {"csrf_token": token, "username": "a\r\nb", "password": "p\x00", "account_type": "robot"}},
        {"data": {"csrf_token": token, "username": "<script>alert(1)</script>", "password": "p"}},
        {
            "data": f"csrf_token={token}&username=%FF%FE%80&password=%C3%28".encode(),
            "content_type": "application/x-www-form-urlencoded",
        },
        {
            "data": f"csrf_token={token}&username=a&username=b&password=p&password=q".encode(),
            "content_type": "application/x-www-form-urlencoded",
        },
        {"json": {"username": "json_user", "password": "p"}},
        {"data": b"\x00\x01\x02", "content_type": "multipart/form-data; boundary=zzz"},
        {"data": b"x" * (2 * 1024 * 1024), "content_type": "application/x-www-form-urlencoded"},
    ]
    for case in cases:
        response = client.post("/login", **case)
        assert response.status_code < 500, case
        html = response.get_data(as_text=True)
        assert "<script>alert(1)</script>" not in html and "Traceback" not in html


def test_error_pages(make_app: AppFactory) -> None:
    app = make_app()

    def explode() -> str:
        raise RuntimeError("secret internal detail")

    app.add_url_rule("/explode", view_func=explode)
    client = app.test_client()
    missing = client.get("/definitely/missing")
    assert missing.status_code == 404 and "页面不存在" in missing.get_data(as_text=True)
    wrong_method = client.delete("/login")
    assert wrong_method.status_code == 405 and "GET" in wrong_method.headers["Allow"]
    boom = client.get("/explode")
    assert boom.status_code == 500
    assert "secret internal detail" not in boom.get_data(as_text=True) and "Traceback" not in boom.get_data(
        as_text=True
    )
    as_json = client.get("/definitely/missing", headers={"Accept": "application/json"})
    assert as_json.status_code == 404 and as_json.json == {
        "error": "invalid_request",
        "error_description": "您访问的页面不存在或已被移除。",
    }


def test_request_ids_are_echoed_only_when_safe(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/", headers={"X-Request-ID": "lb-1234.abc"}).headers["X-Request-ID"] == "lb-1234.abc"
    replaced = client.get("/", headers={"X-Request-ID": "bad id {with} spaces"}).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", replaced)


def test_trusted_proxy_address_reaches_the_audit_log(make_app: AppFactory, database: Database) -> None:
    app = make_app(trusted_proxies=1)
    accounts_of(app).create_user("jiang_wei", PASSWORD)
    client = app.test_client()
    token = csrf_token(client)
    client.post(
        "/login",
        data={"csrf_token": token, "username": "jiang_wei", "password": "Wrong-1", "account_type": "natural"},
        headers={"X-Forwarded-For": "203.0.113.9, 198.51.100.7", "X-Request-ID": "req-proxy-1"},
    )
    with database.transaction() as session:
        failure = events(session, event="login.failure")[0]
    assert (failure.ip, failure.request_id) == ("198.51.100.7", "req-proxy-1")


def test_log_lines_cannot_be_forged(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="idp.access")
    app.test_client().get("/login%0d%0a%7B%22forged%22%3A1%7D", headers={"X-Request-ID": "req-log-1"})
    (record,) = [r for r in caplog.records if r.name == "idp.access"]
    line = JsonFormatter().format(record)
    assert "\n" not in line and "\r" not in line, "one record, one line"
    entry = json.loads(line)
    assert entry["path"] == '/login\\r\\n{"forged":1}' and entry["status"] == 404
    assert entry["request_id"] == "req-log-1" and entry["method"] == "GET" and entry["duration_ms"] >= 0
    text = EscapingFormatter("%(message)s").format(logging.makeLogRecord({"msg": "a\r\nb\tc"}))
    assert text == "a\\r\\nb\\tc"


def test_metrics_only_for_direct_internal_scrapes(app: Flask) -> None:
    client = app.test_client()
    client.get("/login")
    metrics = client.get("/metrics")
    assert metrics.status_code == 200 and b"idp_http_requests_total" in metrics.data
    assert b'endpoint="auth.login"' in metrics.data
    assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 404
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "1.2.3.4"}).status_code == 404


# --- language ------------------------------------------------------------------------------------------


def test_chinese_by_default_english_on_request(app: Flask) -> None:
    accounts_of(app).create_user("xu_shu", PASSWORD)
    client = app.test_client()
    chinese = client.get("/login").get_data(as_text=True)
    assert '<html lang="zh-CN">' in chinese and "用户登录" in chinese
    english = client.get("/login?lang=en")
    assert "Sign in" in english.get_data(as_text=True) and '<html lang="en">' in english.get_data(
        as_text=True
    )
    assert set_cookies(english)["lang"]["lang"].value == "en"
    # Remembered by the cookie, error texts from services included.
    failed = post_login(client, "xu_shu", "Wrong-Password-1").get_data(as_text=True)
    assert "Wrong login name or password" in failed
    browser_english = app.test_client().get("/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert "Natural person" in browser_english.get_data(as_text=True)
    assert "自然人登录" in app.test_client().get(
        "/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"}
    ).get_data(as_text=True)


def test_failures_are_audited_without_secrets(app: Flask, database: Database) -> None:
    accounts_of(app).create_user("pang_tong", PASSWORD)
    post_login(app.test_client(), "pang_tong", "Wrong-Secret-77")
    post_login(app.test_client(), "pang_tong", PASSWORD)
    with database.transaction() as session:
        rows: list[AuditEvent] = list(events(session))
    assert {"login.failure", "login.success", "account.created"} <= {r.event for r in rows}
    for row in rows:
        assert "Wrong-Secret-77" not in row.details and PASSWORD not in row.details
        if row.event.startswith("login."):
            assert row.request_id and row.ip == "127.0.0.1"
    failure = next(r for r in rows if r.event == "login.failure")
    assert details_of(failure)["reason"] == "bad_password"
