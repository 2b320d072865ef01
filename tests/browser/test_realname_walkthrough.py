"""The real-name walkthrough (seed-walkthrough.md section 4) in a real headless Chromium.

A live IdP (werkzeug in a thread, SQLite file, embedded store) checks names against the real
verification simulator process. People click through 我的信息 -> 修改个人信息 -> 保存; when the check
fails they upload photos (made with Pillow) on 上传自然人信息 and 提交; a reviewer in another browser
context approves or rejects on the reviewer console.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw
from werkzeug.serving import make_server

from idp import create_app
from idp.accounts.passwords import Argon2Params
from idp.accounts.services import AccountService
from idp.context import Services
from idp.migrations.runner import upgrade
from national_source.register import DEMO_PEOPLE
from tests.browser.test_login_page import watch_console
from tests.integration.realname.conftest import TOKEN, source_url  # noqa: F401 - fixture

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

PASSWORD = "Shiming-Renzheng-2026"
ZHANG, LI, WANG = DEMO_PEOPLE[:3]


@dataclass
class Platform:
    base_url: str
    services: Services

    def add_person(self, username: str, roles: tuple[str, ...] = ()) -> None:
        accounts = self.services.extras["accounts"]
        accounts.create_user(username, PASSWORD, roles=roles, phone_number="18612345512")


@pytest.fixture()
def platform(tmp_path: Path, source_url: str) -> Iterator[Platform]:  # noqa: F811 - the imported fixture
    url = f"sqlite:///{tmp_path / 'idp.sqlite3'}"
    upgrade(url)
    app = create_app(
        {
            "database_url": url,
            "redis_url": "",
            "captcha": "off",
            "outbox_dir": str(tmp_path / "outbox"),
            "realname_source_url": source_url,
            "realname_source_token": TOKEN,
        }
    )
    svc: Services = app.extensions["idp"]
    # Light hashing parameters: the browser test is about pages, not password hashing.
    svc.extras["accounts"] = AccountService(
        svc.db, svc.store, svc.settings, password_params=Argon2Params(1, 8 * 1024, 1)
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Platform(f"http://127.0.0.1:{server.server_port}", svc)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        svc.db.engine.dispose()


def card_photo(path: Path, side: str, fmt: str) -> Path:
    """A made-up picture of an ID card side with a "signature" line, as a person would photograph it."""
    image = Image.new("RGB", (900, 570), (222, 233, 246))
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, 880, 550), outline=(90, 120, 170), width=6)
    draw.rectangle((620, 80, 840, 360) if side == "front" else (60, 60, 220, 220), fill=(160, 180, 205))
    for row in range(6):
        draw.rectangle((60, 90 + row * 60, 520, 110 + row * 60), fill=(140, 150, 165))
    draw.line((300, 470, 420, 430, 540, 480, 660, 440), fill=(200, 16, 46), width=6)
    image.save(path, fmt)
    return path


def open_signed_in(browser: Any, platform: Platform, username: str) -> Any:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(f"{platform.base_url}/login?next=/me")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="用户登录").click()
    page.wait_for_url(re.compile(r".*/me$"))
    return page


def fill_profile(page: Any, who: Any, name: str | None = None) -> None:
    """修改个人信息: the fields of the walkthrough, required ones marked with *."""
    page.get_by_role("link", name="修改个人信息").click()
    page.wait_for_url(re.compile(r".*/me/edit$"))
    page.fill("#name", name or who.name)
    page.select_option("#gender", who.gender)
    page.select_option("#ethnicity", label="汉族")
    page.fill("#birth_date", who.birth_date)
    page.get_by_label("中华人民共和国大陆地区").check()
    page.select_option("#document_type", "resident_id")
    page.fill("#id_number", who.id_number)
    page.fill("#id_valid_from", "2016-11-11")
    page.fill("#id_valid_to", "2036-11-11")
    page.select_option("#continent", label="亚洲")
    page.select_option("#country", label="中国")
    page.fill("#address", "北京市海淀区中关村大街1号")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(re.compile(r".*/me$"))


def status_text(page: Any) -> str:
    text: str = page.locator(".me-tabs .status").inner_text()
    return text


def apply_for_review(page: Any, platform: Platform, who: Any, tmp_path: Path) -> None:
    fill_profile(page, who, name=who.name + "某")
    assert "实名认证未通过" in status_text(page)
    page.get_by_role("link", name="上传自然人信息").click()
    page.wait_for_url(re.compile(r".*/me/realname/upload$"))
    assert "用户证件相关信息须签字后上传。" in page.locator(".rules").inner_text()
    page.set_input_files("#photo-front", str(card_photo(tmp_path / "front.png", "front", "PNG")))
    page.locator("tr[data-side=front]").get_by_role("button", name="上传").click()
    page.wait_for_selector("tr[data-side=front] img.doc-preview")
    page.set_input_files("#photo-back", str(card_photo(tmp_path / "back.jpg", "back", "JPEG")))
    page.locator("tr[data-side=back]").get_by_role("button", name="上传").click()
    page.wait_for_selector("tr[data-side=back] img.doc-preview")
    for preview in page.locator("img.doc-preview").all():
        assert preview.evaluate("img => img.complete && img.naturalWidth > 0"), "the preview shows the upload"
    page.screenshot(path=str(tmp_path / "upload.png"), full_page=True)
    page.get_by_role("button", name="提交").click()
    page.wait_for_url(re.compile(r".*/me$"))
    assert "实名认证审核中" in status_text(page)


def open_request(reviewer: Any, who_name: str) -> None:
    reviewer.get_by_role("link", name="实名审核").click()
    reviewer.wait_for_url(re.compile(r".*/review$"))
    row = reviewer.locator("tr", has_text=who_name)
    row.get_by_role("link", name="审核").click()
    reviewer.wait_for_url(re.compile(r".*/review/\d+$"))
    images = reviewer.locator("img.doc-full")
    assert images.count() == 2
    for image in images.all():
        assert image.evaluate("img => img.complete && img.naturalWidth > 0")


def test_saving_a_matching_profile_verifies_against_the_national_platform(
    browser: Any, platform: Platform, tmp_path: Path
) -> None:
    platform.add_person("zhangwei")
    page = open_signed_in(browser, platform, "zhangwei")
    problems = watch_console(page)
    assert "未实名认证" in status_text(page)
    assert "(用户信息不全,请及时补充!)" in page.locator(".me-heading").inner_text()
    menu = page.locator(".me-menu").inner_text()
    for entry in ("我的关注", "我要办理", "我的事项", "我的评价", "我的信息"):
        assert entry in menu

    # Without scripts every document type is listed; with them, only those of the chosen 类型.
    page.get_by_role("link", name="修改个人信息").click()
    page.get_by_label("港、澳、台地区").check()
    assert page.locator("#document_type option[value=resident_id]").evaluate("o => o.hidden")
    assert not page.locator("#document_type option[value=hk_macao_permit]").evaluate("o => o.hidden")
    page.goto(f"{platform.base_url}/me")

    fill_profile(page, ZHANG)
    assert "国家平台实名认证通过" in status_text(page)
    assert "实名认证成功" in page.locator(".flash").inner_text()
    info = page.locator(".me-info").inner_text()
    assert ZHANG.id_number[:4] + "*" * 10 + ZHANG.id_number[-4:] in info
    assert "18******512" in info and "2016-11-11 至 2036-11-11" in info and "汉族" in info
    assert ZHANG.id_number not in page.content()
    page.screenshot(path=str(tmp_path / "me-verified.png"), full_page=True)

    # Identity fields are read-only now.
    page.get_by_role("link", name="修改个人信息").click()
    assert page.locator("#name").is_disabled() and page.locator("#id_number").is_disabled()
    assert page.locator("#address").is_enabled()
    assert problems == []


def test_failed_check_then_manual_review_approved(browser: Any, platform: Platform, tmp_path: Path) -> None:
    platform.add_person("lina")
    platform.add_person("checker", roles=("reviewer",))
    page = open_signed_in(browser, platform, "lina")
    problems = watch_console(page)
    apply_for_review(page, platform, LI, tmp_path)

    reviewer = open_signed_in(browser, platform, "checker")
    open_request(reviewer, LI.name + "某")
    assert LI.id_number not in reviewer.content()
    reviewer.screenshot(path=str(tmp_path / "review.png"), full_page=True)
    reviewer.get_by_role("button", name="通过").click()
    reviewer.wait_for_url(re.compile(r".*/review$"))
    assert "已通过该实名认证申请。" in reviewer.locator(".flash").inner_text()

    page.reload()
    assert "已审核认证" in status_text(page)
    assert "人工审核已通过" in page.locator(".decision").inner_text()
    page.screenshot(path=str(tmp_path / "me-reviewed.png"), full_page=True)
    assert problems == []


def test_rejection_reason_reaches_the_person(browser: Any, platform: Platform, tmp_path: Path) -> None:
    platform.add_person("wangfang")
    platform.add_person("checker", roles=("reviewer",))
    page = open_signed_in(browser, platform, "wangfang")
    apply_for_review(page, platform, WANG, tmp_path)

    reviewer = open_signed_in(browser, platform, "checker")
    open_request(reviewer, WANG.name + "某")
    reviewer.get_by_role("button", name="驳回").click()
    assert "驳回时请填写原因。" in reviewer.locator(".form-error").inner_text()
    reviewer.fill("#reason", "证件照片未签名,请签名后重新上传。")
    reviewer.get_by_role("button", name="驳回").click()
    reviewer.wait_for_url(re.compile(r".*/review$"))

    page.reload()
    assert "实名认证未通过" in status_text(page)
    decision = page.locator(".decision").inner_text()
    assert "人工审核未通过" in decision and "证件照片未签名,请签名后重新上传。" in decision
    page.screenshot(path=str(tmp_path / "me-rejected.png"), full_page=True)
    # The person can upload again.
    page.get_by_role("link", name="上传自然人信息").click()
    assert page.locator("#photo-front").is_visible()
