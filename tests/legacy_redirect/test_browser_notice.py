"""The notice in a real Chromium against ``legacy-redirect serve``: content, switch, button, download."""

from __future__ import annotations

from typing import Any

import pytest

from tests.legacy_redirect.conftest import LiveServer

pytestmark = pytest.mark.browser


def test_old_url_shows_the_notice_with_the_configured_login_target(
    page: Any, live_server: LiveServer
) -> None:
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.goto(live_server.url + "/otm/project/apply.do?id=42")
    assert page.title().startswith("提示信息")
    assert "您正在进入“因公出国境培训项目管理系统”" in page.locator("h1").inner_text()
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    button = page.get_by_role("link", name="登录", exact=True)
    assert button.get_attribute("href") == live_server.login_url
    assert "业务电话：010-58884232" in page.locator("body").inner_text()
    # The stylesheet loaded under the strict policy: the button has its colour, nothing was blocked.
    colour = button.evaluate("el => getComputedStyle(el).backgroundColor")
    assert colour == "rgb(29, 79, 145)"
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p]


def test_language_switch_and_it_is_remembered(page: Any, live_server: LiveServer) -> None:
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="English").click()
    page.wait_for_url("**/?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "You are entering" in page.locator("h1").inner_text()
    assert page.get_by_role("link", name="Log in", exact=True).get_attribute("href") == live_server.login_url
    page.goto(live_server.url + "/another/old/page")
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_role("link", name="中文").click()
    assert "您正在进入" in page.locator("h1").inner_text()


def test_english_browser_gets_english(browser: Any, live_server: LiveServer) -> None:
    context = browser.new_context(locale="en-US")
    try:
        page = context.new_page()
        page.goto(live_server.url + "/")
        assert page.title().startswith("Notice")
        assert (
            page.get_by_role("link", name="Log in", exact=True).get_attribute("href") == live_server.login_url
        )
    finally:
        context.close()


def test_instructions_download(page: Any, live_server: LiveServer) -> None:
    page.goto(live_server.url + "/")
    with page.expect_download() as started:
        page.get_by_role("link", name="下载《登录及实名认证操作说明》").click()
    download = started.value
    assert download.suggested_filename == "登录及实名认证操作说明.html"
    text = open(download.path(), encoding="utf-8").read()
    assert "修改个人信息" in text and "上传自然人信息" in text


def test_old_index_page_lands_on_the_notice(page: Any, live_server: LiveServer) -> None:
    page.goto(live_server.url + "/index.jsp")
    assert page.url == live_server.url + "/"
    assert "您正在进入" in page.locator("h1").inner_text()
