"""Account management pages: 组团单位信息 and the record of competent-department users,
with every field validated, permissions enforced and ID numbers only ever shown masked."""

from __future__ import annotations

import html
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.training_rp.forging_issuer import ForgingIssuer
from tests.training_rp.helpers import (
    add_admin,
    add_department_user,
    add_unit,
    csrf_token_of,
    services_of,
    sign_in,
    synthetic_id,
)
from training_rp.idnumber import mask
from training_rp.models import Role

VALID_UNIT = {
    "unit_name": "中国科学院国际合作局",
    "username": "casintl2024",
    "contact": "钱联系",
    "office_phone": "010-68597521",
    "mobile": "13912345678",
    "fax": "010-68597522",
    "email": "intl@example.org",
    "active": "1",
    "id_number": synthetic_id(41),
}


def signed_in_as(app: Flask, issuer: ForgingIssuer, serial: int, sub: str) -> FlaskClient:
    client = app.test_client()
    issuer.person.id_number, issuer.person.sub = synthetic_id(serial), sub
    assert sign_in(client).status_code == 302
    return client


@pytest.fixture()
def department(app: Flask, issuer: ForgingIssuer) -> FlaskClient:
    add_department_user(app, serial=2, department="北京市科学技术委员会")
    return signed_in_as(app, issuer, 2, "sub-dept")


def post_unit(client: FlaskClient, path: str = "/accounts/units/new", **changes: str) -> Any:
    form = {**VALID_UNIT, **changes, "csrf_token": csrf_token_of(client, path)}
    return client.post(path, data=form)


def errors_of(response: Any) -> dict[str, str]:
    text = html.unescape(response.data.decode())
    found = {}
    for chunk in text.split('<span class="error" data-field="')[1:]:
        field, rest = chunk.split('">', 1)
        found[field] = rest.split("</span>", 1)[0]
    return found


def test_the_form_shows_the_fields_of_组团单位信息(department: FlaskClient) -> None:
    page = department.get("/accounts/units/new").data.decode()
    for label in (
        "单位名称",
        "登录用户名",
        "联系人",
        "办公电话",
        "移动电话",
        "传真",
        "电子邮件",
        "有效性",
        "身份证号",
    ):
        assert label in page
    assert "请输入英文字母和数字,请勿加特殊符号" in page
    assert '<option selected value="1">有效</option>' in page and '<option value="0">无效</option>' in page


def test_a_valid_unit_is_saved_and_listed_with_the_id_number_masked(
    app: Flask, department: FlaskClient
) -> None:
    response = post_unit(department)
    assert response.status_code == 302 and response.headers["Location"] == "/accounts"
    listing = department.get("/accounts").data.decode()
    assert "中国科学院国际合作局" in listing and "casintl2024" in listing
    assert mask(synthetic_id(41)) in listing
    assert synthetic_id(41) not in listing
    unit = services_of(app).accounts.list_all(Role.ORGANIZING_UNIT)[0]
    assert unit.department == "北京市科学技术委员会" and unit.active and unit.fax == "010-68597522"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("unit_name", "", "必填"),
        ("unit_name", "院", "2至100"),
        ("unit_name", "x" * 101, "2至100"),
        ("unit_name", "单位\n名称", "控制字符"),
        ("username", "", "必填"),
        ("username", "cas_intl", "英文字母和数字"),
        ("username", "cas intl", "英文字母和数字"),
        ("username", "张三", "英文字母和数字"),
        ("username", "ab", "3至32"),
        ("username", "a" * 33, "3至32"),
        ("username", "admin'--", "英文字母和数字"),
        ("contact", "", "必填"),
        ("contact", "c" * 51, "联系人"),
        ("office_phone", "", "必填"),
        ("office_phone", "phone", "电话号码"),
        ("office_phone", "010-5888", "电话号码"),
        ("mobile", "", "必填"),
        ("mobile", "12345678901", "手机号码"),
        ("mobile", "1391234567", "手机号码"),
        ("fax", "fax-number", "电话号码"),
        ("email", "", "必填"),
        ("email", "not-an-email", "电子邮件"),
        ("email", "a@b", "电子邮件"),
        ("email", "a..b@example.org", "电子邮件"),
        ("id_number", "", "必填"),
        ("id_number", "110105194912310021", "身份证号无效"),
        ("id_number", "12345", "身份证号无效"),
        ("active", "maybe", "Not a valid choice"),
    ],
)
def test_each_field_is_validated_with_a_message_at_the_field(
    field: str, value: str, message: str, app: Flask, department: FlaskClient
) -> None:
    response = post_unit(department, **{field: value})
    assert response.status_code == 400
    errors = errors_of(response)
    assert field in errors, errors
    assert message in errors[field] or field == "active"
    assert services_of(app).accounts.list_all(Role.ORGANIZING_UNIT) == []


def test_a_fax_is_optional_and_the_number_may_end_in_lower_case_x(
    app: Flask, department: FlaskClient
) -> None:
    first17 = "11010519491231002"
    assert post_unit(department, fax="", id_number=first17 + "x").status_code == 302
    unit = services_of(app).accounts.list_all(Role.ORGANIZING_UNIT)[0]
    assert unit.fax is None and unit.id_number_masked.endswith("002X")


def test_a_taken_username_or_id_number_is_refused_at_its_field(department: FlaskClient) -> None:
    assert post_unit(department).status_code == 302
    same_name = post_unit(department, username="CASINTL2024", id_number=synthetic_id(42))
    assert same_name.status_code == 409 and "已被使用" in errors_of(same_name)["username"]
    same_person = post_unit(department, username="other2024")
    assert same_person.status_code == 409 and "已登记" in errors_of(same_person)["id_number"]


