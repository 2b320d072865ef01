"""Registration, sign-in, password reset and the 我的信息 account pages in a real headless Chromium.

The IdP runs for real (werkzeug on a loopback port, embedded mode, captcha ``always``); codes are read
from the development outbox directory, as a developer would read them.
"""

from __future__ import annotations

import re
import threading
import time
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
from idp.notify.outbox import read_outbox

pytestmark = pytest.mark.browser

PASSWORD = "Jiangnan-Hao-Feng-8"
NEW_PASSWORD = "Yangzhou-Mo-Yue-33"
CODE_IN_MESSAGE = re.compile(r"验证码为 ([0-9]{6})")


class LiveIdP:
    def __init__(self, app: Flask, base_url: str, outbox: Path) -> None:
        self.app = app
        self.base_url = base_url
        self.outbox = outbox

    @property
    def services(self) -> Services:
        svc: Services = self.app.extensions["idp"]
        return svc

    def captcha_answer(self, page: Any) -> str:
        captcha_id = page.locator("input[name=captcha_id]").get_attribute("value")
        raw = self.services.store.get(f"captcha:{{{captcha_id}}}")
        assert raw is not None
        return raw.partition("|")[2]

    def code_sent_to(self, to: str, already: int = 0) -> str:
        deadline = time.monotonic() + 10
        while True:
            found = [m for m in read_outbox(self.outbox) if m["to"] == to]
            if len(found) > already:
                match = CODE_IN_MESSAGE.search(found[-1]["body"])
                assert match
                return match.group(1)
            assert time.monotonic() < deadline, f"no code for {to} in the outbox"
            time.sleep(0.05)


@pytest.fixture()
def live_idp(tmp_path: Path) -> Iterator[LiveIdP]:
    url = f"sqlite:///{tmp_path / 'idp.sqlite3'}"
    upgrade(url)
    outbox = tmp_path / "outbox"
    app = create_app({"database_url": url, "outbox_dir": str(outbox), "captcha": "always", "redis_url": ""})
    svc: Services = app.extensions["idp"]
    svc.extras["accounts"] = AccountService(
        svc.db, svc.store, svc.settings, password_params=Argon2Params(1, 8 * 1024, 1)
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveIdP(app, f"http://127.0.0.1:{server.server_port}", outbox)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        svc.db.engine.dispose()


def watch_console(page: Any) -> list[str]:
    """CSP violations, script errors and failed sub-resources."""
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
    return problems


def sign_in(page: Any, live_idp: LiveIdP, username: str | None, password: str) -> None:
    if username is not None:
        page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.fill("input[name=captcha]", live_idp.captcha_answer(page))
    page.get_by_role("button", name="用户登录").click()
    page.wait_for_url(re.compile(r".*/me$"))


def test_register_with_a_code_from_the_outbox_then_sign_in(
    page: Any, live_idp: LiveIdP, tmp_path: Path
) -> None:
    problems = watch_console(page)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_idp.base_url}/login")
    page.get_by_role("link", name="立即注册账号").click()
    page.wait_for_url(re.compile(r".*/register$"))
    assert page.title() == "用户注册 - 科学技术部政务服务平台"
    assert page.locator(".steps li.current").inner_text().endswith("验证手机或邮箱")
    # The stylesheet of these pages applies under the CSP (nothing inline).
    assert page.locator(".step-number").first.evaluate("el => getComputedStyle(el).borderRadius") == "50%"
    page.screenshot(path=str(tmp_path / "register-1.png"), full_page=True)

    page.fill("#contact", "Ouyang.Xiu@Example.CN")
    page.fill("#captcha", live_idp.captcha_answer(page))
    page.get_by_role("button", name="获取验证码").click()
    page.wait_for_url(re.compile(r".*/register/account$"))
    assert "O***@example.cn" in page.locator(".account-lead").inner_text()
    page.screenshot(path=str(tmp_path / "register-2.png"), full_page=True)

    code = live_idp.code_sent_to("Ouyang.Xiu@example.cn")
    page.fill("#code", code)
    page.fill("#username", "ouyang_xiu")
    page.fill("#password", PASSWORD)
    page.fill("#password_again", PASSWORD)
    page.get_by_role("button", name="注册").click()
    page.wait_for_url(re.compile(r".*/register/done$"))
    assert "账号 ouyang_xiu 已注册成功" in page.locator(".account-result").inner_text()
    page.screenshot(path=str(tmp_path / "register-3.png"), full_page=True)

    page.get_by_role("link", name="立即登录").click()
    page.wait_for_url(re.compile(r".*/login\?login_hint=ouyang_xiu$"))
    assert page.locator("input[name=username]").input_value() == "ouyang_xiu"
    sign_in(page, live_idp, None, PASSWORD)
    assert "ouyang_xiu" in page.content()
    assert problems == []


