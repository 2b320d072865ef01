"""The unit pages over HTTP: registration, the consoles, the operator page, and hostile requests."""

from __future__ import annotations

import dataclasses
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from idp.accounts.models import User
from idp.audit.services import events
from idp.orgs.grants import role_still_granted, roles_for_client
from idp.realname.identity import IdentityCodec
from idp.realname.models import PersonProfile
from national_source.register import DEMO_PEOPLE
from tests.integration.orgs_world import (
    PASSWORD,
    TRAINING,
    UNIT_PASSWORD,
    World,
    credit_codes,
    page_csrf,
    post_form,
    sign_in,
)

pytest_plugins = ("tests.integration.orgs_fixtures",)

ZHANG = DEMO_PEOPLE[0]
FORM = "application/x-www-form-urlencoded"
FLASH_ERROR = re.compile(r'class="org-flash org-flash-error"[^>]*>([^<]*)<')


def signed_in(app: Flask, username: str, password: str, tab: str) -> FlaskClient:
    client = app.test_client()
    response = sign_in(client, username, password, tab)
    assert response.status_code == 303, response.get_data(as_text=True)[:400]
    return client


@pytest.fixture()
def admin(org_app: Flask, app_world: World) -> FlaskClient:
    return signed_in(org_app, "bjexchange", UNIT_PASSWORD, "legal")


def text_of(response: object) -> str:
    return response.get_data(as_text=True)  # type: ignore[attr-defined, no-any-return]


# --- registration and the operator -------------------------------------------------------------------


def test_a_unit_registers_and_an_operator_approves_it_on_the_web(org_app: Flask, app_world: World) -> None:
    client = org_app.test_client()
    form = client.get("/org/register")
    assert (
        form.status_code == 200 and "统一社会信用代码" in text_of(form) and "单位管理员账号" in text_of(form)
    )
    code = credit_codes(2)[1]
    fields = {
        "credit_code": code.lower(),
        "name": "杭州示例科技有限公司",
        "unit_type": "enterprise",
        "address": "浙江省杭州市",
        "contact_name": "周经理",
        "contact_phone": "0571-8888 0000",
        "contact_email": "zhou@example.cn",
        "admin_username": "hzexample",
        "password": UNIT_PASSWORD,
        "password_confirm": UNIT_PASSWORD,
    }
    done = post_form(client, "/org/register", "/org/register", **fields)
    assert done.status_code == 200 and "请等待平台审核" in text_of(done) and code in text_of(done)
    refused = sign_in(org_app.test_client(), "hzexample", UNIT_PASSWORD, "legal")
    assert refused.status_code == 400, "not before an operator approves"

    app_world.person("opsperson", roles=["operator"])
    operator = signed_in(org_app, "opsperson", PASSWORD, "natural")
    queue = operator.get("/org/operator")
    assert queue.status_code == 200 and "杭州示例科技有限公司" in text_of(queue)
    decided = post_form(operator, "/org/operator", f"/org/operator/units/{code}", decision="approve")
    assert decided.status_code == 303

    approved = signed_in(org_app, code, UNIT_PASSWORD, "legal")
    assert "杭州示例科技有限公司" in text_of(approved.get("/org"))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"credit_code": "91350100M000100Y44"}, "校验位"),
        ({"credit_code": ""}, "统一社会信用代码"),
        ({"password_confirm": "Something-Else-99"}, "两次输入的密码不一致"),
        ({"password": "123", "password_confirm": "123"}, "密码"),
        ({"admin_username": "bad name!"}, "登录名"),
        ({"unit_type": "cult"}, "单位类型"),
        ({"name": "x" * 5000}, ""),
        ({"contact_email": "not-an-email"}, "电子邮箱"),
    ],
)
def test_bad_registrations_say_why_and_store_nothing(
    org_app: Flask, app_world: World, changes: dict[str, str], message: str
) -> None:
    client = org_app.test_client()
    fields = {
        "credit_code": credit_codes(2)[1],
        "name": "某某公司",
        "unit_type": "enterprise",
        "admin_username": "moumou",
        "password": UNIT_PASSWORD,
        "password_confirm": UNIT_PASSWORD,
        **changes,
    }
    response = post_form(client, "/org/register", "/org/register", **fields)
    assert 400 <= response.status_code < 500
    assert message in text_of(response) and 'class="form-error"' in text_of(response)
    assert app_world.accounts.find_by_username("moumou") is None


