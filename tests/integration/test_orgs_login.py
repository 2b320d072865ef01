"""The 法人登录 tab: a unit admin signs in with the unit's login name or its credit code."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from idp.accounts.services import AccountService, LoginFailed
from idp.audit.services import details_of, events
from idp.config import load_settings
from idp.orgs.actors import Actor
from idp.orgs.services import UnitInput
from tests.integration.orgs_world import FAST, PASSWORD, UNIT_PASSWORD, World, credit_codes, sign_in

pytest_plugins = ("tests.integration.orgs_fixtures",)

IP = "192.0.2.77"
#: ASCII digits and capitals to their full-width forms (U+FF10...), as a Chinese input method types them.
FULL_WIDTH = {c: c + 0xFEE0 for c in range(ord("0"), ord("Z") + 1) if chr(c).isalnum()}
ERROR = re.compile(r'<p class="form-error" role="alert">([^<]*)</p>')


def failure(accounts: AccountService, username: str, password: str, tab: str) -> LoginFailed:
    with pytest.raises(LoginFailed) as info:
        accounts.authenticate(username, password, tab, IP)
    return info.value


def test_the_admin_signs_in_with_the_login_name_or_the_credit_code(world: World) -> None:
    code = world.unit.credit_code
    spellings = ("bjexchange", "BJExchange", code, code.lower(), f" {code} ", code.translate(FULL_WIDTH))
    for typed in spellings:
        user = world.accounts.authenticate(typed, UNIT_PASSWORD, "legal", IP)
        assert user.id == world.admin.id and user.account_type == "legal"
    with world.db.transaction() as session:
        assert len(events(session, event="login.success", actor=world.admin.id)) == len(spellings)


def test_each_tab_refuses_the_other_kind_of_account_like_an_unknown_one(world: World) -> None:
    world.person("lina1990")
    reference = failure(world.accounts, "nobody_here", PASSWORD, "natural")
    refusals = [
        failure(world.accounts, "bjexchange", UNIT_PASSWORD, "natural"),
        failure(world.accounts, world.unit.credit_code, UNIT_PASSWORD, "natural"),
        failure(world.accounts, "lina1990", PASSWORD, "legal"),
        failure(world.accounts, credit_codes(5)[4], UNIT_PASSWORD, "legal"),
        failure(world.accounts, "bjexchange", "Wrong-Password-1", "legal"),
    ]
    for refused in refusals:
        assert (refused.public, refused.status_code) == (reference.public, reference.status_code)
    assert [r.detail for r in refusals] == ["unknown_user"] * 4 + ["bad_password"]


def test_a_unit_not_yet_approved_cannot_sign_in(world: World) -> None:
    code = credit_codes(2)[1]
    world.units.register(UnitInput(code, "待审单位"), "pendingunit", UNIT_PASSWORD, Actor(None))
    reference = failure(world.accounts, "nobody_here", UNIT_PASSWORD, "legal")
    for typed in ("pendingunit", code):
        refused = failure(world.accounts, typed, UNIT_PASSWORD, "legal")
        assert (refused.public, refused.detail) == (reference.public, "disabled")
    world.units.reject(code, "材料不全", Actor(None, console=True))
    assert failure(world.accounts, code, UNIT_PASSWORD, "legal").public == reference.public


def test_the_code_and_the_login_name_share_one_failure_counter(world: World) -> None:
    strict = load_settings(environ={}, overrides={"lock_after": 3, "lock_seconds": 600})
    accounts = AccountService(world.db, world.store, strict, password_params=FAST)
    code = world.unit.credit_code
    failure(accounts, code, "Wrong-Password-1", "legal")
    failure(accounts, "bjexchange", "Wrong-Password-2", "legal")
    failure(accounts, code.lower(), "Wrong-Password-3", "legal")  # the third failure sets the lock

    locked = failure(accounts, "bjexchange", UNIT_PASSWORD, "legal")
    assert locked.detail == "locked", "guesses through the code counted for the login name"
    assert failure(accounts, code, UNIT_PASSWORD, "legal").detail == "locked"
    with world.db.transaction() as session:
        [lock] = events(session, event="login.locked")
        assert lock.target == world.admin.id and details_of(lock)["failures"] == 3


def test_captcha_after_failures_counts_the_code_as_the_account(world: World) -> None:
    settings = load_settings(environ={}, overrides={"captcha": "after-failures", "captcha_after": 2})
    accounts = AccountService(world.db, world.store, settings, password_params=FAST)
    failure(accounts, "bjexchange", "Wrong-Password-1", "legal")
    failure(accounts, "bjexchange", "Wrong-Password-2", "legal")
    assert accounts.needs_captcha(world.unit.credit_code, "198.51.100.200", "legal")
    assert not accounts.needs_captcha(world.unit.credit_code, "198.51.100.200", "natural")


# --- over HTTP -----------------------------------------------------------------------------------


def test_the_legal_tab_signs_the_admin_in_and_opens_the_console(org_app: Flask, app_world: World) -> None:
    client = org_app.test_client()
    page = client.get("/login?type=legal").get_data(as_text=True)
    assert 'name="account_type" value="legal"' in page and "统一社会信用代码" in page
    assert "/org/register" in page

    signed = sign_in(client, app_world.unit.credit_code, UNIT_PASSWORD, "legal")

    assert signed.status_code == 303 and signed.headers["Location"].endswith("/org")
    console = client.get("/org")
    assert console.status_code == 200 and app_world.unit.name in console.get_data(as_text=True)


def test_cross_tab_sign_in_gets_the_unknown_users_answer(org_app: Flask, app_world: World) -> None:
    app_world.person("lina1990")
    answers = {}
    for username, password, tab in (
        ("nobody_here", PASSWORD, "legal"),
        ("lina1990", PASSWORD, "legal"),
        ("bjexchange", UNIT_PASSWORD, "natural"),
        (app_world.unit.credit_code, UNIT_PASSWORD, "natural"),
    ):
        response = sign_in(org_app.test_client(), username, password, tab)
        found = ERROR.search(response.get_data(as_text=True))
        answers[(username, tab)] = (response.status_code, found.group(1) if found else None)
    assert len(set(answers.values())) == 1, answers
    status, message = next(iter(answers.values()))
    assert status == 400
    assert message and "登录名或密码错误" in message
