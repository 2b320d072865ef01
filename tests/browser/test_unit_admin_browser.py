"""A unit admin in a real headless Chromium: sign in on 法人登录, find a person, grant the training matter.

The live IdP runs in this process on a loopback port (embedded mode, SQLite file), with the demo
seed's training client, one unit holding that matter, and the person to delegate to.
"""

from __future__ import annotations

import random
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
from idp.demo import DemoSettings, seed
from idp.migrations.runner import upgrade
from idp.orgs.actors import CONSOLE_ACTOR, Actor
from idp.orgs.creditcode import generate_credit_code
from idp.orgs.grants import grants_of_person
from idp.orgs.permissions import PermissionService
from idp.orgs.services import UnitInput, UnitService

pytestmark = pytest.mark.browser

FAST = Argon2Params(1, 8 * 1024, 1)
UNIT_PASSWORD = "Unit-Admin-Seal-2026"
PERSON_PASSWORD = "Zhangwei-Training-85"
UNIT_NAME = "北京示例国际交流中心"
CREDIT_CODE = generate_credit_code(random.Random(85))


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
    url = f"sqlite:///{tmp_path / 'idp.sqlite3'}"
    upgrade(url)
    app = create_app(
        {"database_url": url, "outbox_dir": str(tmp_path / "outbox"), "captcha": "always", "redis_url": ""}
    )
    svc: Services = app.extensions["idp"]
    accounts = AccountService(svc.db, svc.store, svc.settings, password_params=FAST)
    svc.extras["accounts"] = accounts
    seed(svc.db, svc.store, svc.settings, DemoSettings())
    accounts.create_user("zhangwei85", PERSON_PASSWORD, name="张伟")
    unit = UnitService(svc.db, password_params=FAST).add(
        UnitInput(CREDIT_CODE, UNIT_NAME, "institution", "北京市海淀区", "王老师"),
        "bjexchange",
        UNIT_PASSWORD,
        CONSOLE_ACTOR,
    )
    permissions = PermissionService(svc.db)
    request = permissions.apply(Actor(user_id=unit.admin_user_id), "training", "组团出访培训")
    permissions.approve(CONSOLE_ACTOR, request.id)
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
    """CSP violations, script errors and failed sub-resources, as Chromium reports them."""
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


def sign_in(page: Any, live_idp: LiveIdP, tab: str, username: str, password: str) -> None:
    page.goto(f"{live_idp.base_url}/login?type={tab}")
    captcha_id = page.locator("input[name=captcha_id]").get_attribute("value")
    assert captcha_id is not None
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.fill("input[name=captcha]", live_idp.captcha_answer(captcha_id))
    page.get_by_role("button", name="用户登录").click()


def test_unit_admin_grants_the_training_matter(
    browser: Any, page: Any, live_idp: LiveIdP, tmp_path: Path
) -> None:
    problems = watch_console(page)
    page.set_viewport_size({"width": 1280, "height": 900})

    page.goto(f"{live_idp.base_url}/login")
    page.get_by_role("tab", name="法人登录").click()
    assert page.locator(".tab.active").inner_text() == "法人登录"
    assert page.locator("input[name=account_type]").get_attribute("value") == "legal"
    assert (
        page.locator("input[name=username]").get_attribute("placeholder") == "请输入登录名或统一社会信用代码"
    )
    page.screenshot(path=str(tmp_path / "legal-login.png"), full_page=True)

    sign_in(page, live_idp, "legal", CREDIT_CODE.lower(), UNIT_PASSWORD)
    page.wait_for_url(re.compile(r".*/org$"))
    assert UNIT_NAME in page.locator(".org-unit").inner_text()
    page.screenshot(path=str(tmp_path / "unit-info.png"), full_page=True)

    page.get_by_role("link", name="用户授权").click()
    page.wait_for_url(re.compile(r".*/org/users$"))
    page.fill("input[name=query]", "zhangwei85")
    page.get_by_role("button", name="检索").click()
    row = page.locator(".org-results tbody tr")
    assert row.count() == 1
    assert "zh*******5" in row.inner_text() and "张*" in row.inner_text()
    assert "zhangwei85" not in page.content(), "the page shows masked data only"
    row.locator("select[name=matter]").select_option(label="因公出国(境)培训项目管理系统")
    row.locator("select[name=role]").select_option(label="事项办理员")
    page.screenshot(path=str(tmp_path / "unit-search.png"), full_page=True)
    row.get_by_role("button", name="授权").click()

    page.wait_for_url(re.compile(r".*/org/users$"))
    assert "授权成功" in page.locator(".org-flash").inner_text()
    listed = page.locator(".org-grants tbody tr")
    assert listed.count() == 1
    assert "事项办理员" in listed.inner_text() and "因公出国(境)培训项目管理系统" in listed.inner_text()
    page.screenshot(path=str(tmp_path / "unit-grants.png"), full_page=True)

    # The person sees the grant on 我的信息 › 法人(单位)授权办理情况.
    person_context = browser.new_context(locale="zh-CN")
    person = person_context.new_page()
    person_problems = watch_console(person)
    sign_in(person, live_idp, "natural", "zhangwei85", PERSON_PASSWORD)
    person.wait_for_url(re.compile(r".*/me$"))
    person.get_by_role("tab", name="法人(单位)授权办理情况").click()
    table = person.locator("table").first.inner_text()
    assert UNIT_NAME in table and "事项办理员" in table and CREDIT_CODE in table
    person.screenshot(path=str(tmp_path / "me-grants.png"), full_page=True)
    person_context.close()

    user = live_idp.services.extras["accounts"].find_by_username("zhangwei85")
    [grant] = grants_of_person(live_idp.services.db, user.id)
    assert (grant.credit_code, grant.client_id, grant.role) == (CREDIT_CODE, "training", "matter_handler")
    assert problems == [] and person_problems == []
