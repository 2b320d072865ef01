"""In headless Chromium against a live RP process (gunicorn): a competent-department user signs in
through the forging issuer, fills in 组团单位信息 wrongly, reads the messages, corrects it, and
finds the unit listed with its ID number masked; then logs out through the IdP."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.live import free_port, running
from tests.training_rp.forging_issuer import CLIENT_SECRET, ForgingIssuer
from tests.training_rp.helpers import synthetic_id
from training_rp.config import load_settings
from training_rp.crypto import IdNumberCipher
from training_rp.db import Database
from training_rp.idnumber import mask
from training_rp.migrations.runner import upgrade
from training_rp.services.accounts import AccountService, PersonInput

pytestmark = pytest.mark.browser


@pytest.fixture()
def live_rp(tmp_path: Path, issuer: ForgingIssuer) -> Iterator[str]:
    database_url = f"sqlite:///{tmp_path / 'live.sqlite3'}"
    upgrade(database_url)
    settings = load_settings({}, overrides={"database_url": database_url})
    db = Database(database_url)
    accounts = AccountService(db, IdNumberCipher(settings.all_data_keys(), settings.data_key_id))
    admin = accounts.add_ministry_admin("王管理", synthetic_id(1))
    accounts.add_department_user(admin, PersonInput("李归口", "北京市科学技术委员会", synthetic_id(2)))
    db.engine.dispose()
    issuer.person.id_number = synthetic_id(2)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        "RP_ISSUER": issuer.url,
        "RP_CLIENT_SECRET": CLIENT_SECRET,
        "RP_BASE_URL": base,
        "RP_DATABASE_URL": database_url,
    }
    command = [sys.executable, "-m", "training_rp", "serve", "--port", str(port), "--workers", "1"]
    with running(command, env, base + "/healthz", tmp_path / "rp.log"):
        yield base


def test_a_department_user_adds_an_organizing_unit_in_the_browser(
    live_rp: str, issuer: ForgingIssuer, page: Any
) -> None:
    page.goto(live_rp + "/")
    page.click("#login")
    page.wait_for_selector("#role")
    assert page.inner_text("#role") == "出国(境)培训归口管理部门用户"
    assert page.inner_text("#unit") == "北京市科学技术委员会"

    page.click("#entry-accounts")
    page.click("#new-unit")
    assert page.get_attribute("#username", "placeholder") == "请输入英文字母和数字,请勿加特殊符号"
    page.fill("#unit_name", "中国科学院国际合作局")
    page.fill("#username", "cas intl!")
    page.fill("#contact", "钱联系")
    page.fill("#office_phone", "010-68597521")
    page.fill("#mobile", "12345")
    page.fill("#email", "intl@example.org")
    page.select_option("#active", "1")
    page.fill("#id_number", "110105194912310021")
    page.click("#save")

    page.wait_for_selector(".error")
    errors = {e.get_attribute("data-field"): e.inner_text() for e in page.query_selector_all(".error")}
    assert set(errors) == {"username", "mobile", "id_number"}
    assert "英文字母和数字" in errors["username"]
    assert "手机号码" in errors["mobile"]
    assert "身份证号无效" in errors["id_number"]
    assert page.input_value("#unit_name") == "中国科学院国际合作局", "valid input is kept"

    page.fill("#username", "casintl2024")
    page.fill("#mobile", "13912345678")
    page.fill("#id_number", synthetic_id(41))
    page.click("#save")
    page.wait_for_selector("#unit-accounts")
    row = page.inner_text("#unit-accounts")
    assert "中国科学院国际合作局" in row and "casintl2024" in row and "有效" in row
    assert mask(synthetic_id(41)) in row
    assert synthetic_id(41) not in page.content()

    page.click("#logout")
    page.wait_for_selector("#login")
    assert issuer.end_session_requests, "the browser went through the IdP's end-session endpoint"
    assert issuer.end_session_requests[-1]["post_logout_redirect_uri"] == live_rp + "/"
