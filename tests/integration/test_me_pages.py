"""我的信息, 修改个人信息 and 上传自然人信息 through the app, against the real verification simulator.

Both storage set-ups (SQLite + embedded store, PostgreSQL + Redis). Hostile input everywhere gets a
clear message and never a 500; the full ID number never reaches a page.
"""

from __future__ import annotations

import io
import random
import struct
import zlib
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from idp.accounts.models import User
from idp.accounts.services import AccountService
from idp.context import Services
from idp.oidc.clients import ClientService, ClientSpec
from idp.orgs.creditcode import generate_credit_code
from idp.orgs.models import MatterPermission, PermissionStatus, RoleGrant, Unit, UnitStatus
from idp.realname.wiring import profile_service
from national_source.register import DEMO_PEOPLE
from tests.integration.oidc.conftest import PASSWORD, Person, csrf_of, idp_app, login  # noqa: F401 - idp_app
from tests.integration.realname.conftest import TOKEN, photo, source_url  # noqa: F401 - source_url
from tests.support.live import free_port

ZHANG, LI, WANG = DEMO_PEOPLE[:3]


# --- helpers shared by the real-name page tests -------------------------------------------------


def use_source(svc: Services, url: str) -> None:
    """Point the app's real-name services at ``url`` (the app's own default names no running source)."""
    settings = replace(svc.settings, realname_source_url=url, realname_source_token=TOKEN)
    svc.extras.pop("profile_service", None)
    svc.extras["profile_service"] = profile_service(Services(settings, svc.db, svc.store))


# The fixtures below carry names of their own (``name=``), so other test modules can import them.


@pytest.fixture(name="app")
def app_fixture(idp_app: Flask, source_url: str) -> Flask:  # noqa: F811 - builds on the imported fixtures
    """The IdP (both storage set-ups) checking real names against the simulator process."""
    use_source(idp_app.extensions["idp"], source_url)
    return idp_app


@pytest.fixture(name="svc")
def svc_fixture(app: Flask) -> Services:
    services: Services = app.extensions["idp"]
    return services


