"""The real-name gate and account binding after a verified sign-in."""

from __future__ import annotations

import html
import logging
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.training_rp.forging_issuer import ForgingIssuer
from tests.training_rp.helpers import (
    EXACT_REALNAME_MESSAGE,
    add_admin,
    add_department_user,
    add_unit,
    callback_url_for,
    is_signed_in,
    services_of,
    sign_in,
    synthetic_id,
    unit_input,
)
from training_rp.models import Role


def page_text(response: object) -> str:
    return html.unescape(response.data.decode())  # type: ignore[attr-defined]


@pytest.mark.parametrize("status", ["unverified", "failed", "", "VERIFIED", "something-new"])
def test_anyone_not_verified_is_turned_away_with_the_platforms_exact_message(
    status: str, app: Flask, client: FlaskClient, issuer: ForgingIssuer
) -> None:
    add_department_user(app, serial=2)
    issuer.person.id_number = synthetic_id(2)
    issuer.person.realname_status = status
    response = sign_in(client)
    assert response.status_code == 403
    text = page_text(response)
    assert EXACT_REALNAME_MESSAGE in text
    assert 'href="' + issuer.url + '/me"' in text, "links to the IdP's 我的信息"
    assert "010-58884232" in text
    assert not is_signed_in(client)


def test_a_pending_review_gets_its_own_wording(
    app: Flask, client: FlaskClient, issuer: ForgingIssuer
) -> None:
    issuer.person.realname_status = "pending_review"
    response = sign_in(client)
    assert response.status_code == 403
    text = page_text(response)
    assert "审核中" in text
    assert EXACT_REALNAME_MESSAGE not in text
    assert "010-58884232" in text
    assert not is_signed_in(client)


@pytest.mark.parametrize("status", ["verified", "reviewed"])
def test_a_recorded_verified_person_is_bound_at_first_sign_in_then_found_by_subject(
    status: str, app: Flask, client: FlaskClient, issuer: ForgingIssuer
) -> None:
    department = add_department_user(app, serial=2)
    issuer.person.id_number = synthetic_id(2)
    issuer.person.realname_status = status
    assert sign_in(client).status_code == 302
    home = client.get("/").data.decode()
    assert "出国(境)培训归口管理部门用户" in home and department.department in home
    assert services_of(app).accounts.get(department.id).bound  # type: ignore[union-attr]

    # Later sign-ins go by subject, even without the ID number.
    issuer.person.id_number = None
    again = app.test_client()
    assert sign_in(again).status_code == 302
    assert is_signed_in(again)


def test_a_verified_person_without_a_record_sees_how_to_apply(
    app: Flask, client: FlaskClient, issuer: ForgingIssuer
) -> None:
    issuer.person.id_number = synthetic_id(77)
    response = sign_in(client)
    assert response.status_code == 403
    text = page_text(response)
    assert "尚未开通本系统账号" in text
    assert "引智司" in text and "归口管理部门" in text and "组团单位" in text
    assert not is_signed_in(client)


def test_an_account_marked_invalid_cannot_enter(
    app: Flask, client: FlaskClient, issuer: ForgingIssuer
) -> None:
    department = add_department_user(app, serial=2)
    add_unit(app, department, serial=3, active=False)
    issuer.person.id_number = synthetic_id(3)
    response = sign_in(client)
    assert response.status_code == 403
    assert "无效" in page_text(response)
    assert not is_signed_in(client)
    unit = services_of(app).accounts.list_all(Role.ORGANIZING_UNIT)[0]
    assert not unit.bound, "a 无效 account is not bound either"


def test_a_bound_account_marked_invalid_later_is_refused_and_signed_out(
    app: Flask, client: FlaskClient, issuer: ForgingIssuer
) -> None:
    department = add_department_user(app, serial=2)
    unit = add_unit(app, department, serial=3)
    issuer.person.id_number = synthetic_id(3)
    assert sign_in(client).status_code == 302
    assert is_signed_in(client)

    services_of(app).accounts.update_organizing_unit(
        department, unit.id, unit_input(3, active=False, id_number=None)
    )
    assert not is_signed_in(client), "marking the account 无效 ends its open session"
    assert sign_in(app.test_client()).status_code == 403


def test_a_number_bound_to_another_subject_is_refused(
    app: Flask, client: FlaskClient, issuer: ForgingIssuer
) -> None:
    add_admin(app, serial=5)
    issuer.person.id_number = synthetic_id(5)
    assert sign_in(client).status_code == 302

    issuer.person.sub = "another-subject"
    response = sign_in(app.test_client())
    assert response.status_code == 403
    assert "已绑定其他平台账号" in page_text(response)


@pytest.mark.parametrize("number", [None, "", "110105194912310021", "not-a-number"])
def test_without_a_usable_id_number_nobody_is_bound(
    number: str | None,
    app: Flask,
    client: FlaskClient,
    issuer: ForgingIssuer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    add_department_user(app, serial=2)
    issuer.person.id_number = number
    caplog.set_level(logging.INFO, logger="training_rp")
    response = sign_in(client)
    assert response.status_code == 403
    assert "未提供您的身份证号" in page_text(response)
    assert not is_signed_in(client)


def test_the_sign_in_log_holds_no_id_number(
    app: Flask, client: FlaskClient, issuer: ForgingIssuer, caplog: pytest.LogCaptureFixture
) -> None:
    add_department_user(app, serial=2)
    issuer.person.id_number = synthetic_id(2)
    caplog.set_level(logging.DEBUG)
    sign_in(client)
    assert "outcome=signed_in" in caplog.text
    assert synthetic_id(2) not in caplog.text


def test_next_brings_the_person_back_to_the_entry_they_clicked(
    app: Flask, client: FlaskClient, issuer: ForgingIssuer
) -> None:
    add_department_user(app, serial=2)
    issuer.person.id_number = synthetic_id(2)
    response = client.get("/matchmaking")
    assert response.status_code == 302 and response.headers["Location"] == "/login?next=/matchmaking"
    assert client.get(callback_url_for(client, "/matchmaking")).headers["Location"] == "/matchmaking"


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example", "/\\evil.example", "javascript:x"]
)
def test_next_never_leaves_the_site(
    target: str, app: Flask, client: FlaskClient, issuer: ForgingIssuer
) -> None:
    add_department_user(app, serial=2)
    issuer.person.id_number = synthetic_id(2)
    assert client.get(callback_url_for(client, quote(target, safe=""))).headers["Location"] == "/"
