"""Small helpers shared by the training system's tests: synthetic ID numbers, sign-in, accounts."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import requests
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from training_rp.idnumber import check_digit
from training_rp.models import Role
from training_rp.services.accounts import AccountView, PersonInput, UnitInput
from training_rp.web.context import Services

EXACT_REALNAME_MESSAGE = (
    "您未进行实名认证,请在'科学技术部政务服务平台'的'在线办事·我的信息'中进行实名认证操作!"
)


def synthetic_id(serial: int, born: str = "19900307", region: str = "110101") -> str:
    """A well-formed resident ID number of nobody real (GB 11643 checksum computed here)."""
    first17 = f"{region}{born}{serial % 1000:03d}"
    return first17 + check_digit(first17)


def services_of(app: Flask) -> Services:
    svc: Services = app.extensions["training_rp"]
    return svc


def add_admin(app: Flask, serial: int = 1, name: str = "王管理") -> AccountView:
    return services_of(app).accounts.add_ministry_admin(name, synthetic_id(serial))


def add_department_user(
    app: Flask, serial: int = 2, department: str = "北京市科学技术委员会", active: bool = True
) -> AccountView:
    svc = services_of(app)
    admin = svc.accounts.list_all(Role.MINISTRY_ADMIN) or [add_admin(app, serial=900 + serial)]
    data = PersonInput(name="李归口", department=department, id_number=synthetic_id(serial), active=active)
    return svc.accounts.add_department_user(admin[0], data)


def unit_input(serial: int, username: str | None = None, active: bool = True, **changes: Any) -> UnitInput:
    values: dict[str, Any] = {
        "unit_name": f"测试组团单位{serial}",
        "username": username or f"unit{serial}",
        "contact": "赵联系",
        "office_phone": "010-58884232",
        "mobile": "13800138000",
        "fax": "",
        "email": f"unit{serial}@example.org",
        "active": active,
        "id_number": synthetic_id(serial),
    }
    values.update(changes)
    return UnitInput(**values)


def add_unit(app: Flask, department: AccountView, serial: int = 3, active: bool = True) -> AccountView:
    return services_of(app).accounts.add_organizing_unit(department, unit_input(serial, active=active))


def callback_url_for(client: FlaskClient, next_path: str | None = None) -> str:
    """Start a sign-in at the RP and let the issuer answer; returns the callback path with its query."""
    response = client.get("/login" + (f"?next={next_path}" if next_path else ""))
    assert response.status_code == 302, response.data[:500]
    authorize = requests.get(response.headers["Location"], allow_redirects=False, timeout=5)
    assert authorize.status_code == 302, authorize.text
    parts = urlsplit(authorize.headers["Location"])
    return f"{parts.path}?{parts.query}"


def sign_in(client: FlaskClient, next_path: str | None = None) -> TestResponse:
    return client.get(callback_url_for(client, next_path))


def csrf_token_of(client: FlaskClient, path: str = "/") -> str:
    """The CSRF token a page at ``path`` carries (the logout form, or a form's hidden field)."""
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', client.get(path).data.decode())
    assert match is not None, f"no csrf token on {path}"
    return match.group(1)


def is_signed_in(client: FlaskClient) -> bool:
    return b'id="logout"' in client.get("/").data