def test_registration_shows_a_captcha_unless_it_is_off(org_app: Flask) -> None:
    svc = org_app.extensions["idp"]
    svc.settings = dataclasses.replace(svc.settings, captcha="always")
    client = org_app.test_client()
    page = text_of(client.get("/org/register"))
    assert 'name="captcha_id"' in page and "/captcha/" in page
    response = post_form(
        client,
        "/org/register",
        "/org/register",
        credit_code=credit_codes(2)[1],
        name="某某公司",
        unit_type="enterprise",
        admin_username="moumou",
        password=UNIT_PASSWORD,
        password_confirm=UNIT_PASSWORD,
        captcha="WRONG",
        captcha_id="0" * 32,
    )
    assert response.status_code == 400 and "验证码" in text_of(response)


# --- the unit admin console --------------------------------------------------------------------------


def test_the_console_needs_the_unit_admin(org_app: Flask, app_world: World) -> None:
    anonymous = org_app.test_client().get("/org")
    assert anonymous.status_code == 302 and "type=legal" in anonymous.headers["Location"]
    app_world.person("lina1990")
    person = signed_in(org_app, "lina1990", PASSWORD, "natural")
    assert person.get("/org").headers["Location"].endswith("/org/manage")
    refused = person.get("/org/manage")
    assert refused.status_code == 403 and "无权访问" in text_of(refused)
    assert person.get("/org/operator").status_code == 403
    assert person.post("/org/users/grant").status_code == 400, "CSRF first"


def test_the_admin_keeps_unit_information(admin: FlaskClient, app_world: World) -> None:
    page = text_of(admin.get("/org"))
    assert app_world.unit.credit_code in page and 'name="contact_name"' in page
    saved = post_form(
        admin,
        "/org",
        "/org/info",
        name="北京示例国际交流中心",
        unit_type="institution",
        address="北京市西城区",
        contact_name="王老师",
        contact_phone="010-6000 0000",
        contact_email="",
    )
    assert saved.status_code == 303
    after = text_of(admin.get("/org"))
    assert "北京市西城区" in after and "单位信息已保存" in after
    bad = post_form(admin, "/org", "/org/info", name="北", unit_type="institution")
    assert bad.status_code == 400 and FLASH_ERROR.search(text_of(bad))


def test_the_admin_applies_for_a_matter_and_follows_its_progress(
    admin: FlaskClient, app_world: World
) -> None:
    page = text_of(admin.get("/org/matters"))
    assert "国家科技经费预算申报管理" in page and "thirdparty" not in page
    applied = post_form(admin, "/org/matters", "/org/matters", client_id="funding", note="申报经费")
    assert applied.status_code == 303
    progress = text_of(admin.get("/org/matters"))
    assert "待审核" in progress and "已批准" in progress
    again = post_form(admin, "/org/matters", "/org/matters", client_id="funding")
    assert again.status_code == 409 and "已申请" in text_of(again)
    for hostile in ("thirdparty", "no-such", "\x00", "x" * 300):
        refused = post_form(admin, "/org/matters", "/org/matters", client_id=hostile)
        assert refused.status_code == 400, hostile


def test_search_grant_and_revoke_on_the_console(org_app: Flask, admin: FlaskClient, app_world: World) -> None:
    zhang = app_world.person("zhangwei85", ZHANG.name)
    envelope, index = IdentityCodec(app_world.settings).seal_number(ZHANG.id_number)
    with app_world.db.transaction() as session:
        session.add(PersonProfile(user_id=zhang.id, id_number_enc=envelope, id_number_index=index))

    found = admin.post(
        "/org/users/search", data={"csrf_token": page_csrf(admin, "/org/users"), "query": ZHANG.id_number}
    )
    html = text_of(found)
    assert found.status_code == 200 and "zh*******5" in html and "张*" in html
    assert ZHANG.id_number not in html and ZHANG.name not in html and "zhangwei85" not in html
    assert f'name="user_id" value="{zhang.id}"' in html

    granted = post_form(
        admin,
        "/org/users",
        "/org/users/grant",
        user_id=zhang.id,
        matter=f"{app_world.unit.id}:{TRAINING}",
        role="matter_handler",
    )
    assert granted.status_code == 303
    listing = text_of(admin.get("/org/users"))
    assert "授权成功" in listing and "事项办理员" in listing and "zh*******5" in listing
    assert role_still_granted(app_world.db, zhang.id, app_world.unit.id, TRAINING, "matter_handler")

    person = signed_in(org_app, "zhangwei85", PASSWORD, "natural")
    me = person.get("/me/grants")
    assert me.status_code == 200 and app_world.unit.name in text_of(me) and "事项办理员" in text_of(me)

    [grant] = app_world.delegation.of_unit(app_world.unit.id)
    revoked = post_form(admin, "/org/users", f"/org/grants/{grant.id}/revoke")
    assert revoked.status_code == 303
    assert roles_for_client(app_world.db, zhang.id, TRAINING) == []
    assert "已撤销授权" in text_of(admin.get("/org/users"))


