"""Units: adding, registering, deciding registrations, keeping information; and ``idp org``."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from idp.accounts.models import User
from idp.accounts.password_policy import WeakPassword
from idp.audit.services import details_of, events
from idp.cli import main
from idp.db import Database
from idp.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from idp.orgs.actors import CONSOLE_ACTOR, Actor
from idp.orgs.creditcode import InvalidCreditCode
from idp.orgs.models import Unit, UnitStatus
from idp.orgs.services import UnitInput
from tests.integration.orgs_world import UNIT_PASSWORD, World, credit_codes

pytest_plugins = ("tests.integration.orgs_fixtures",)

VISITOR = Actor(user_id=None, ip="203.0.113.40", request_id="reg-1")


def count(db: Database, model: Any) -> int:
    with db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_an_added_unit_is_active_with_a_legal_admin_account(world: World) -> None:
    admin = world.admin
    assert (admin.account_type, admin.disabled, admin.name) == ("legal", False, world.unit.name)
    assert world.unit.status == "active" and world.unit.admin_user_id == admin.id
    assert world.unit.unit_type == "institution" and world.unit.contact_name == "王老师"
    with world.db.transaction() as session:
        [row] = events(session, event="org.unit_added")
        assert row.actor == "cli" and details_of(row)["credit_code"] == world.unit.credit_code


def test_a_registration_waits_for_an_operator(world: World) -> None:
    code = credit_codes(2)[1]
    unit = world.units.register(
        UnitInput(code, "上海示例科技有限公司", "enterprise", "上海市浦东新区", "李经理", "021-5555 0101"),
        "shexample",
        UNIT_PASSWORD,
        VISITOR,
    )
    admin = world.accounts.find_by_username("shexample")
    assert unit.status == "pending" and admin is not None and admin.disabled
    assert [u.credit_code for u, _ in world.units.units(UnitStatus.PENDING)] == [code]

    approved = world.units.approve(code, CONSOLE_ACTOR)

    assert approved.status == "active" and approved.decided_by == "cli"
    admin = world.accounts.find_by_username("shexample")
    assert admin is not None and not admin.disabled
    with world.db.transaction() as session:
        [registered] = events(session, event="org.unit_registered")
        assert registered.actor == "anonymous" and registered.ip == "203.0.113.40"
        assert events(session, event="org.unit_approved")
    with pytest.raises(Conflict):
        world.units.approve(code, CONSOLE_ACTOR)


def test_a_rejected_registration_needs_a_reason_and_keeps_the_account_closed(world: World) -> None:
    code = credit_codes(2)[1]
    world.units.register(UnitInput(code, "某某公司"), "moumou", UNIT_PASSWORD, VISITOR)
    with pytest.raises(InvalidInput):
        world.units.reject(code, "   ", CONSOLE_ACTOR)

    unit = world.units.reject(code, "营业执照信息与统一社会信用代码不符", CONSOLE_ACTOR)

    assert (unit.status, unit.status_reason) == ("rejected", "营业执照信息与统一社会信用代码不符")
    admin = world.accounts.find_by_username("moumou")
    assert admin is not None and admin.disabled
    with pytest.raises(Conflict):
        world.units.reject(code, "again", CONSOLE_ACTOR)


def test_only_operators_decide_and_only_the_console_adds(world: World) -> None:
    code = credit_codes(2)[1]
    world.units.register(UnitInput(code, "某某公司"), "moumou", UNIT_PASSWORD, VISITOR)
    somebody = world.person("somebody")
    for actor in (world.actor(somebody), world.admin_actor, VISITOR):
        with pytest.raises(PermissionDenied):
            world.units.approve(code, actor)
        with pytest.raises(PermissionDenied):
            world.units.pending_units(actor)
    with pytest.raises(PermissionDenied):
        world.units.add(UnitInput(credit_codes(3)[2], "另一家公司"), "another", UNIT_PASSWORD, VISITOR)

    operator = world.person("operator1", roles=["operator"])
    assert world.units.approve(code, world.actor(operator)).status == "active"


def test_credit_codes_and_login_names_are_unique_and_nothing_is_half_written(world: World) -> None:
    before = (count(world.db, User), count(world.db, Unit))
    taken_code = world.unit.credit_code
    new_code = credit_codes(2)[1]
    with pytest.raises(Conflict):
        world.units.register(UnitInput(taken_code.lower(), "重复单位"), "fresh_login", UNIT_PASSWORD, VISITOR)
    with pytest.raises(Conflict):
        world.units.register(UnitInput(new_code, "重复登录名"), "BJEXCHANGE", UNIT_PASSWORD, VISITOR)
    assert (count(world.db, User), count(world.db, Unit)) == before


def test_an_admin_login_name_may_be_its_own_code_but_not_another(world: World) -> None:
    own, other = credit_codes(3)[1:]
    with pytest.raises(InvalidInput):
        world.units.register(UnitInput(own, "甲单位"), other, UNIT_PASSWORD, VISITOR)
    with pytest.raises(InvalidInput):
        world.units.register(UnitInput(own, "甲单位"), world.unit.credit_code, UNIT_PASSWORD, VISITOR)
    unit = world.units.register(UnitInput(own, "甲单位"), own, UNIT_PASSWORD, VISITOR)
    assert unit.status == "pending"


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (UnitInput("", "名称"), InvalidCreditCode),
        (UnitInput("91350100M000100Y44", "名称"), InvalidCreditCode),
        (UnitInput("9" * 100_000, "名称"), InvalidCreditCode),
        (UnitInput("\x00" * 18, "名称"), InvalidCreditCode),
        (UnitInput("91350100M000100Y43", ""), InvalidInput),
        (UnitInput("91350100M000100Y43", "名"), InvalidInput),
        (UnitInput("91350100M000100Y43", "x" * 201), InvalidInput),
        (UnitInput("91350100M000100Y43", "名称\r\n伪造"), InvalidInput),
        (UnitInput("91350100M000100Y43", "名称", unit_type="cult"), InvalidInput),
        (UnitInput("91350100M000100Y43", "名称", contact_phone="call me"), InvalidInput),
        (UnitInput("91350100M000100Y43", "名称", contact_email="no-at-sign"), InvalidInput),
        (UnitInput("91350100M000100Y43", "名称", address="a" * 301), InvalidInput),
    ],
)
def test_hostile_unit_data_is_refused_with_a_reason(world: World, data: UnitInput, error: type) -> None:
    before = count(world.db, Unit)
    with pytest.raises(error) as info:
        world.units.register(data, "hostile1", UNIT_PASSWORD, VISITOR)
    assert info.value.public  # type: ignore[attr-defined]
    assert count(world.db, Unit) == before


@pytest.mark.parametrize(
    ("login", "password", "error"),
    [
        ("a", UNIT_PASSWORD, InvalidInput),
        ("bad login", UNIT_PASSWORD, InvalidInput),
        ("x" * 5000, UNIT_PASSWORD, InvalidInput),
        ("goodlogin", "short", WeakPassword),
        ("goodlogin", "password123", WeakPassword),
    ],
)
def test_bad_admin_logins_and_weak_passwords_are_refused(
    world: World, login: str, password: str, error: type
) -> None:
    with pytest.raises(error):
        world.units.register(UnitInput(credit_codes(2)[1], "某某公司"), login, password, VISITOR)


def test_the_unit_admin_keeps_the_information_but_not_the_code(world: World) -> None:
    changed = world.units.update(
        world.admin_actor,
        UnitInput(
            "91350100M000100Y43", "北京示例国际交流中心(更名)", "institution", "北京市海淀区", "王老师"
        ),
    )
    assert changed.credit_code == world.unit.credit_code, "the code is not editable"
    assert (changed.name, changed.address) == ("北京示例国际交流中心(更名)", "北京市海淀区")
    admin = world.accounts.get(world.admin.id)
    assert admin is not None and admin.name == "北京示例国际交流中心(更名)"
    with world.db.transaction() as session:
        [row] = events(session, event="org.unit_updated")
        assert set(details_of(row)["fields"]) == {"name", "address"}
    with pytest.raises(InvalidInput):
        world.units.update(world.admin_actor, UnitInput("", "x"))
    person = world.person("lina1990")
    with pytest.raises(PermissionDenied):
        world.units.update(world.actor(person), UnitInput("", "新名称"))


def test_unknown_codes_are_not_found(world: World) -> None:
    with pytest.raises(NotFound):
        world.units.approve(credit_codes(2)[1], CONSOLE_ACTOR)
    with pytest.raises(InvalidCreditCode):
        world.units.approve("nonsense", CONSOLE_ACTOR)


# --- the command line ----------------------------------------------------------------------------


@pytest.fixture()
def idp(world: World, tmp_path: Any) -> Callable[..., Result]:
    """Runs ``idp ARGS`` on the test's database; the result's exit code and output."""
    env = {"IDP_DATABASE_URL": world.db.url, "IDP_INSTANCE_DIR": str(tmp_path)}

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)

    return invoke


def test_org_commands_add_list_decide(world: World, idp: Callable[..., Result]) -> None:
    code = credit_codes(2)[1]
    added = idp(
        *("org", "add", "--credit-code", code, "--name", "广州示例研究院", "--admin-username", "gzinst"),
        *("--admin-password", UNIT_PASSWORD, "--type", "institution", "--contact", "陈"),
    )
    assert added.exit_code == 0 and f"unit {code}" in added.output

    listed = {row["credit_code"]: row for row in json.loads(idp("org", "list", "--json").output)}
    assert listed[code]["status"] == "active" and listed[code]["admin_username"] == "gzinst"

    view = world.permissions.apply(world.admin_actor, "funding", "经费申报")
    [pending] = json.loads(idp("org", "requests", "--json").output)
    assert (pending["id"], pending["client_id"]) == (view.id, "funding")
    assert idp("org", "permission", "reject", str(view.id), "--reason", "材料不全").exit_code == 0
    assert world.permissions.of_unit(world.admin_actor)[0].status == "rejected"
    assert "no pending requests" in idp("org", "requests").output


def test_org_commands_refuse_with_exit_codes(world: World, idp: Callable[..., Result]) -> None:
    code = world.unit.credit_code
    base = ("org", "add", "--admin-username", "someone1", "--admin-password", UNIT_PASSWORD)
    refusals = {
        (*base, "--name", "某单位", "--credit-code", "91350100M000100Y44"): 2,
        (*base, "--name", "某单位", "--credit-code", code): 4,
        (*base, "--name", "某\x00单位", "--credit-code", credit_codes(2)[1]): 2,
        ("org", "approve", credit_codes(2)[1]): 3,
        ("org", "approve", code): 4,
        ("org", "reject", code, "--reason", "x"): 4,
        ("org", "permission", "approve", "999999"): 3,
        ("org", "permission", "approve", "0"): 2,
        ("org", "permission", "revoke", "1"): 2,
        ("org", "grant-operator", "nobody_at_all"): 3,
    }
    for args, expected in refusals.items():
        result = idp(*args)
        assert result.exit_code == expected, (args, result.output)
        assert "Traceback" not in result.output


def test_org_grant_operator_and_registration_approval(world: World, idp: Callable[..., Result]) -> None:
    world.person("opsperson")
    assert idp("org", "grant-operator", "opsperson").exit_code == 0
    ops = world.accounts.find_by_username("opsperson")
    assert ops is not None and ops.has_role("operator")
    code = credit_codes(2)[1]
    world.units.register(UnitInput(code, "深圳示例公司"), "szexample", UNIT_PASSWORD, VISITOR)
    assert code in idp("org", "list", "--status", "pending").output
    assert idp("org", "approve", code).exit_code == 0
    admin = world.accounts.find_by_username("szexample")
    assert admin is not None and not admin.disabled
