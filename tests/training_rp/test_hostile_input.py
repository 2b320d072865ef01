"""Hostile or broken requests anywhere get a clear 4xx page (or a 503 when storage is down),
never a 500 or a stack trace."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.training_rp.conftest import rp_overrides
from tests.training_rp.forging_issuer import ForgingIssuer
from tests.training_rp.helpers import add_department_user, csrf_token_of, sign_in, synthetic_id
from training_rp import create_app


@pytest.fixture()
def department(app: Flask, issuer: ForgingIssuer) -> FlaskClient:
    add_department_user(app, serial=2)
    issuer.person.id_number = synthetic_id(2)
    client = app.test_client()
    sign_in(client)
    return client


def assert_clean(response: object, status: int) -> None:
    assert response.status_code == status  # type: ignore[attr-defined]
    body = response.data.decode()  # type: ignore[attr-defined]
    assert "Traceback" not in body and "sqlalchemy" not in body.lower()


def test_an_oversized_body_is_refused(department: FlaskClient) -> None:
    token = csrf_token_of(department, "/accounts/units/new")
    response = department.post("/accounts/units/new", data={"csrf_token": token, "unit_name": "x" * 100_000})
    assert_clean(response, 413)


def test_invalid_utf8_in_a_form_is_a_form_error(department: FlaskClient) -> None:
    token = csrf_token_of(department, "/accounts/units/new")
    body = f"csrf_token={token}&unit_name=%FF%FE%FD&username=%C0%AF".encode()
    response = department.post(
        "/accounts/units/new", data=body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    assert_clean(response, 400)


def test_repeated_fields_take_no_effect_beyond_the_first(department: FlaskClient) -> None:
    token = csrf_token_of(department, "/accounts/units/new")
    response = department.post(
        "/accounts/units/new", data={"csrf_token": token, "username": ["ok123", "bad name!"]}
    )
    assert_clean(response, 400)


@pytest.mark.parametrize(
    "path", ["/accounts/units/abc", "/accounts/units/-1", "/accounts/units/99999999999999999999", "/nothing"]
)
def test_unknown_paths_are_404_pages(path: str, department: FlaskClient) -> None:
    assert_clean(department.get(path), 404)


def test_a_wrong_method_is_405(department: FlaskClient) -> None:
    assert_clean(department.get("/logout"), 405)
    assert_clean(department.put("/callback"), 405)


def test_a_garbage_session_cookie_is_a_fresh_anonymous_session(app: Flask) -> None:
    client = app.test_client()
    for value in ("x" * 4000, "\u00ff\u00fe", "' OR 1=1 --"):
        client.set_cookie("training_session", value)
        assert_clean(client.get("/"), 200)


def test_an_unreadable_database_is_a_503_page(issuer: ForgingIssuer, tmp_path: Path) -> None:
    app = create_app(rp_overrides(issuer, f"sqlite:///{tmp_path / 'never-migrated.sqlite3'}"))
    client = app.test_client()
    client.set_cookie("training_session", "some-token")
    response = client.get("/")
    assert_clean(response, 503)
    assert "服务暂时不可用" in response.data.decode()