def test_the_form_needs_its_csrf_token(app: Flask, department: FlaskClient) -> None:
    response = department.post("/accounts/units/new", data=VALID_UNIT)
    assert response.status_code == 400
    assert services_of(app).accounts.list_all(Role.ORGANIZING_UNIT) == []


def test_hostile_text_is_stored_as_text_and_escaped_on_pages(department: FlaskClient) -> None:
    assert post_unit(department, unit_name="<script>alert(1)</script>单位").status_code == 302
    listing = department.get("/accounts").data.decode()
    assert "<script>alert(1)</script>" not in listing
    assert "&lt;script&gt;alert(1)&lt;/script&gt;单位" in listing


def test_editing_keeps_the_number_when_left_blank_and_a_new_number_unbinds(
    app: Flask, issuer: ForgingIssuer, department: FlaskClient
) -> None:
    assert post_unit(department).status_code == 302
    unit = services_of(app).accounts.list_all(Role.ORGANIZING_UNIT)[0]
    unit_client = signed_in_as(app, issuer, 41, "sub-unit")
    assert services_of(app).accounts.get(unit.id).bound  # type: ignore[union-attr]

    path = f"/accounts/units/{unit.id}"
    page = department.get(path).data.decode()
    assert mask(synthetic_id(41)) in page and synthetic_id(41) not in page
    assert post_unit(department, path, contact="孙新联系", id_number="").status_code == 302
    kept = services_of(app).accounts.get(unit.id)
    assert kept is not None and kept.name == "孙新联系" and kept.bound

    assert post_unit(department, path, id_number=synthetic_id(43)).status_code == 302
    changed = services_of(app).accounts.get(unit.id)
    assert changed is not None and not changed.bound and changed.id_number_masked == mask(synthetic_id(43))
    assert b'id="logout"' not in unit_client.get("/").data, "the old holder's session ended"


def test_a_unit_user_has_no_account_management(
    app: Flask, issuer: ForgingIssuer, department: FlaskClient
) -> None:
    post_unit(department)
    unit_client = signed_in_as(app, issuer, 41, "sub-unit")
    home = unit_client.get("/").data.decode()
    assert "组团单位用户" in home and "中国科学院国际合作局" in home
    assert "账号管理" not in home
    for path in ("/accounts", "/accounts/units/new", "/accounts/departments/new"):
        assert unit_client.get(path).status_code == 403


def test_a_department_sees_and_edits_only_its_own_units(
    app: Flask, issuer: ForgingIssuer, department: FlaskClient
) -> None:
    other = add_department_user(app, serial=50, department="上海市科学技术委员会")
    foreign = add_unit(app, other, serial=51)
    assert "测试组团单位51" not in department.get("/accounts").data.decode()
    assert department.get(f"/accounts/units/{foreign.id}").status_code == 404
    token = csrf_token_of(department, "/accounts/units/new")
    assert (
        department.post(f"/accounts/units/{foreign.id}", data={**VALID_UNIT, "csrf_token": token}).status_code
        == 404
    )
    assert department.get("/accounts/units/999999").status_code == 404
    assert department.get("/accounts/departments/new").status_code == 403


def test_the_ministry_administrator_records_department_users(app: Flask, issuer: ForgingIssuer) -> None:
    add_admin(app, serial=1)
    admin = signed_in_as(app, issuer, 1, "sub-admin")
    assert "引智司管理员" in admin.get("/").data.decode()
    path = "/accounts/departments/new"
    form = {
        "name": "周部门",
        "department": "教育部国际合作与交流司",
        "active": "1",
        "id_number": synthetic_id(60),
    }
    bad = admin.post(path, data={**form, "id_number": "123", "csrf_token": csrf_token_of(admin, path)})
    assert bad.status_code == 400 and "身份证号无效" in errors_of(bad)["id_number"]
    empty = admin.post(
        path, data={**form, "name": "", "department": "", "csrf_token": csrf_token_of(admin, path)}
    )
    assert {"name", "department"} <= set(errors_of(empty))
    assert admin.post(path, data={**form, "csrf_token": csrf_token_of(admin, path)}).status_code == 302
    listing = admin.get("/accounts").data.decode()
    assert "周部门" in listing and mask(synthetic_id(60)) in listing and synthetic_id(60) not in listing
    assert admin.get("/accounts/units/new").status_code == 403

    person = services_of(app).accounts.list_all(Role.DEPARTMENT_USER)[0]
    edit = f"/accounts/departments/{person.id}"
    response = admin.post(
        edit, data={**form, "id_number": "", "active": "0", "csrf_token": csrf_token_of(admin, edit)}
    )
    assert response.status_code == 302
    assert not services_of(app).accounts.get(person.id).active  # type: ignore[union-attr]


def test_the_three_entries_show_the_role_view_without_invented_data(
    app: Flask, issuer: ForgingIssuer, department: FlaskClient
) -> None:
    post_unit(department)
    for path, title, empty in (
        ("/projects", "项目管理", "暂无培训项目"),
        ("/matchmaking", "对接洽谈", "暂无对接洽谈记录"),
        ("/exams", "学员考试", "暂无考试安排"),
    ):
        page = department.get(path).data.decode()
        assert title in page and empty in page
        assert "出国(境)培训归口管理部门用户" in page and "中国科学院国际合作局" in page
