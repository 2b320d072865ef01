"""The login page in a real headless Chromium against a live IdP (embedded mode, SQLite file)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from idp import create_app
from idp.accounts.passwords import Argon2Params
from idp.accounts.services import AccountService
from idp.context import Services
from idp.migrations.runner import upgrade

pytestmark = pytest.mark.browser

PASSWORD = "Huanghelou-Song-1"


class LiveIdP:
    def __init__(self, app: Flask, base_url: str) -> None:
        self.app = app
        self.base_url = base_url

    @property
    def services(self) -> Services:
        svc: Services = self.app.extensions["idp"]
        return svc

    def captcha_answer(self, captcha_id: str) -> str:
        raw = self.services.store.get(f"captcha:{{{captcha_id}}}")
        assert raw is not None
        return raw.partition("|")[2]


@pytest.fixture()
def live_idp(tmp_path: Path) -> Iterator[LiveIdP]:
    """The real app served by werkzeug on a loopback port, in a thread of this test process."""
    url = f"sqlite:///{tmp_path / 'idp.sqlite3'}"
    upgrade(url)
    app = create_app(
        {"database_url": url, "outbox_dir": str(tmp_path / "outbox"), "captcha": "always", "redis_url": ""}
    )
    svc: Services = app.extensions["idp"]
    accounts = AccountService(svc.db, svc.store, svc.settings, password_params=Argon2Params(1, 8 * 1024, 1))
    svc.extras["accounts"] = accounts
    accounts.create_user("zhuzhongkai", PASSWORD, name="朱忠凯")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveIdP(app, f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(timeout=10)
        svc.db.engine.dispose()


def watch_console(page: Any) -> list[str]:
    """CSP violations (Chromium reports them on the console), script errors and failed sub-resources."""
    problems: list[str] = []

    def on_console(msg: Any) -> None:
        if msg.type == "error" and ("Content Security Policy" in msg.text or "Refused" in msg.text):
            problems.append(msg.text)

    def on_response(response: Any) -> None:
        if response.request.resource_type != "document" and response.status >= 400:
            problems.append(f"{response.status} {response.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("response", on_response)
    page.on("requestfailed", lambda request: problems.append(f"failed {request.url}"))
    return problems


def test_login_page_looks_right_and_signs_in(page: Any, live_idp: LiveIdP, tmp_path: Path) -> None:
    problems = watch_console(page)
    page.set_viewport_size({"width": 1280, "height": 860})
    response = page.goto(f"{live_idp.base_url}/login?next=/me")
    assert response.status == 200
    assert page.title() == "用户登录 - 科学技术部政务服务平台"

    # The login box of the walkthrough: two tabs, three fields, links and the button.
    assert page.locator(".tab.active").inner_text() == "自然人登录"
    assert page.get_by_role("tab", name="法人登录").is_visible()
    assert page.locator("input[name=username]").get_attribute("placeholder") == "请输入登录名"
    assert page.locator("input[name=password]").get_attribute("type") == "password"
    assert page.locator("input[name=account_type]").get_attribute("value") == "natural"
    assert page.get_by_role("link", name="忘记密码?").is_visible()
    assert page.get_by_role("link", name="立即注册账号").is_visible()
    assert page.get_by_role("link", name="国家政务服务平台账号登录").is_visible()
    assert "原国家科技计划项目申报中心注册用户" in page.locator(".login-intro").inner_text()

    # The stylesheet applied (no inline styles exist, so this is the external file under the CSP).
    nav_colour = page.locator(".site-nav").evaluate("el => getComputedStyle(el).backgroundColor")
    assert nav_colour == "rgb(21, 88, 168)"
    box = page.locator(".login-box").bounding_box()
    intro = page.locator(".login-intro").bounding_box()
    assert box is not None and intro is not None and box["x"] > intro["x"] + intro["width"] - 1, (
        "box right of the text"
    )

    captcha = page.locator("img.captcha-image")
    assert captcha.evaluate("img => img.complete && img.naturalWidth > 0")
    page.screenshot(path=str(tmp_path / "login-page.png"), full_page=True)

    captcha_id = page.locator("input[name=captcha_id]").get_attribute("value")
    assert captcha_id is not None
    page.fill("input[name=username]", "zhuzhongkai")
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=captcha]", live_idp.captcha_answer(captcha_id).lower())
    page.get_by_role("button", name="用户登录").click()
    page.wait_for_url(re.compile(r".*/me$"))
    assert "朱忠凯" in page.locator(".info-table").inner_text()
    assert "未实名认证" in page.locator(".status").inner_text()
    page.screenshot(path=str(tmp_path / "me-page.png"), full_page=True)

    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url(re.compile(r".*/$"))
    assert page.get_by_role("link", name="用户登录").first.is_visible()
    assert problems == []


def test_wrong_password_message_and_english_page(page: Any, live_idp: LiveIdP, tmp_path: Path) -> None:
    problems = watch_console(page)
    page.goto(f"{live_idp.base_url}/login")
    captcha_id = page.locator("input[name=captcha_id]").get_attribute("value")
    assert captcha_id is not None
    page.fill("input[name=username]", "zhuzhongkai")
    page.fill("input[name=password]", "not-the-password")
    page.fill("input[name=captcha]", live_idp.captcha_answer(captcha_id))
    page.get_by_role("button", name="用户登录").click()
    assert "登录名或密码错误" in page.locator(".form-error").inner_text()
    assert page.locator("input[name=password]").input_value() == "", "a password is never sent back"

    page.get_by_role("tab", name="法人登录").click()
    assert page.locator("input[name=account_type]").get_attribute("value") == "legal"
    page.get_by_role("link", name="English").click()
    assert page.locator(".tab.active").inner_text() == "Legal person"
    assert page.get_by_role("button", name="Sign in").is_visible()
    page.screenshot(path=str(tmp_path / "login-page-en.png"), full_page=True)
    assert problems == []
