"""立即注册账号 over HTTP: the real app, its real store and database (both set-ups), the outbox sender.

The helpers at the top (``app``, ``code_sent_to``, ``submit``) are shared by the other account
self-service test files, which import them from here.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from idp import create_app
from idp.accounts.codes import CodeLimits
from idp.accounts.models import User
from idp.accounts.passwords import Argon2Params
from idp.accounts.services import AccountService
from idp.audit.models import AuditEvent
from idp.audit.services import details_of, events
from idp.context import Services
from idp.db import Database
from idp.notify.outbox import OutboxSender, read_outbox
from tests.integration.oidc.conftest import csrf_of, idp_app  # noqa: F401 - idp_app is a fixture

FAST = Argon2Params(time_cost=1, memory_cost=8 * 1024, parallelism=1)
PASSWORD = "Lanting-Xu-353"
CODE_IN_MESSAGE = re.compile(r"验证码为 ([0-9]{6})")
OUTBOX_WAIT = 10.0


# --- shared helpers -----------------------------------------------------------------------------------


@pytest.fixture()
def app(idp_app: Flask, tmp_path: Path) -> Flask:  # noqa: F811 - builds on the imported fixture
    """The IdP of the OIDC tests with cheap hashing and an outbox of this test's own."""
    svc: Services = idp_app.extensions["idp"]
    svc.extras["accounts"] = AccountService(svc.db, svc.store, svc.settings, password_params=FAST)
    svc.extras["sender"] = OutboxSender(tmp_path / "outbox")
    return idp_app


def services_of(app: Flask) -> Services:
    svc: Services = app.extensions["idp"]
    return svc


def accounts_of(app: Flask) -> AccountService:
    found: AccountService = services_of(app).extras["accounts"]
    return found


def outbox_of(app: Flask) -> Path:
    sender: OutboxSender = services_of(app).extras["sender"]
    return sender.directory


def messages_to(app: Flask, to: str) -> list[dict[str, str]]:
    return [m for m in read_outbox(outbox_of(app)) if m["to"].casefold() == to.casefold()]


def code_sent_to(app: Flask, to: str, already: int = 0) -> str:
    """The code of the newest message to ``to``, waiting for message number ``already + 1``.

    Some messages are sent on a background thread, so the test waits for the file to appear.
    """
    deadline = time.monotonic() + OUTBOX_WAIT
    while True:
        found = messages_to(app, to)
        if len(found) > already:
            match = CODE_IN_MESSAGE.search(found[-1]["body"])
            assert match, found[-1]["body"]
            return match.group(1)
        assert time.monotonic() < deadline, f"no message to {to} in the outbox"
        time.sleep(0.05)


def submit(client: FlaskClient, path: str, page: str | None = None, **fields: str) -> TestResponse:
    """POST ``fields`` to ``path`` with the CSRF token of the form at ``page`` (default: ``path``)."""
    html = client.get(page or path).get_data(as_text=True)
    return client.post(path, data={"csrf_token": csrf_of(html), **fields})


