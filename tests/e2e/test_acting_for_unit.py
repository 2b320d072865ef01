"""Acting for a unit (法人/单位), from the operator's console to the subsystem's home page, and back.

An operator adds the unit; its admin applies for the training matter in the browser and the
operator approves it; the admin grants a verified person 事项办理员 on the /org console. That
person signs in at the training system, chooses on the IdP's page to act for the unit, and the
training system shows the unit and the role. When the admin revokes the grant, the training
system's next refresh at the IdP is refused and it ends the session, saying why.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from idp.orgs.creditcode import generate_credit_code
from tests.e2e.conftest import (
    HANDLER,
    PASSWORD,
    RP1_REFRESH_AFTER,
    UNIT_PASSWORD,
    Navigations,
    Platform,
    fill_idp_login,
    idp_org_requests,
)

pytestmark = pytest.mark.browser

UNIT_NAME = "北京示例国际交流中心"
UNIT_ADMIN = "e2e_unit_admin"
CREDIT_CODE = generate_credit_code(random.Random(2026))
MATTER = "因公出国(境)培训项目管理系统"


def unit_admin_signs_in(platform: Platform, page: Any) -> None:
    page.goto(platform.idp.issuer + "/login?type=legal")
    assert page.locator("input[name=account_type]").get_attribute("value") == "legal"
    fill_idp_login(page, UNIT_ADMIN, UNIT_PASSWORD)
    page.wait_for_url(re.compile(r".*/org$"))


def unit_admin_applies_for_the_matter(platform: Platform, page: Any) -> None:
    page.goto(platform.idp.issuer + "/org/matters")
    page.select_option("select#client_id", value=platform.rp1.client_id)
    page.fill("textarea#note", "组织因公出国(境)培训项目")
    page.get_by_role("button", name="提交申请").click()
    page.wait_for_url(re.compile(r".*/org/matters$"))


def operator_approves_the_request(platform: Platform) -> None:
    [request] = [
        r
        for r in idp_org_requests(platform.idp)
        if r["credit_code"] == CREDIT_CODE and r["client_id"] == platform.rp1.client_id
    ]
    platform.idp.cli("org", "permission", "approve", str(request["id"]))


def unit_admin_grants_the_handler_role(platform: Platform, page: Any) -> None:
    page.goto(platform.idp.issuer + "/org/users")
    page.fill("input[name=query]", HANDLER.username)
    page.get_by_role("button", name="检索").click()
    row = page.locator(".org-results tbody tr")
    assert row.count() == 1
    row.locator("select[name=matter]").select_option(label=MATTER)
    row.locator("select[name=role]").select_option(label="事项办理员")
    row.get_by_role("button", name="授权").click()
    page.wait_for_url(re.compile(r".*/org/users$"))
    assert "授权成功" in page.inner_text("body")


def unit_admin_revokes_the_grant(platform: Platform, page: Any) -> None:
    page.goto(platform.idp.issuer + "/org/users")
    grants = page.locator(".org-grants tbody tr")
    assert grants.count() == 1 and "事项办理员" in grants.inner_text()
    grants.get_by_role("button", name="撤销").click()
    page.wait_for_url(re.compile(r".*/org/users$"))
    assert "已撤销授权" in page.inner_text("body")
    assert page.locator(".org-grants tbody tr").count() == 0


@pytest.fixture(scope="module")
def unit_holding_the_matter(platform: Platform, browser: Any) -> str:
    """An operator adds the unit; its admin applies for the training matter; the operator approves."""
    platform.idp.cli(
        *("org", "add", "--credit-code", CREDIT_CODE, "--name", UNIT_NAME, "--type", "institution"),
        *("--admin-username", UNIT_ADMIN, "--admin-password", UNIT_PASSWORD),
    )
    context = browser.new_context(locale="zh-CN")
    try:
        page = context.new_page()
        unit_admin_signs_in(platform, page)
        unit_admin_applies_for_the_matter(platform, page)
    finally:
        context.close()
    operator_approves_the_request(platform)
    return CREDIT_CODE


def test_a_person_acts_for_a_unit_until_the_unit_admin_revokes_the_grant(
    platform: Platform, new_page: Callable[[], Any], tmp_path: Path, unit_holding_the_matter: str
) -> None:
    admin = new_page()
    unit_admin_signs_in(platform, admin)
    unit_admin_grants_the_handler_role(platform, admin)

    # The person signs in at the training system and is asked for whom they act.
    person = new_page()
    seen = Navigations(person)
    person.goto(platform.rp1.base_url + "/login")
    fill_idp_login(person, HANDLER.username, PASSWORD)
    person.wait_for_selector("input[name=choice]")
    assert person.url.startswith(platform.idp.issuer + "/authorize")
    choice = person.locator("ul.choices li", has_text=UNIT_NAME)
    assert CREDIT_CODE in choice.inner_text() and "事项办理员" in choice.inner_text()
    person.screenshot(path=str(tmp_path / "idp-acting-choice.png"), full_page=True)
    choice.locator("input[name=choice]").check()
    person.get_by_role("button", name="继续").click()
    person.wait_for_url(platform.rp1.base_url + "/")

    assert person.inner_text("#role") == "引智司管理员"
    assert person.locator("#acting-for").get_attribute("data-kind") == "unit"
    assert person.inner_text("#acting-unit") == UNIT_NAME
    assert person.inner_text("#acting-credit-code") == CREDIT_CODE
    assert person.inner_text("#acting-role") == "事项办理员"
    person.screenshot(path=str(tmp_path / "rp-acting-for-unit.png"), full_page=True)

    # The grant is for this matter only: the second subsystem, another matter, sees the person alone.
    person.goto(platform.rp2.base_url + "/login")
    person.wait_for_url(platform.rp2.base_url + "/")
    assert person.locator("#acting-for").get_attribute("data-kind") == "self"
    assert "个人" in person.inner_text("#acting-for")

    # While the grant stands, refreshes at the IdP keep the unit.
    time.sleep(RP1_REFRESH_AFTER + 0.5)
    person.goto(platform.rp1.base_url + "/")
    assert person.inner_text("#acting-unit") == UNIT_NAME

    unit_admin_revokes_the_grant(platform, admin)

    # The next refresh (due after RP_REFRESH_AFTER) is refused: the unit context, and the session, end.
    time.sleep(RP1_REFRESH_AFTER + 0.5)
    person.goto(platform.rp1.base_url + "/projects")
    assert person.locator("section.notice").get_attribute("data-outcome") == "withdrawn"
    message = person.inner_text("#message")
    assert UNIT_NAME in message and CREDIT_CODE in message and "授权已被撤销" in message
    assert person.locator("#logout").count() == 0
    assert platform.rp1.signed_in_sessions(HANDLER) == 0
    person.screenshot(path=str(tmp_path / "rp-unit-withdrawn.png"), full_page=True)

    # Signing in again works, with no unit left to choose: the platform session is still alive.
    forms_before = len(seen.login_forms_of(platform.idp))
    person.locator("#sign-in-again").click()
    person.wait_for_url(platform.rp1.base_url + "/")
    assert person.locator("#acting-for").get_attribute("data-kind") == "self"
    assert len(seen.login_forms_of(platform.idp)) == forms_before


def test_the_refresh_button_ends_a_revoked_unit_context_at_once(
    platform: Platform, new_page: Callable[[], Any], unit_holding_the_matter: str
) -> None:
    """The same withdrawal seen through 刷新授权, without waiting for RP_REFRESH_AFTER."""
    admin = new_page()
    unit_admin_signs_in(platform, admin)
    unit_admin_grants_the_handler_role(platform, admin)

    person = new_page()
    person.goto(platform.rp1.base_url + "/login")
    fill_idp_login(person, HANDLER.username, PASSWORD)
    person.locator("ul.choices li", has_text=UNIT_NAME).locator("input[name=choice]").check()
    person.get_by_role("button", name="继续").click()
    person.wait_for_url(platform.rp1.base_url + "/")
    assert person.inner_text("#acting-unit") == UNIT_NAME

    person.locator("#refresh-grant").click()
    person.wait_for_url(platform.rp1.base_url + "/")
    assert "授权信息已更新" in person.inner_text("main")
    assert person.inner_text("#acting-unit") == UNIT_NAME

    unit_admin_revokes_the_grant(platform, admin)
    sessions = platform.rp1.signed_in_sessions(HANDLER)
    person.locator("#refresh-grant").click()
    person.wait_for_load_state("domcontentloaded")
    assert person.locator("section.notice").get_attribute("data-outcome") == "withdrawn"
    assert UNIT_NAME in person.inner_text("#message")
    assert platform.rp1.signed_in_sessions(HANDLER) == sessions - 1
    assert person.locator("#logout").count() == 0