@pytest.fixture(name="anon")
def anon_fixture(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture()
def owner(svc: Services) -> Person:
    user = AccountService(svc.db, svc.store, svc.settings).create_user(
        "zhangsan", PASSWORD, email="zs@example.cn"
    )
    return Person(user.id, "zhangsan", PASSWORD)


@pytest.fixture()
def client(app: Flask, owner: Person) -> FlaskClient:
    """The browser of ``owner``, signed in."""
    browser = app.test_client()
    assert login(browser, owner).status_code == 303
    return browser


def profile_form(who: Any, **changes: str) -> dict[str, str]:
    """修改个人信息 as a person fills it in for the demo person ``who``."""
    data = {
        "name": who.name,
        "gender": who.gender,
        "ethnicity": "01",
        "position": "工程师",
        "birth_date": who.birth_date,
        "landline": "010-58884232",
        "region_type": "mainland",
        "document_type": "resident_id",
        "id_number": who.id_number,
        "id_valid_from": "2016-11-11",
        "id_valid_to": "2036-11-11",
        "continent": "AS",
        "country": "CN",
        "address": "北京市海淀区",
    }
    data.update(changes)
    return data


def post_form(client: FlaskClient, path: str, data: dict[str, Any], page: str | None = None) -> Any:
    token = csrf_of(client.get(page or path).get_data(as_text=True))
    return client.post(path, data={**data, "csrf_token": token})


def save_profile(client: FlaskClient, who: Any, **changes: str) -> Any:
    return post_form(client, "/me/edit", profile_form(who, **changes))


def upload(client: FlaskClient, side: str, data: bytes, name: str = "card.png") -> Any:
    token = csrf_of(client.get("/me/realname/upload").get_data(as_text=True))
    return client.post(
        "/me/realname/upload",
        data={"csrf_token": token, "side": side, "photo": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def submit(client: FlaskClient) -> Any:
    return post_form(client, "/me/realname/submit", {}, page="/me/realname/upload")


def second_person(svc: Services, client: FlaskClient, username: str, **extra: Any) -> Person:
    accounts = AccountService(svc.db, svc.store, svc.settings)
    user = accounts.create_user(username, PASSWORD, **extra)
    who = Person(user.id, username, PASSWORD)
    assert login(client, who).status_code == 303
    return who


def text(response: Any) -> str:
    body: str = response.get_data(as_text=True)
    return body


def bomb_png(width: int = 30000, height: int = 30000) -> bytes:
    """A small PNG whose header claims ``width`` x ``height`` grey pixels (a decompression bomb)."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    rows = zlib.compress(b"\x00" * (width + 1) * 4, 9)
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


# --- 我的信息 --------------------------------------------------------------------------------------


def test_pages_need_a_session(anon: FlaskClient) -> None:
    for path in ("/me", "/me/grants", "/me/edit", "/me/realname/upload"):
        response = anon.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")
    assert anon.get("/me/realname/documents/" + "a" * 32).status_code == 403


def test_my_information_shows_every_field_masked_after_verification(
    client: FlaskClient,
    svc: Services,
    owner: Person,
) -> None:
    with svc.db.transaction() as session:
        user = session.get(User, owner.id)
        assert user is not None
        user.phone_number = "18612345512"
    before = text(client.get("/me"))
    assert "未实名认证" in before and "(用户信息不全,请及时补充!)" in before

    response = save_profile(client, ZHANG)
    assert response.status_code == 303 and response.headers["Location"] == "/me"
    page = text(client.get("/me"))
    for label in (
        "登录名", "姓名", "性别", "民族", "职务", "出生日期", "电子邮箱", "手机", "电话", "类型",
        "证件类型", "证件号码", "身份证有效日期", "所属大洲", "所属国家", "详细地址",
        "修改个人信息", "修改密码", "上传自然人信息", "我的关注", "我要办理", "我的事项", "我的评价",
        "自然人用户信息", "法人(单位)授权办理情况",
    ):  # fmt: skip
        assert label in page, label
    assert "实名认证状态:" in page and "国家平台实名认证通过" in page
    assert "实名认证成功" in page, "the outcome of the automatic check is shown once"
    for value in (ZHANG.name, "男", "汉族", "工程师", ZHANG.birth_date, "zs@example.cn", "18******512"):
        assert value in page, value
    assert "中华人民共和国大陆地区" in page and "居民身份证" in page and "亚洲" in page and "中国" in page
    assert "2016-11-11 至 2036-11-11" in page and "北京市海淀区" in page
    assert ZHANG.id_number[:4] + "*" * 10 + ZHANG.id_number[-4:] in page
    assert ZHANG.id_number not in page and "18612345512" not in page
    assert "(用户信息不全" not in page
    assert text(client.get("/me")).count("实名认证成功") == 0, "the message is shown only once"


def test_grants_tab_lists_the_units_grants_or_says_none(
    client: FlaskClient,
    svc: Services,
    owner: Person,
) -> None:
    empty = client.get("/me/grants")
    assert empty.status_code == 200 and "暂无授权" in text(empty)

    ClientService(svc.db, svc.settings).add(
        ClientSpec(
            client_id="training", name="因公出国(境)培训项目管理系统", redirect_uris=["https://rp.example/cb"]
        )
    )
    admin = AccountService(svc.db, svc.store, svc.settings).create_user(
        "unit_admin_1", PASSWORD, account_type="legal"
    )
    code = generate_credit_code(random.Random(7))
    with svc.db.transaction() as session:
        unit = Unit(credit_code=code, name="某某大学", admin_user_id=admin.id, status=UnitStatus.ACTIVE.value)
        session.add(unit)
        session.flush()
        session.add(
            MatterPermission(
                unit_id=unit.id,
                client_id="training",
                status=PermissionStatus.APPROVED.value,
                requested_by=admin.id,
            )
        )
        session.add(
            RoleGrant(
                unit_id=unit.id,
                client_id="training",
                user_id=owner.id,
                role="matter_handler",
                granted_by=admin.id,
            )
        )
    page = text(client.get("/me/grants"))
    assert "某某大学" in page and code in page and "因公出国(境)培训项目管理系统" in page
    assert "事项办理员" in page and "暂无授权" not in page


# --- 修改个人信息 ----------------------------------------------------------------------------------


def test_edit_form_marks_required_fields_and_offers_the_lists(client: FlaskClient) -> None:
    page = text(client.get("/me/edit"))
    assert page.count('class="req"') == 8, "姓名 性别 出生日期 类型 证件类型 证件号码 所属大洲 所属国家"
    assert "带*号的为必填项,且所填写内容必须真实有效。" in page
    assert page.count('<option value="') >= 56 + 2 + 6 + 7 + 190
    assert "傈僳族" in page and "基诺族" in page and "港、澳、台地区" in page and "护照" in page
    assert "<script" in page and "style=" not in page, "only the external script; nothing inline"


def test_missing_and_hostile_values_get_messages_per_field(
    client: FlaskClient,
    svc: Services,
    owner: Person,
) -> None:
    cases: list[tuple[dict[str, str], str, str]] = [
        ({"name": ""}, "name", "请填写姓名。"),
        ({"gender": ""}, "gender", "请选择性别。"),
        ({"name": "张" * 51}, "name", "内容过长,最多 50 个字符。"),
        ({"address": "x" * 5000}, "address", "内容过长,最多 300 个字符。"),
        ({"gender": "<script>alert(1)</script>"}, "gender", "请从列表中选择。"),
        ({"ethnicity": "99"}, "ethnicity", "请从列表中选择。"),
        ({"country": "ZZ"}, "country", "请从列表中选择。"),
        ({"country": "US"}, "country", "所属国家不在所选大洲。"),
        ({"document_type": "hk_macao_permit"}, "document_type", "该证件类型与所选类型不符。"),
        ({"id_number": ZHANG.id_number[:-1] + "0"}, "id_number", "身份证号码校验位错误"),
        ({"id_number": ""}, "id_number", "请填写证件号码。"),
        ({"birth_date": "1985-13-45"}, "birth_date", "出生日期格式应为 YYYY-MM-DD。"),
        ({"birth_date": "1986-06-15"}, "id_number", "身份证号码与出生日期不一致。"),
        ({"position": "经理\r\nSet-Cookie: x=1"}, "position", "position 过长或含有非法字符。"),
    ]
    for changes, field, message in cases:
        response = save_profile(client, ZHANG, **changes)
        body = text(response)
        assert response.status_code == 400, (changes, response.status_code)
        assert f'id="error-{field}"' in body and message in body, (changes, field)
        assert "<script>alert(1)</script>" not in body
        assert ZHANG.id_number not in body, "a posted number is not echoed either"
    _, profile = profile_service(svc).load(owner.id)
    assert profile.id_number_enc is None, "nothing was saved"

    # Invalid UTF-8 and a 3 MB field: a clear page, never a 500.
    token = csrf_of(text(client.get("/me/edit")))
    raw = client.post(
        "/me/edit",
        data=b"csrf_token=" + token.encode() + b"&name=%FF%FE&gender=male",
        content_type="application/x-www-form-urlencoded",
    )
    assert raw.status_code == 400
    huge = client.post("/me/edit", data={"csrf_token": token, "address": "x" * (3 * 1024 * 1024)})
    assert huge.status_code == 400 and "内容过长,最多 300 个字符。" in text(huge)


def test_wrong_or_missing_csrf_token_changes_nothing(
    client: FlaskClient,
    svc: Services,
    owner: Person,
) -> None:
    for token in ("", "forged-token"):
        response = client.post("/me/edit", data={**profile_form(ZHANG), "csrf_token": token})
        assert response.status_code == 400 and "页面已过期" in text(response)
    user, profile = profile_service(svc).load(owner.id)
    assert user.realname_status == "unverified" and profile.id_number_enc is None


def test_verified_identity_is_read_only_and_the_number_is_kept(
    client: FlaskClient,
    svc: Services,
    owner: Person,
) -> None:
    assert save_profile(client, ZHANG).status_code == 303
    page = text(client.get("/me/edit"))
    assert "实名认证已通过,姓名、性别、出生日期、类型、证件类型和证件号码不可修改。" in page
    for field in ('id="name"', 'id="gender"', 'id="birth_date"', 'id="document_type"', 'id="id_number"'):
        tag = page[page.index(field) : page.index(">", page.index(field))]
        assert " disabled" in tag, field
    assert ZHANG.id_number not in page and ZHANG.id_number[:4] + "*" * 10 in page

    # A forged post of other identity values is ignored; other fields are saved; the number stays.
    changed = profile_form(
        ZHANG, name="李四", birth_date="1990-01-01", id_number="", address="上海市浦东新区"
    )
    response = post_form(client, "/me/edit", changed)
    assert response.status_code == 303
    user, profile = profile_service(svc).load(owner.id)
    assert user.name == ZHANG.name and user.realname_status == "verified"
    assert profile.address == "上海市浦东新区" and profile.id_number_enc is not None
    assert (
        profile_service(svc).masked_id_number(profile)
        == ZHANG.id_number[:4] + "*" * 10 + ZHANG.id_number[-4:]
    )


def test_source_down_keeps_the_status_and_says_try_later(
    client: FlaskClient,
    svc: Services,
    owner: Person,
) -> None:
    use_source(svc, f"http://127.0.0.1:{free_port()}")  # nothing listens there
    response = save_profile(client, ZHANG)
    assert response.status_code == 303
    page = text(client.get("/me"))
    assert "实名核验服务暂时不可用,请稍后再试。" in page
    assert "未实名认证" in page and ZHANG.name in page, "saved, status unchanged"
    assert profile_service(svc).load(owner.id)[0].realname_status == "unverified"


def test_a_blank_number_keeps_the_stored_one_until_verified(
    client: FlaskClient,
    svc: Services,
    owner: Person,
) -> None:
    assert save_profile(client, ZHANG, name="张伟伟").status_code == 303
    assert "实名认证未通过" in text(client.get("/me"))
    page = text(client.get("/me/edit"))
    assert 'value=""' in page[page.index('id="id_number"') :][:300] and "已填写,如不修改请留空。" in page
    # Correcting only the name, the number left blank: the stored number is checked again and passes.
    assert save_profile(client, ZHANG, id_number="").status_code == 303
    assert profile_service(svc).load(owner.id)[0].realname_status == "verified"


# --- 上传自然人信息 ------------------------------------------------------------------------------


def test_uploads_only_after_a_failed_check(client: FlaskClient) -> None:
    page = text(client.get("/me/realname/upload"))
    assert "请完成所有信息上传后点击“提交”按钮。" in page and "用户证件相关信息须签字后上传。" in page
    assert "如您在实名审核期间修改了个人相关信息,请重新上传相关信息。" in page
    assert "实名认证状态为“已实名认证”、“已审核认证”在此页面只能查看已上传信息。" in page
    assert 'type="file"' not in page, "nothing to upload before a failed check"
    refused = upload(client, "front", photo())
    assert refused.status_code == 409 and "当前状态下不能上传证件照片。" in text(refused)


def test_hostile_uploads_are_refused_with_a_message(client: FlaskClient) -> None:
    assert save_profile(client, ZHANG, name="张伟伟").status_code == 303
    cases = [
        (b"GIF89a not an image we take", "只能上传 JPEG 或 PNG 格式的图片。"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "只能上传 JPEG 或 PNG"),
        (b"\xff\xd8\xff" + b"\x00" * (6 * 1024 * 1024), "图片不能超过 5 MB。"),
        (bomb_png(), "图片尺寸过大"),
        (photo(fmt="PNG") + b"PK\x03\x04 a zip after the image", "图片中含有不允许的附加内容"),
        (b"", "请选择要上传的图片。"),
    ]
    for data, message in cases:
        response = upload(client, "front", data)
        assert response.status_code == 400, (message, response.status_code)
        assert message in text(response)
    assert "未上传" in text(client.get("/me/realname/upload"))
    wrong_side = upload(client, "middle", photo())
    assert wrong_side.status_code == 400 and "请选择正面或反面。" in text(wrong_side)
    no_token = client.post(
        "/me/realname/upload",
        data={"side": "front", "photo": (io.BytesIO(photo()), "a.jpg")},
        content_type="multipart/form-data",
    )
    assert no_token.status_code == 400 and "页面已过期" in text(no_token)


def test_upload_preview_submit_and_who_may_see_the_photos(
    client: FlaskClient,
    svc: Services,
    app: Flask,
) -> None:
    assert save_profile(client, ZHANG, name="张伟伟").status_code == 303
    early = submit(client)
    assert early.status_code == 400 and "请上传身份证正面和反面照片后再提交。" in text(early)
    assert upload(client, "front", photo("white", "PNG")).status_code == 303
    assert upload(client, "back", photo("gray", "JPEG")).status_code == 303
    page = text(client.get("/me/realname/upload"))
    links = sorted(set(part.split('"')[0] for part in page.split('src="/me/realname/documents/')[1:]))
    assert len(links) == 2
    image = client.get("/me/realname/documents/" + links[0])
    assert image.status_code == 200 and image.mimetype == "image/jpeg" and image.data[:2] == b"\xff\xd8"
    assert image.headers["Cache-Control"] == "no-store, private"
    assert image.headers["X-Content-Type-Options"] == "nosniff"
    assert image.headers["Cross-Origin-Resource-Policy"] == "same-origin"

    stranger = app.test_client()
    second_person(svc, stranger, "nosy_one")
    assert stranger.get("/me/realname/documents/" + links[0]).status_code == 403
    for bad in ("0" * 32, "x" * 500, "%00" * 32, "../" * 11):
        assert stranger.get("/me/realname/documents/" + bad).status_code == 404, bad

    done = submit(client)
    assert done.status_code == 303
    after = text(client.get("/me"))
    assert "实名认证审核中" in after and "已提交,请等待审核" in after
    locked = text(client.get("/me/realname/upload"))
    assert 'type="file"' not in locked and "您的申请已提交,正在人工审核中。" in locked
    assert upload(client, "front", photo()).status_code == 409


def test_reviewed_decision_reason_is_shown_to_the_person(
    client: FlaskClient,
    svc: Services,
    owner: Person,
) -> None:
    from idp.realname.review import ReviewService
    from idp.realname.services import Actor
    from idp.realname.wiring import review_service

    assert save_profile(client, ZHANG, name="张伟伟").status_code == 303
    upload(client, "front", photo())
    upload(client, "back", photo())
    submit(client)
    reviewer = AccountService(svc.db, svc.store, svc.settings).create_user(
        "checker", PASSWORD, roles=("reviewer",)
    )
    reviews: ReviewService = review_service(svc)
    request_id = reviews.queue(Actor(reviewer.id))[0].verification_id
    reviews.decide(Actor(reviewer.id), request_id, approve=False, reason="照片未签名 <b>请重传</b>")
    page = text(client.get("/me"))
    assert "人工审核未通过" in page and "照片未签名 &lt;b&gt;请重传&lt;/b&gt;" in page
    assert "实名认证未通过" in page


def test_english_pages_show_the_english_half_of_service_messages(client: FlaskClient) -> None:
    client.get("/me/edit?lang=en")  # remembered in the lang cookie
    response = save_profile(client, ZHANG, country="US")
    body = text(response)
    assert response.status_code == 400 and 'lang="en"' in body
    assert "The country is not on the chosen continent." in body and "所属国家不在所选大洲" not in body