def test_misses_and_bad_searches_show_a_plain_message(admin: FlaskClient) -> None:
    token = page_csrf(admin, "/org/users")
    miss = admin.post("/org/users/search", data={"csrf_token": token, "query": "nobody_here"})
    assert miss.status_code == 200 and "未找到该用户" in text_of(miss)
    for hostile in ("", "x" * 65, "a\nb"):
        refused = admin.post("/org/users/search", data={"csrf_token": token, "query": hostile})
        assert refused.status_code == 400 and FLASH_ERROR.search(text_of(refused)), hostile


def test_forged_grant_forms_change_nothing(org_app: Flask, admin: FlaskClient, app_world: World) -> None:
    li = app_world.person("lina1990")
    other_unit, other_admin = app_world.add_unit(credit_codes(2)[1], "上海示例科技有限公司", "shexample")
    app_world.approve_matter(other_admin)
    forged = [
        {"user_id": li.id, "matter": f"{other_unit.id}:{TRAINING}", "role": "matter_handler"},
        {"user_id": li.id, "matter": f"{app_world.unit.id}:funding", "role": "matter_handler"},
        {"user_id": li.id, "matter": f"{app_world.unit.id}:{TRAINING}", "role": "unit_admin"},
        {"user_id": other_admin.id, "matter": f"{app_world.unit.id}:{TRAINING}", "role": "matter_handler"},
        {"user_id": "../../etc", "matter": "x", "role": "matter_handler"},
        {"user_id": li.id, "matter": "\x00:\x00", "role": "matter_handler"},
        {"user_id": li.id, "matter": "", "role": ""},
    ]
    for fields in forged:
        response = post_form(admin, "/org/users", "/org/users/grant", **fields)
        assert response.status_code == 303, fields
        assert FLASH_ERROR.search(text_of(admin.get("/org/users"))), fields
    assert roles_for_client(app_world.db, li.id, TRAINING) == []
    assert roles_for_client(app_world.db, other_admin.id, TRAINING)[0].unit_id == other_unit.id


# --- the matter manager console ----------------------------------------------------------------------


def test_a_manager_delegates_handlers_only(org_app: Flask, app_world: World) -> None:
    wang = app_world.person("wangfang78", "王芳")
    zhang = app_world.person("zhangwei85", "张伟")
    app_world.delegation.grant(app_world.admin_actor, app_world.unit.id, TRAINING, wang.id, "matter_manager")
    manager = signed_in(org_app, "wangfang78", PASSWORD, "natural")
    page = manager.get("/org/manage")
    assert page.status_code == 200 and app_world.unit.name in text_of(page)
    assert 'value="matter_manager"' not in text_of(page), "no manager role offered"

    found = manager.post(
        "/org/manage/search", data={"csrf_token": page_csrf(manager, "/org/manage"), "query": "zhangwei85"}
    )
    assert "zh*******5" in text_of(found)
    matter = f"{app_world.unit.id}:{TRAINING}"
    escalate = post_form(
        manager, "/org/manage", "/org/manage/grant", user_id=zhang.id, matter=matter, role="matter_manager"
    )
    assert escalate.status_code == 303 and roles_for_client(app_world.db, zhang.id, TRAINING) == []
    assert "事项管理员只能授予事项办理员角色" in text_of(manager.get("/org/manage"))
    handler = post_form(
        manager, "/org/manage", "/org/manage/grant", user_id=zhang.id, matter=matter, role="matter_handler"
    )
    assert handler.status_code == 303
    assert [r.role for r in roles_for_client(app_world.db, zhang.id, TRAINING)] == ["matter_handler"]

    worker = signed_in(org_app, "zhangwei85", PASSWORD, "natural")
    assert worker.get("/org/manage").status_code == 403, "a handler has no console"
    [grant] = [g for g in app_world.delegation.of_unit(app_world.unit.id) if g.role == "matter_handler"]
    refused = post_form(worker, "/me", f"/org/grants/{grant.id}/revoke")
    assert refused.status_code == 303 and roles_for_client(app_world.db, zhang.id, TRAINING)
    post_form(manager, "/org/manage", f"/org/grants/{grant.id}/revoke")
    assert roles_for_client(app_world.db, zhang.id, TRAINING) == []
    with app_world.db.transaction() as session:
        assert [e.actor for e in events(session, event="org.role_revoked")] == [wang.id]


