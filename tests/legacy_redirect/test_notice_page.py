"""The notice page and the instructions: content, language choice, HEAD, robots and favicon."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.legacy_redirect.conftest import LOGIN_URL, PLATFORM_URL, PUBLIC_URL


def test_notice_in_chinese_by_default(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert "<title>提示信息" in html
    assert "您正在进入“因公出国境培训项目管理系统”" in html
    assert "一地注册、各地互认" in html
    assert "一次认证、全网通办" in html
    assert "《登录及实名认证操作说明》" in html
    assert f'<a class="button" id="login" href="{LOGIN_URL}">登录</a>' in html
    assert "业务电话：010-58884232" in html
    assert "科学技术部引进国外智力管理司" in html
    assert f'<link rel="canonical" href="{PUBLIC_URL}/">' in html
    assert f'href="{PLATFORM_URL}"' in html


@pytest.mark.parametrize(
    "path", ["/otm/project/list.do", "/a/b/c.html?x=1", "/%E4%B8%AD%E6%96%87", "/static/x.css"]
)
def test_every_unknown_path_shows_the_notice(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert "您正在进入" in response.get_data(as_text=True)
    assert response.headers["X-Robots-Tag"] == "noindex"


@pytest.mark.parametrize("header", ["en", "en-US,en;q=0.9", "en-GB;q=0.9, fr;q=0.8"])
def test_english_by_accept_language(client: FlaskClient, header: str) -> None:
    html = client.get("/", headers={"Accept-Language": header}).get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "You are entering the “Overseas Training Program Management System”" in html
    assert f'<a class="button" id="login" href="{LOGIN_URL}">Log in</a>' in html
    assert "Business phone: 010-58884232" in html


@pytest.mark.parametrize("header", ["zh-CN,zh;q=0.9,en;q=0.8", "zh-TW", "fr", "", "*;q=bogus,,;;"])
def test_chinese_for_chinese_unknown_or_malformed_accept_language(client: FlaskClient, header: str) -> None:
    html = client.get("/", headers={"Accept-Language": header}).get_data(as_text=True)
    assert '<html lang="zh-CN">' in html


def test_configured_default_locale_applies_when_nothing_chooses(make_app: Callable[..., Flask]) -> None:
    client = make_app(default_locale="en").test_client()
    assert '<html lang="en">' in client.get("/").get_data(as_text=True)
    assert '<html lang="zh-CN">' in client.get("/", headers={"Accept-Language": "zh"}).get_data(as_text=True)


def test_switch_chooses_language_and_is_remembered(client: FlaskClient) -> None:
    switched = client.get("/some/old/page?lang=en", headers={"Accept-Language": "zh-CN"})
    assert '<html lang="en">' in switched.get_data(as_text=True)
    cookie = switched.headers["Set-Cookie"]
    assert cookie.startswith("legacy_lang=en;")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert switched.headers["Cache-Control"] == "private, no-cache"

    later = client.get("/", headers={"Accept-Language": "zh-CN"})
    assert '<html lang="en">' in later.get_data(as_text=True)
    assert later.headers["Cache-Control"].startswith("public")

    back = client.get("/?lang=zh")
    assert '<html lang="zh-CN">' in back.get_data(as_text=True)
    assert '<html lang="zh-CN">' in client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)


@pytest.mark.parametrize("value", ["fr", "EN", "en\r\nSet-Cookie: a=b", "", "zh" * 1000])
def test_unknown_switch_values_are_ignored(client: FlaskClient, value: str) -> None:
    response = client.get("/", query_string={"lang": value})
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert '<html lang="zh-CN">' in response.get_data(as_text=True)


def test_tampered_language_cookie_is_ignored(client: FlaskClient) -> None:
    client.set_cookie("legacy_lang", "<script>")
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert "<script>" not in html


def test_language_switch_links_are_relative(client: FlaskClient) -> None:
    html = client.get("/", headers={"Host": "evil.example"}).get_data(as_text=True)
    assert '<a href="?lang=en"' in html and '<a href="?lang=zh"' in html
    assert "evil.example" not in html


def test_head_answers_like_get_without_a_body(client: FlaskClient) -> None:
    get = client.get("/old/page.jsp")
    head = client.head("/old/page.jsp")
    assert head.status_code == 200
    assert head.data == b""
    assert head.headers["Content-Length"] == get.headers["Content-Length"]
    assert head.headers["Content-Security-Policy"] == get.headers["Content-Security-Policy"]
    deep = client.head("/login.jsp")
    assert (deep.status_code, deep.headers["Location"]) == (301, LOGIN_URL)


def test_other_methods_get_a_clear_405_page(client: FlaskClient) -> None:
    response = client.post("/login.do", data={"username": "old", "password": "secret"})
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "HEAD"}
    html = response.get_data(as_text=True)
    assert "此地址不接受该类请求" in html
    assert "secret" not in html


def test_robots_txt(client: FlaskClient) -> None:
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    lines = response.get_data(as_text=True).splitlines()
    assert "User-agent: *" in lines
    assert "Disallow: /metrics" in lines
    assert "Disallow: /" not in lines  # crawlers must be able to see the permanent redirects


def test_favicon_is_an_icon(client: FlaskClient) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype in ("image/vnd.microsoft.icon", "image/x-icon")
    assert response.data[:4] == b"\x00\x00\x01\x00"  # ICO header
    response.close()


def test_stylesheet_is_served(client: FlaskClient) -> None:
    response = client.get("/assets/notice.css")
    assert response.status_code == 200
    assert response.mimetype == "text/css"
    response.close()


def test_missing_asset_still_shows_the_notice(client: FlaskClient) -> None:
    response = client.get("/assets/missing.css")
    assert response.status_code == 404
    assert "您正在进入" in response.get_data(as_text=True)


def test_notice_links_to_the_shipped_instructions(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    assert 'href="/instructions/download"' in html
    assert 'href="/instructions"' in html


def test_notice_links_to_a_configured_instructions_url(make_app: Callable[..., Flask]) -> None:
    client = make_app(instructions_url="https://fuwu.example.test/files/guide.pdf").test_client()
    html = client.get("/").get_data(as_text=True)
    assert 'href="https://fuwu.example.test/files/guide.pdf"' in html
    assert 'href="/instructions/download"' not in html
    help_link = client.get("/help.jsp")
    assert help_link.headers["Location"] == "https://fuwu.example.test/files/guide.pdf"


def test_instructions_page_in_both_languages(client: FlaskClient) -> None:
    zh = client.get("/instructions").get_data(as_text=True)
    assert "<h1>登录及实名认证操作说明</h1>" in zh
    assert "现有用户请使用原有的账号及密码登录，无需重新注册" in zh
    assert "修改个人信息" in zh and "上传自然人信息" in zh
    assert PLATFORM_URL in zh
    assert "010-58884238、010-58884236" in zh
    en = client.get("/instructions?lang=en").get_data(as_text=True)
    assert "<h1>Login and Real-Name Verification Instructions</h1>" in en
    assert "Edit personal information" in en


def test_instructions_download_is_a_standalone_attachment(client: FlaskClient) -> None:
    response = client.get("/instructions/download")
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert unquote(disposition.split("filename*=UTF-8''", 1)[1]) == "登录及实名认证操作说明.html"
    html = response.get_data(as_text=True)
    assert "<style>" in html and 'rel="stylesheet"' not in html
    assert "实名认证" in html
    assert "sandbox" in response.headers["Content-Security-Policy"]
    english = client.get("/instructions/download", headers={"Accept-Language": "en"})
    assert "login-and-real-name-verification-instructions.html" in english.headers["Content-Disposition"]


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_endpoints(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert (response.status_code, response.data) == (200, b"ok\n")