def text_of(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def user_named(database: Database, username: str) -> User | None:
    with database.transaction() as session:
        return session.scalar(select(User).where(User.username_key == username.casefold()))


def register(client: FlaskClient, app: Flask, contact: str, username: str, password: str = PASSWORD) -> str:
    """Run both steps; returns the Location of the last answer."""
    first = submit(client, "/register", contact=contact)
    assert first.status_code == 303, text_of(first)[:400]
    code = code_sent_to(app, contact)
    done = submit(
        client,
        "/register/account",
        username=username,
        password=password,
        password_again=password,
        code=code,
    )
    assert done.status_code == 303, text_of(done)[:2000]
    return done.headers["Location"]


# --- the happy paths ------------------------------------------------------------------------------------


def test_register_with_a_mobile_then_sign_in(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client = app.test_client()
    page = client.get("/register")
    assert page.status_code == 200
    assert "立即注册账号" in text_of(page) and "获取验证码" in text_of(page)

    first = submit(client, "/register", contact="138 0013 8000")
    assert first.status_code == 303 and first.headers["Location"] == "/register/account"
    (message,) = messages_to(app, "13800138000")
    assert message["channel"] == "sms" and message["body"].startswith("【科学技术部政务服务平台】")
    code = code_sent_to(app, "13800138000")
    step_two = text_of(client.get("/register/account"))
    assert "13******000" in step_two and "13800138000" not in step_two

    location = register_step_two(client, "Wang_Xizhi", code)
    assert location == "/register/done"
    done = text_of(client.get(location))
    assert "注册成功" in done and "Wang_Xizhi" in done and "login_hint=Wang_Xizhi" in done

    user = user_named(services_of(app).db, "wang_xizhi")
    assert user is not None
    assert user.phone_number == "13800138000" and user.phone_number_verified
    assert user.email is None and user.realname_status == "unverified" and user.account_type == "natural"
    with services_of(app).db.transaction() as session:
        (created,) = events(session, event="account.created", target=user.id)
        assert created.actor == "self-registration" and created.ip

    signed_in = submit(
        app.test_client(),
        "/login",
        username="wang_xizhi",
        password=PASSWORD,
        account_type="natural",
    )
    assert signed_in.status_code == 303 and signed_in.headers["Location"] == "/me"
    # SECURITY.md: logs never hold codes, passwords or full mobiles.
    logged = "\n".join(r.getMessage() + str(getattr(r, "fields", "")) for r in caplog.records)
    assert code not in logged and PASSWORD not in logged and "13800138000" not in logged


def register_step_two(client: FlaskClient, username: str, code: str, password: str = PASSWORD) -> str:
    response = submit(
        client, "/register/account", username=username, password=password, password_again=password, code=code
    )
    assert response.status_code == 303, text_of(response)[:2000]
    return response.headers["Location"]


def test_register_with_an_email_address(app: Flask) -> None:
    client = app.test_client()
    register(client, app, "Su.Shi@Example.CN", "sushi_1037")
    user = user_named(services_of(app).db, "sushi_1037")
    assert user is not None
    assert user.email == "Su.Shi@example.cn" and user.email_verified and user.phone_number is None
    (message,) = read_outbox(outbox_of(app))
    assert message["channel"] == "email" and "Verification code" in message["subject"]


def test_full_width_digits_of_a_chinese_keyboard_are_accepted(app: Flask) -> None:
    client = app.test_client()
    submit(client, "/register", contact="13900139000")
    code = code_sent_to(app, "13900139000")
    full_width = "".join(chr(ord(d) + 0xFEE0) for d in code)
    assert register_step_two(client, "libai_701", full_width) == "/register/done"


# --- steps, codes and tickets ---------------------------------------------------------------------------


def test_step_two_cannot_be_reached_without_step_one(app: Flask) -> None:
    client = app.test_client()
    page = client.get("/register/account")
    assert page.status_code == 303 and page.headers["Location"] == "/register"
    assert "注册已过期" in text_of(client.get("/register"))
    token = csrf_of(text_of(client.get("/register")))
    forced = client.post(
        "/register/account",
        data={
            "csrf_token": token,
            "username": "skipper",
            "password": PASSWORD,
            "password_again": PASSWORD,
            "code": "123456",
        },
    )
    assert forced.status_code == 303 and forced.headers["Location"] == "/register"
    assert user_named(services_of(app).db, "skipper") is None


def test_a_code_registers_one_account_only(app: Flask) -> None:
    client = app.test_client()
    submit(client, "/register", contact="13700137000")
    code = code_sent_to(app, "13700137000")
    token = csrf_of(text_of(client.get("/register/account")))
    fields = {"csrf_token": token, "password": PASSWORD, "password_again": PASSWORD, "code": code}
    assert client.post("/register/account", data={**fields, "username": "dufu_712"}).status_code == 303
    replay = client.post("/register/account", data={**fields, "username": "dufu_713"})
    assert replay.status_code == 303 and replay.headers["Location"] == "/register"
    # Even a browser that kept a copy of the ticket cookie cannot use the code again.
    assert user_named(services_of(app).db, "dufu_713") is None


def test_the_ticket_is_bound_to_the_browser(app: Flask) -> None:
    owner, stranger = app.test_client(), app.test_client()
    submit(owner, "/register", contact="13600136000")
    code = code_sent_to(app, "13600136000")
    submit(stranger, "/register", contact="13500135000")
    # The stranger's browser holds a ticket for its own contact: the owner's code does not fit it.
    wrong = submit(
        stranger,
        "/register/account",
        username="stranger_1",
        password=PASSWORD,
        password_again=PASSWORD,
        code=code,
    )
    assert wrong.status_code == 400 and "验证码错误" in text_of(wrong)
    assert register_step_two(owner, "owner_1", code) == "/register/done"


def test_five_wrong_codes_discard_the_code(app: Flask) -> None:
    client = app.test_client()
    submit(client, "/register", contact="13400134000")
    code = code_sent_to(app, "13400134000")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    fields = {"username": "guesser", "password": PASSWORD, "password_again": PASSWORD}
    for attempt in range(1, 6):
        answer = submit(client, "/register/account", code=wrong, **fields)
        assert answer.status_code == 400
        expected = "验证码已失效" if attempt == 5 else "验证码错误"
        assert expected in text_of(answer), attempt
    late = submit(client, "/register/account", code=code, **fields)
    assert late.status_code == 400 and "验证码已失效" in text_of(late)
    assert user_named(services_of(app).db, "guesser") is None


def test_a_malformed_code_costs_no_try(app: Flask) -> None:
    client = app.test_client()
    submit(client, "/register", contact="13300133000")
    code = code_sent_to(app, "13300133000")
    fields = {"username": "typist", "password": PASSWORD, "password_again": PASSWORD}
    for _ in range(6):
        answer = submit(client, "/register/account", code="12a45", **fields)
        assert answer.status_code == 400 and "6 位数字" in text_of(answer)
    assert register_step_two(client, "typist", code) == "/register/done"


# --- what the form says ---------------------------------------------------------------------------------


def test_a_taken_login_name_is_said_before_the_code_is_spent(app: Flask) -> None:
    accounts_of(app).create_user("ZhangHeng", PASSWORD)
    client = app.test_client()
    submit(client, "/register", contact="13200132000")
    code = code_sent_to(app, "13200132000")
    fields = {"password": "Hun-Tian-Yi-132", "password_again": "Hun-Tian-Yi-132", "code": code}
    taken = submit(client, "/register/account", username="zhangheng", **fields)
    assert taken.status_code == 409 and "该登录名已被注册" in text_of(taken)
    assert register_step_two(client, "zhang_heng", code, "Hun-Tian-Yi-132") == "/register/done"


def test_every_problem_of_the_form_is_listed(app: Flask) -> None:
    client = app.test_client()
    submit(client, "/register", contact="13100131000")
    code = code_sent_to(app, "13100131000")
    answer = submit(
        client,
        "/register/account",
        username="li",
        password="password",
        password_again="passw0rd",
        code=code,
    )
    html = text_of(answer)
    assert answer.status_code == 400
    for expected in ("两次输入的密码不一致", "登录名只能包含", "字母和数字", "过于常见"):
        assert expected in html, expected
    assert 'value="password"' not in html, "passwords are never sent back"
    weak = submit(
        client,
        "/register/account",
        username="liqingzhao",
        password="liqingzhao2024",
        password_again="liqingzhao2024",
        code=code,
    )
    assert weak.status_code == 400 and "登录名" in text_of(weak)
    assert register_step_two(client, "liqingzhao", code, "Sheng-Sheng-Man-1084") == "/register/done"


@pytest.mark.parametrize(
    "contact",
    [
        "12345",
        "1380013800",
        "23800138000",
        "zhang@",
        "@example.cn",
        "a b@example.cn",
        "张@例子.中国",
        "x" * 300,
    ],
)
def test_contacts_that_are_no_mobile_or_address_are_refused(app: Flask, contact: str) -> None:
    answer = submit(app.test_client(), "/register", contact=contact)
    assert answer.status_code == 400
    assert "请输入正确的手机号码或电子邮箱" in text_of(answer) or "过长" in text_of(answer)
    assert read_outbox(outbox_of(app)) == []


# --- throttling and captcha -----------------------------------------------------------------------------


def test_codes_to_one_contact_are_throttled(app: Flask) -> None:
    client = app.test_client()
    assert submit(client, "/register", contact="13000130000").status_code == 303
    again = submit(app.test_client(), "/register", contact="130-0013-0000")
    assert again.status_code == 429 and "过于频繁" in text_of(again)
    assert len(messages_to(app, "13000130000")) == 1


def test_codes_from_one_ip_are_throttled(app: Flask) -> None:
    limit = CodeLimits().per_ip
    client = app.test_client()
    for n in range(limit):
        assert submit(client, "/register", contact=f"1390000{n:04d}").status_code == 303, n
    refused = submit(client, "/register", contact="13999999999")
    assert refused.status_code == 429 and "过于频繁" in text_of(refused)
    assert messages_to(app, "13999999999") == []
    # Another client address is not affected.
    other = app.test_client()
    other_page = other.get("/register", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    answer = other.post(
        "/register",
        data={"csrf_token": csrf_of(text_of(other_page)), "contact": "13999999999"},
        environ_base={"REMOTE_ADDR": "192.0.2.7"},
    )
    assert answer.status_code == 303


def test_captcha_always_is_checked_once(app: Flask) -> None:
    svc = services_of(app)
    svc.settings = dataclasses.replace(svc.settings, captcha="always")
    client = app.test_client()
    html = text_of(client.get("/register"))
    found = re.search(r'name="captcha_id" value="([0-9a-f]{32})"', html)
    assert found and 'class="captcha-image"' in html
    captcha_id = found.group(1)
    raw = svc.store.get(f"captcha:{{{captcha_id}}}")
    assert raw is not None
    answer = raw.partition("|")[2]
    token = csrf_of(html)
    missing = client.post("/register", data={"csrf_token": token, "contact": "15000150000"})
    assert missing.status_code == 400 and "图形验证码错误" in text_of(missing)
    fields = {"csrf_token": token, "contact": "15000150000", "captcha_id": captcha_id, "captcha": answer}
    # The first wrong try (above, without this id) did not touch it; now it is used once.
    assert client.post("/register", data=fields).status_code == 303
    reused = client.post("/register", data=fields)
    assert reused.status_code == 400 and "图形验证码错误" in text_of(reused)


def test_captcha_appears_after_a_few_codes_from_one_ip(app: Flask) -> None:
    svc = services_of(app)
    svc.settings = dataclasses.replace(svc.settings, captcha="after-failures", captcha_after=2)
    client = app.test_client()
    for n in range(2):
        assert 'name="captcha_id"' not in text_of(client.get("/register"))
        assert submit(client, "/register", contact=f"1510000000{n}").status_code == 303
    assert 'name="captcha_id"' in text_of(client.get("/register"))
    refused = submit(client, "/register", contact="15100000009")
    assert refused.status_code == 400 and "图形验证码" in text_of(refused)


# --- hostile input and faults ---------------------------------------------------------------------------


def test_hostile_input_never_gives_a_5xx(app: Flask) -> None:
    client = app.test_client()
    token = csrf_of(text_of(client.get("/register")))
    cases: list[dict[str, Any]] = [
        {"data": {"csrf_token": token, "contact": "1" * 100_000}},
        {"data": {"csrf_token": token, "contact": "138\r\n0013\x008000"}},
        {"data": {"csrf_token": token, "contact": "<script>alert(1)</script>@example.cn"}},
        {"data": f"csrf_token={token}&contact=%FF%FE%80%C3%28".encode()},
        {"data": f"csrf_token={token}&contact=13800138000&contact=13900139000".encode()},
        {"data": {"contact": "13800138001"}},
        {"json": {"contact": "13800138002"}},
        {"data": b"\x00\x01\x02", "content_type": "multipart/form-data; boundary=zzz"},
    ]
    for case in cases:
        if isinstance(case.get("data"), bytes) and "content_type" not in case:
            case["content_type"] = "application/x-www-form-urlencoded"
        response = client.post("/register", **case)
        assert response.status_code < 500, case
        html = text_of(response)
        assert "<script>alert(1)</script>" not in html and "Traceback" not in html
    # Only the duplicated-field case may have sent a code (to its first value).
    assert {m["to"] for m in read_outbox(outbox_of(app))} <= {"13800138000"}

    submit(client, "/register", contact="13800138111")
    code = code_sent_to(app, "13800138111")
    step_two = csrf_of(text_of(client.get("/register/account")))
    for fields in (
        {"username": "u" * 100_000, "password": "p", "password_again": "p", "code": code},
        {"username": "ctl\x00name", "password": "x" * 5000, "password_again": "x" * 5000, "code": code},
        {"username": "okname", "password": PASSWORD, "password_again": PASSWORD, "code": "9" * 10_000},
        {
            "username": "okname\r\nX-Injected: 1",
            "password": PASSWORD,
            "password_again": PASSWORD,
            "code": code,
        },
    ):
        response = client.post("/register/account", data={"csrf_token": step_two, **fields})
        assert response.status_code == 400, fields["username"][:20]
        assert "Traceback" not in text_of(response)
    assert register_step_two(client, "okname", code) == "/register/done"


def test_store_down_answers_503_and_sends_nothing(
    database_url: str, database: Database, redis_server: Any, tmp_path: Path
) -> None:
    app = create_app(
        {
            "database_url": database_url,
            "redis_url": f"redis://127.0.0.1:{redis_server.port}/0",
            "captcha": "off",
            "outbox_dir": str(tmp_path / "outbox"),
        }
    )
    client = app.test_client()
    token = csrf_of(text_of(client.get("/register")))
    redis_server.stop()
    assert client.get("/register").status_code == 503
    answer = client.post("/register", data={"csrf_token": token, "contact": "13800138000"})
    assert answer.status_code == 503 and "服务暂时不可用" in text_of(answer)
    assert read_outbox(tmp_path / "outbox") == []
    redis_server.start()
    assert client.post("/register", data={"csrf_token": token, "contact": "13800138000"}).status_code == 303


def test_codes_are_never_audited(app: Flask) -> None:
    client = app.test_client()
    register(client, app, "13800138222", "audited_1")
    code = CODE_IN_MESSAGE.search(messages_to(app, "13800138222")[0]["body"])
    assert code
    with services_of(app).db.transaction() as session:
        rows = session.scalars(select(AuditEvent)).all()
        assert rows
        for row in rows:
            assert code.group(1) not in str(details_of(row)) and "13800138222" not in str(details_of(row))


def test_next_is_carried_to_the_sign_in_link_when_it_is_local(app: Flask) -> None:
    client = app.test_client()
    client.get("/register?next=/authorize%3Fclient_id%3Dtraining")
    register(client, app, "13800138333", "wen_tianxiang")
    done = text_of(client.get("/register/done"))
    assert "login_hint=wen_tianxiang&amp;next=%2Fauthorize%3Fclient_id%3Dtraining" in done

    hostile = app.test_client()
    hostile.get("/register?next=//evil.example/steal")
    register(hostile, app, "13800138444", "lu_xiufu")
    page = text_of(hostile.get("/register/done"))
    assert "evil.example" not in page and "login_hint=lu_xiufu" in page