# --- hostile requests never reach a 500 --------------------------------------------------------------


HOSTILE_TARGETS = (
    "/org/register",
    "/org/info",
    "/org/matters",
    "/org/users/search",
    "/org/users/grant",
    "/org/grants/1/revoke",
    "/org/manage/search",
    "/org/manage/grant",
    "/org/operator/units/91350100M000100Y43",
    "/org/operator/requests/1",
)


def test_hostile_posts_get_a_clear_answer(org_app: Flask, app_world: World, admin: FlaskClient) -> None:
    manager = app_world.person("opsperson", roles=["operator"])
    app_world.delegation.grant(
        app_world.admin_actor, app_world.unit.id, TRAINING, manager.id, "matter_manager"
    )
    operator = signed_in(org_app, "opsperson", PASSWORD, "natural")
    for path in HOSTILE_TARGETS:
        _post_garbage(admin, path)
        _post_garbage(operator, path)
    assert admin.get("/org/grants/1/revoke").status_code == 405
    assert admin.post("/org/grants/not-a-number/revoke").status_code in (400, 404)
    assert admin.post("/org/grants/99999999999999999999999/revoke").status_code < 500


def _post_garbage(client: FlaskClient, path: str) -> None:
    token = page_csrf(client, "/org/register")
    forms: list[dict[str, str]] = [
        {},
        {"csrf_token": "forged"},
        {"csrf_token": token, "query": "\x00", "name": "\x00", "client_id": "%", "matter": ":" * 100},
        {"csrf_token": token, "user_id": "1" * 10_000, "role": "x" * 10_000, "decision": "maybe"},
    ]
    raw: list[tuple[bytes, str]] = [
        # Invalid UTF-8 behind percent escapes, and bytes that are no form at all.
        (f"csrf_token={token}&query=%ED%A0%80&name=%FF%FE&decision=%C0%AF".encode(), FORM),
        (b"\xff\xfe\xfa" * 100, FORM),
        (b"\xff\xfe\xfa" * 100, "text/plain"),
    ]
    for fields in forms:
        response = client.post(path, data=fields)
        assert response.status_code < 500, (path, fields)
        assert "Traceback" not in text_of(response)
    for body, content_type in raw:
        response = client.post(path, data=body, content_type=content_type)
        assert response.status_code < 500, (path, body[:40])


def test_pages_keep_to_the_content_security_policy(org_app: Flask, admin: FlaskClient) -> None:
    for path in ("/org", "/org/matters", "/org/users", "/org/register"):
        response = admin.get(path)
        html = text_of(response)
        assert response.status_code == 200, path
        assert "style=" not in html and "<script" not in html, path
        assert "css/orgs.css" in html
        assert response.headers["Cache-Control"] == "no-store"


def test_unit_pages_read_in_english_too(admin: FlaskClient) -> None:
    response = admin.get("/org?lang=en")
    assert response.status_code == 200 and 'lang="en"' in text_of(response)


def test_a_disabled_admin_is_sent_back_to_sign_in(
    org_app: Flask, admin: FlaskClient, app_world: World
) -> None:
    with app_world.db.transaction() as session:
        row = session.get(User, app_world.admin.id)
        assert row is not None
        row.disabled = True
    response = admin.get("/org")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