def test_forgot_password_and_the_account_pages(page: Any, live_idp: LiveIdP, tmp_path: Path) -> None:
    problems = watch_console(page)
    page.set_viewport_size({"width": 1280, "height": 900})
    live_idp.services.extras["accounts"].create_user(
        "fan_zhongyan",
        PASSWORD,
        name="范仲淹",
        phone_number="13800138000",
        phone_number_verified=True,
    )
    page.goto(f"{live_idp.base_url}/login")
    page.get_by_role("link", name="忘记密码?").click()
    page.wait_for_url(re.compile(r".*/forgot-password$"))
    page.fill("#username", "fan_zhongyan")
    page.fill("#contact", "13800138000")
    page.fill("#captcha", live_idp.captcha_answer(page))
    page.screenshot(path=str(tmp_path / "forgot-1.png"), full_page=True)
    page.get_by_role("button", name="获取验证码").click()
    page.wait_for_url(re.compile(r".*/forgot-password/code$"))
    assert "13******000" in page.locator(".account-lead").inner_text()

    code = live_idp.code_sent_to("13800138000")
    page.fill("#code", "000000" if code != "000000" else "111111")
    page.get_by_role("button", name="下一步").click()
    assert "验证码错误" in page.locator(".form-error").inner_text()
    page.fill("#code", code)
    page.get_by_role("button", name="下一步").click()
    page.wait_for_url(re.compile(r".*/forgot-password/new$"))
    page.fill("#password", NEW_PASSWORD)
    page.fill("#password_again", NEW_PASSWORD)
    page.screenshot(path=str(tmp_path / "forgot-3.png"), full_page=True)
    page.get_by_role("button", name="重置密码").click()
    page.wait_for_url(re.compile(r".*/account/done$"))
    assert "密码已重置" in page.locator("h1").inner_text()

    page.get_by_role("link", name="立即登录").click()
    sign_in(page, live_idp, None, NEW_PASSWORD)

    page.goto(f"{live_idp.base_url}/me/password")
    assert page.locator("h1").inner_text() == "修改密码"
    page.fill("#current_password", NEW_PASSWORD)
    page.fill("#password", "fan_zhongyan99")
    page.fill("#password_again", "fan_zhongyan99")
    page.get_by_role("button", name="保存").click()
    assert "登录名" in page.locator(".form-error").inner_text()
    assert page.locator("#password").input_value() == "", "a password is never sent back"
    page.screenshot(path=str(tmp_path / "password.png"), full_page=True)

    page.goto(f"{live_idp.base_url}/me/contact")
    assert "13******000" in page.locator(".contact-table").inner_text()
    page.fill("#current_password", NEW_PASSWORD)
    page.fill("#contact", "fan.zhongyan@example.cn")
    page.get_by_role("button", name="获取验证码").click()
    page.wait_for_url(re.compile(r".*/me/contact/code$"))
    page.fill("#code", live_idp.code_sent_to("fan.zhongyan@example.cn"))
    page.get_by_role("button", name="确认更改").click()
    page.wait_for_url(re.compile(r".*/account/done$"))
    assert "f***@example.cn" in page.locator(".account-result").inner_text()
    page.screenshot(path=str(tmp_path / "contact-done.png"), full_page=True)
    assert problems == []
