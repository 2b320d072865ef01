"""更改联系方式 (/me/contact): the current password, a code to the new contact, a notice to the old one."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from idp.audit.services import details_of, events
from tests.integration.oidc.conftest import csrf_of, idp_app  # noqa: F401 - idp_app is a fixture
from tests.integration.test_registration import (
    OUTBOX_WAIT,
    PASSWORD,
    accounts_of,
    app,  # noqa: F401 - a fixture
    code_sent_to,
    messages_to,
    services_of,
    submit,
    text_of,
    user_named,
)

OLD_MOBILE = "13800138000"
NEW_MOBILE = "13911139111"


@pytest.fixture()
def person(app: Flask) -> str:  # noqa: F811 - app is the imported fixture
    user = accounts_of(app).create_user(
        "xin_qiji", PASSWORD, phone_number=OLD_MOBILE, phone_number_verified=True
    )
    return user.id


def sign_in(app: Flask, username: str = "xin_qiji") -> FlaskClient:  # noqa: F811
    client = app.test_client()
    answer = submit(client, "/login", username=username, password=PASSWORD, account_type="natural")
    assert answer.status_code == 303, text_of(answer)[:500]
    return client


def notice_to(app: Flask, to: str) -> dict[str, str]:  # noqa: F811
    """The change notice sent (on a background thread) to ``to``."""
    deadline = time.monotonic() + OUTBOX_WAIT
    while True:
        notices = [m for m in messages_to(app, to) if "更改为" in m["body"]]
        if notices:
            return notices[-1]
        assert time.monotonic() < deadline, f"no notice to {to}"
        time.sleep(0.05)


def test_changing_the_mobile(app: Flask, person: str) -> None:  # noqa: F811
    client = sign_in(app)
    page = text_of(client.get("/me/contact"))
    assert "更改手机号码或电子邮箱" in page and "13******000" in page and OLD_MOBILE not in page

    first = submit(client, "/me/contact", current_password=PASSWORD, contact=NEW_MOBILE)
    assert first.status_code == 303 and first.headers["Location"] == "/me/contact/code"
    code = code_sent_to(app, NEW_MOBILE)
    assert messages_to(app, OLD_MOBILE) == [], "the code goes to the new contact only"
    step_two = text_of(client.get("/me/contact/code"))
    assert "13******111" in step_two and NEW_MOBILE not in step_two

    done = submit(client, "/me/contact/code", code=code)
    assert done.status_code == 303 and done.headers["Location"] == "/account/done"
    assert "13******111" in text_of(client.get("/account/done"))

    user = user_named(services_of(app).db, "xin_qiji")
    assert user is not None and user.phone_number == NEW_MOBILE and user.phone_number_verified

    notice = notice_to(app, OLD_MOBILE)
    assert (
        "13******111" in notice["body"] and NEW_MOBILE not in notice["body"] and "xin_qiji" in notice["body"]
    )

    with services_of(app).db.transaction() as session:
        (row,) = events(session, event="contact.changed", target=person)
        details = details_of(row)
        assert row.actor == person and row.ip
        assert details == {"channel": "sms", "new": "13******111", "old": ["13******000"]}


def test_adding_an_email_tells_the_mobile(app: Flask, person: str) -> None:  # noqa: F811
    client = sign_in(app)
    submit(client, "/me/contact", current_password=PASSWORD, contact="QiJi@Example.CN")
    code = code_sent_to(app, "qiji@example.cn")
    assert submit(client, "/me/contact/code", code=code).status_code == 303
    user = user_named(services_of(app).db, "xin_qiji")
    assert user is not None and user.email == "QiJi@example.cn" and user.email_verified
    assert user.phone_number == OLD_MOBILE, "the mobile stays"
    assert "Q***@example.cn" in notice_to(app, OLD_MOBILE)["body"]


def test_a_wrong_password_sends_no_code(app: Flask, person: str) -> None:  # noqa: F811
    client = sign_in(app)
    wrong = submit(client, "/me/contact", current_password="not-it-123", contact=NEW_MOBILE)
    assert wrong.status_code == 400 and "当前密码不正确" in text_of(wrong)
    assert messages_to(app, NEW_MOBILE) == []
    assert accounts_of(app).throttle.failures("xin_qiji") == 1, "counted like a failed sign-in"
    with services_of(app).db.transaction() as session:
        assert events(session, event="password.check.failure", target=person)


def test_the_current_contact_is_not_a_new_one(app: Flask, person: str) -> None:  # noqa: F811
    client = sign_in(app)
    same = submit(client, "/me/contact", current_password=PASSWORD, contact="+86 138-0013-8000")
    assert same.status_code == 409 and "相同" in text_of(same)


def test_steps_cannot_be_skipped_and_a_code_works_once(app: Flask, person: str) -> None:  # noqa: F811
    client = sign_in(app)
    skipped = client.get("/me/contact/code")
    assert skipped.status_code == 303 and skipped.headers["Location"] == "/me/contact"
    assert "操作已过期" in text_of(client.get("/me/contact"))

    submit(client, "/me/contact", current_password=PASSWORD, contact=NEW_MOBILE)
    code = code_sent_to(app, NEW_MOBILE)
    token = csrf_of(text_of(client.get("/me/contact/code")))
    assert client.post("/me/contact/code", data={"csrf_token": token, "code": code}).status_code == 303
    replay = client.post("/me/contact/code", data={"csrf_token": token, "code": code})
    assert replay.status_code == 303 and replay.headers["Location"] == "/me/contact"
    with services_of(app).db.transaction() as session:
        assert len(events(session, event="contact.changed", target=person)) == 1


def test_a_pending_change_belongs_to_its_account_and_browser(app: Flask, person: str) -> None:  # noqa: F811
    accounts_of(app).create_user("lu_you", PASSWORD, phone_number="13700137000", phone_number_verified=True)
    owner = sign_in(app)
    submit(owner, "/me/contact", current_password=PASSWORD, contact=NEW_MOBILE)
    code = code_sent_to(app, NEW_MOBILE)

    # Another person asking for the same new number gets no code while the pause lasts, and the
    # owner's code, bound to the owner's account, does not work for them.
    intruder = sign_in(app, "lu_you")
    throttled = submit(intruder, "/me/contact", current_password=PASSWORD, contact=NEW_MOBILE)
    assert throttled.status_code == 429
    assert intruder.get("/me/contact/code").headers["Location"] == "/me/contact"

    # The owner's browser signed in as someone else cannot finish the owner's change either.
    owner_cookie = owner.get_cookie("idp_csrf")
    assert owner_cookie is not None
    intruder.set_cookie("idp_csrf", owner_cookie.value)
    hijack = intruder.get("/me/contact/code")
    assert hijack.status_code == 303 and hijack.headers["Location"] == "/me/contact"

    assert submit(owner, "/me/contact/code", code=code).status_code == 303
    other = user_named(services_of(app).db, "lu_you")
    assert other is not None and other.phone_number == "13700137000"


def test_wrong_codes_are_limited(app: Flask, person: str) -> None:  # noqa: F811
    client = sign_in(app)
    submit(client, "/me/contact", current_password=PASSWORD, contact=NEW_MOBILE)
    code = code_sent_to(app, NEW_MOBILE)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for attempt in range(1, 6):
        answer = submit(client, "/me/contact/code", code=wrong)
        assert answer.status_code == 400
        assert ("验证码已失效" if attempt == 5 else "验证码错误") in text_of(answer)
    assert submit(client, "/me/contact/code", code=code).status_code == 400
    user = user_named(services_of(app).db, "xin_qiji")
    assert user is not None and user.phone_number == OLD_MOBILE


def test_the_pages_need_a_session(app: Flask) -> None:  # noqa: F811
    client = app.test_client()
    for path in ("/me/contact", "/me/contact/code"):
        answer = client.get(path)
        assert answer.status_code == 303 and answer.headers["Location"].startswith("/login?next=")


def test_hostile_input_never_gives_a_5xx(app: Flask, person: str) -> None:  # noqa: F811
    client = sign_in(app)
    token = csrf_of(text_of(client.get("/me/contact")))
    cases: list[dict[str, Any]] = [
        {"data": {"csrf_token": token, "current_password": PASSWORD, "contact": "9" * 100_000}},
        {"data": {"csrf_token": token, "current_password": PASSWORD, "contact": "a@b.cn\r\nBcc: x@y.cn"}},
        {"data": {"csrf_token": token, "current_password": PASSWORD, "contact": "<script>alert(1)</script>"}},
        {
            "data": f"csrf_token={token}&current_password=x&contact=%FF%FE%C3%28".encode(),
            "content_type": "application/x-www-form-urlencoded",
        },
        {"data": {"current_password": PASSWORD, "contact": NEW_MOBILE}},
    ]
    for case in cases:
        response = client.post("/me/contact", **case)
        assert 400 <= response.status_code < 500, case
        html = text_of(response)
        assert "<script>alert(1)</script>" not in html and "Traceback" not in html
    assert messages_to(app, NEW_MOBILE) == []
    assert accounts_of(app).throttle.failures("xin_qiji") == 0, "a malformed contact costs no password try"


def test_an_account_without_earlier_contacts_gets_no_notice(app: Flask) -> None:  # noqa: F811
    accounts_of(app).create_user("yan_shu", PASSWORD)
    client = sign_in(app, "yan_shu")
    submit(client, "/me/contact", current_password=PASSWORD, contact=NEW_MOBILE)
    assert submit(client, "/me/contact/code", code=code_sent_to(app, NEW_MOBILE)).status_code == 303
    done = text_of(client.get("/account/done"))
    assert "13******111" in done and "通知" not in done
    assert len(messages_to(app, NEW_MOBILE)) == 1, "only the code, no notice"
