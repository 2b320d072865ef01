"""SECURITY.md "Personal data and logs": no log line ever holds a full ID number.

Every log record of the process is captured at DEBUG (``caplog`` on the root logger, and the JSON
access log through its own formatter, whether or not it propagates) while people go through the
whole real-name story: a sign-in attempt with an ID number as login name, the automatic check
(match, mismatch, invalid numbers, source down), uploads (good and hostile), the manual review, and
the code flow that hands the number to a client allowed to receive it.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from idp.context import Services
from idp.observability import JsonFormatter, access_log
from idp.oidc.clients import ClientService, ClientSpec
from tests.integration.oidc.conftest import (
    PASSWORD,
    RP_SECRET,
    authorize,
    exchange,
    idp_app,  # noqa: F401 - fixture
)
from tests.integration.realname.conftest import (
    photo,
    source_url,  # noqa: F401 - fixture
)
from tests.integration.test_me_pages import (  # noqa: F401 - fixtures
    LI,
    WANG,
    ZHANG,
    app_fixture,
    post_form,
    save_profile,
    second_person,
    submit,
    svc_fixture,
    text,
    upload,
    use_source,
)
from tests.integration.test_review_pages import decide, request_ids
from tests.support.live import free_port

CLIENT = "rp-idcard"
REDIRECT = "https://idcard-rp.example/callback"


def spellings(number: str) -> set[str]:
    return {number, number.lower(), number.upper()}


FULL_NUMBERS = spellings(ZHANG.id_number) | spellings(LI.id_number) | spellings(WANG.id_number)


@pytest.fixture()
def captured(caplog: pytest.LogCaptureFixture) -> Iterator[io.StringIO]:
    """All log output: caplog at DEBUG, plus a JSON handler on the root and the access logger."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    caplog.set_level(logging.DEBUG)
    root.addHandler(handler)
    # The access log may have been given a handler of its own and stopped propagating.
    own = not access_log.propagate
    if own:
        access_log.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        if own:
            access_log.removeHandler(handler)


def everything_logged(caplog: pytest.LogCaptureFixture, stream: io.StringIO) -> str:
    parts = [stream.getvalue(), caplog.text]
    for record in caplog.records:
        parts.append(record.getMessage())
        parts.extend(str(value) for value in vars(record).values())
        if record.exc_info:
            parts.append(logging.Formatter().formatException(record.exc_info))
    return "\n".join(parts)


def sign_in_attempt(browser: FlaskClient, username: str, password: str) -> Any:
    return post_form(
        browser,
        "/login",
        {"username": username, "password": password, "account_type": "natural"},
    )


def test_the_whole_real_name_story_logs_no_full_id_number(
    app: Flask, svc: Services, captured: io.StringIO, caplog: pytest.LogCaptureFixture
) -> None:
    ClientService(svc.db, svc.settings).add(
        ClientSpec(
            client_id=CLIENT, secret=RP_SECRET, redirect_uris=[REDIRECT], first_party=True, allow_idcard=True
        )
    )
    # Someone types their ID number as login name (and fails), then signs in properly.
    verified = app.test_client()
    assert "登录名或密码错误" in text(sign_in_attempt(verified, ZHANG.id_number, "wrong-password-1"))
    second_person(svc, verified, "zhangwei")
    assert save_profile(verified, ZHANG).status_code == 303
    assert "国家平台实名认证通过" in text(verified.get("/me"))
    # The number goes to a client allowed it, in the ID token and at userinfo (never in a log).
    result = authorize(verified, client_id=CLIENT, redirect_uri=REDIRECT, scope="openid realname idcard")
    token = exchange(verified, result, client_id=CLIENT, redirect_uri=REDIRECT).get_json()
    info = verified.get("/userinfo", headers={"Authorization": "Bearer " + token["access_token"]}).get_json()
    assert info["id_number"] == ZHANG.id_number
    verified.get("/me?id_number=" + ZHANG.id_number)

    # A failed check, invalid numbers, hostile and good uploads, and 提交.
    applicant = app.test_client()
    second_person(svc, applicant, "lina")
    assert save_profile(applicant, LI, id_number=LI.id_number[:-1] + "1").status_code == 400
    assert save_profile(applicant, LI, birth_date="1991-03-08").status_code == 400
    assert save_profile(applicant, LI, document_type="passport").status_code == 400
    assert save_profile(applicant, LI, name="李娜娜").status_code == 303
    assert upload(applicant, "front", b"<html>" + LI.id_number.encode()).status_code == 400
    assert upload(applicant, "front", photo()).status_code == 303
    assert upload(applicant, "back", photo("gray", "PNG")).status_code == 303
    assert submit(applicant).status_code == 303

    # The reviewer looks at everything and approves.
    reviewer = app.test_client()
    second_person(svc, reviewer, "checker", roles=("reviewer",))
    request_id = request_ids(svc)[0]
    page = text(reviewer.get(f"/review/{request_id}"))
    for document in page.split('src="/review/documents/')[1:]:
        assert reviewer.get("/review/documents/" + document.split('"')[0]).status_code == 200
    assert decide(reviewer, request_id, "approve").status_code == 303

    # The source is down for the third person: retries and the failure are logged.
    late = app.test_client()
    second_person(svc, late, "wangfang")
    use_source(svc, f"http://127.0.0.1:{free_port()}")
    assert save_profile(late, WANG).status_code == 303
    assert "实名核验服务暂时不可用" in text(late.get("/me"))

    logged = everything_logged(caplog, captured)
    # The capture really saw the story: request lines, the outgoing calls, the refused inputs.
    assert '"path": "/me/edit"' in logged and '"path": "/me/realname/upload"' in logged
    assert "/review/documents/" in logged and '"path": "/userinfo"' in logged
    assert '"POST /v1/verify HTTP/1.1" 200' in logged and "verification source attempt" in logged
    for number in FULL_NUMBERS:
        assert number not in logged, "a full ID number reached the logs"
    assert PASSWORD not in logged
