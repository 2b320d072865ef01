"""The reviewer console through the app: queue, request page, decisions, and who may do what."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from idp.accounts.services import AccountService
from idp.audit.models import AuditEvent
from idp.context import Services
from idp.realname.models import Verification
from idp.realname.wiring import profile_service
from tests.integration.oidc.conftest import (
    PASSWORD,
    Person,
    csrf_of,
    idp_app,  # noqa: F401 - fixture
    login,
)
from tests.integration.realname.conftest import (
    photo,
    source_url,  # noqa: F401 - fixture
)
from tests.integration.test_me_pages import (  # noqa: F401 - fixtures
    LI,
    WANG,
    ZHANG,
    anon_fixture,
    app_fixture,
    save_profile,
    submit,
    svc_fixture,
    text,
    upload,
)


def person_client(
    app: Flask, svc: Services, username: str, roles: tuple[str, ...] = ()
) -> tuple[Person, FlaskClient]:
    user = AccountService(svc.db, svc.store, svc.settings).create_user(username, PASSWORD, roles=roles)
    who = Person(user.id, username, PASSWORD)
    browser = app.test_client()
    assert login(browser, who).status_code == 303
    return who, browser


def applies(app: Flask, svc: Services, username: str, who: Any, **changes: str) -> tuple[Person, FlaskClient]:
    """A person whose automatic check failed and who handed in both photos."""
    person, browser = person_client(app, svc, username)
    assert save_profile(browser, who, **changes).status_code == 303
    assert upload(browser, "front", photo("white")).status_code == 303
    assert upload(browser, "back", photo("gray", "PNG")).status_code == 303
    assert submit(browser).status_code == 303
    return person, browser


@pytest.fixture()
def reviewer(app: Flask, svc: Services) -> FlaskClient:
    return person_client(app, svc, "checker", ("reviewer",))[1]


def request_ids(svc: Services) -> list[int]:
    with svc.db.transaction() as session:
        return list(
            session.scalars(
                select(Verification.id).where(Verification.kind == "review").order_by(Verification.id)
            )
        )


def decide(
    browser: FlaskClient, request_id: int, decision: str, reason: str = "", token: str | None = None
) -> Any:
    if token is None:
        token = csrf_of(text(browser.get(f"/review/{request_id}")))
    return browser.post(
        f"/review/{request_id}/decision", data={"csrf_token": token, "decision": decision, "reason": reason}
    )


def test_console_is_for_reviewers_only(app: Flask, svc: Services, anon: FlaskClient) -> None:
    applicant, _ = applies(app, svc, "wangfang", WANG, name="王芳芳")
    request_id = request_ids(svc)[0]
    assert anon.get("/review").status_code == 302
    assert anon.get("/review").headers["Location"] == "/login?next=%2Freview"
    _, someone = person_client(app, svc, "someone")
    for path in ("/review", f"/review/{request_id}"):
        refused = someone.get(path)
        assert refused.status_code == 403 and "需要审核员权限" in text(refused), path
    token = csrf_of(text(someone.get("/me")))
    assert decide(someone, request_id, "approve", token=token).status_code == 403
    with svc.db.transaction() as session:
        assert session.get(Verification, request_id).state == "pending"  # type: ignore[union-attr]


def test_queue_is_oldest_first_and_pages_show_masked_data(
    app: Flask,
    svc: Services,
    reviewer: FlaskClient,
) -> None:
    applies(app, svc, "wangfang", WANG, name="王芳芳")
    time.sleep(0.01)
    applies(app, svc, "lina", LI, name="李娜娜")
    queue = text(reviewer.get("/review"))
    assert queue.index("王芳芳") < queue.index("李娜娜"), "oldest first"
    for who in (WANG, LI):
        assert who.id_number not in queue and who.id_number[:4] + "*" * 10 + who.id_number[-4:] in queue
    first = request_ids(svc)[0]
    page = text(reviewer.get(f"/review/{first}"))
    assert "王芳芳" in page and WANG.id_number not in page
    assert page.count('src="/review/documents/') == 2
    assert "注册人身份证正面" in page and "注册人身份证反面" in page
    doc = page.split('src="/review/documents/')[1].split('"')[0]
    image = reviewer.get(f"/review/documents/{doc}")
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    assert image.headers["Cache-Control"] == "no-store, private"
    with svc.db.transaction() as session:
        events = list(session.scalars(select(AuditEvent.event)))
    assert "realname.review_viewed" in events and "realname.document_viewed" in events


def test_reject_needs_a_reason_which_the_person_then_sees(
    app: Flask,
    svc: Services,
    reviewer: FlaskClient,
) -> None:
    _, applicant = applies(app, svc, "wangfang", WANG, name="王芳芳")
    request_id = request_ids(svc)[0]
    missing = decide(reviewer, request_id, "reject", "   ")
    assert missing.status_code == 400 and "驳回时请填写原因。" in text(missing)
    too_long = decide(reviewer, request_id, "reject", "长" * 501)
    assert too_long.status_code == 400 and "审核意见过长。" in text(too_long)
    odd = decide(reviewer, request_id, "maybe")
    assert odd.status_code == 400 and "请选择通过或驳回。" in text(odd)
    forged = decide(reviewer, request_id, "reject", "x", token="forged")
    assert forged.status_code == 400 and "页面已过期" in text(forged)

    done = decide(reviewer, request_id, "reject", "照片未签名,请签名后重新上传。")
    assert done.status_code == 303 and done.headers["Location"] == "/review"
    assert "已驳回该实名认证申请。" in text(reviewer.get("/review"))
    page = text(applicant.get("/me"))
    assert "实名认证未通过" in page and "人工审核未通过" in page and "照片未签名,请签名后重新上传。" in page
    again = decide(reviewer, request_id, "approve")
    assert again.status_code == 409 and "该申请已处理。" in text(again)
    # The person may upload and hand in again.
    assert upload(applicant, "front", photo()).status_code == 303


def test_approve_makes_the_person_reviewed(app: Flask, svc: Services, reviewer: FlaskClient) -> None:
    person, applicant = applies(app, svc, "wangfang", WANG, name="王芳芳")
    request_id = request_ids(svc)[0]
    assert decide(reviewer, request_id, "approve").status_code == 303
    page = text(applicant.get("/me"))
    assert "已审核认证" in page and "人工审核已通过" in page
    assert profile_service(svc).load(person.id)[0].realname_status == "reviewed"
    decided = text(reviewer.get(f"/review/{request_id}"))
    assert "该申请已通过。" in decided and 'name="decision"' not in decided


def test_duplicate_identity_is_flagged_and_cannot_be_approved(
    app: Flask,
    svc: Services,
    reviewer: FlaskClient,
) -> None:
    _, first = person_client(app, svc, "zhangwei")
    assert save_profile(first, ZHANG).status_code == 303  # verified: the number now belongs to zhangwei
    applies(app, svc, "copycat", ZHANG, name="张伟伟")
    request_id = request_ids(svc)[0]
    assert "证件号码重复" in text(reviewer.get("/review"))
    page = text(reviewer.get(f"/review/{request_id}"))
    assert "该证件号码已在其他账号完成实名认证" in page
    refused = decide(reviewer, request_id, "approve")
    assert refused.status_code == 409 and "不能批准" in text(refused)


def test_reviewer_cannot_decide_their_own_request(app: Flask, svc: Services) -> None:
    person, browser = applies(app, svc, "selfish", WANG, name="王芳芳")
    with svc.db.transaction() as session:
        from idp.accounts.models import User

        user = session.get(User, person.id)
        assert user is not None
        user.roles = "reviewer"
    request_id = request_ids(svc)[0]
    page = text(browser.get(f"/review/{request_id}"))
    assert "不能审核本人的申请。" in page and 'name="decision"' not in page
    refused = decide(browser, request_id, "approve")
    assert refused.status_code == 403 and "不能审核本人的申请。" in text(refused)


def test_hostile_paths_are_not_found(reviewer: FlaskClient) -> None:
    for path in (
        "/review/0",
        "/review/99999999999999999999",
        "/review/-1",
        "/review/abc",
        "/review/12345",
        "/review/documents/" + "0" * 32,
        "/review/documents/%00%00",
        "/review/documents/" + "a" * 400,
    ):
        assert reviewer.get(path).status_code == 404, path
    assert reviewer.post("/review/99999999999999999999/decision").status_code in (400, 404)
