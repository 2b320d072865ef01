"""Delegated roles: who may grant what, and the read side the OpenID Connect side relies on."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from idp.accounts.models import User
from idp.audit.services import details_of, events
from idp.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from idp.orgs.actors import CONSOLE_ACTOR
from idp.orgs.grants import (
    PersonGrantView,
    UnitRole,
    grants_of_person,
    role_still_granted,
    roles_for_client,
)
from idp.orgs.models import RoleGrant
from tests.integration.orgs_world import OTHER_MATTER, TRAINING, World, credit_codes

pytest_plugins = ("tests.integration.orgs_fixtures",)

MANAGER = "matter_manager"
HANDLER = "matter_handler"


def test_unit_admin_grants_a_handler_who_then_may_act_for_the_unit(world: World) -> None:
    li = world.person("lina1990", "李娜")
    view = world.delegation.grant(world.admin_actor, world.unit.id, TRAINING, li.id, HANDLER)

    assert (view.role, view.role_label, view.matter_name) == (
        HANDLER,
        "事项办理员",
        "因公出国(境)培训项目管理系统",
    )
    assert view.login_masked == "li*****0" and view.name_masked == "李*"
    roles = roles_for_client(world.db, li.id, TRAINING)
    assert roles == [UnitRole(world.unit.id, world.unit.credit_code, world.unit.name, HANDLER)]
    assert role_still_granted(world.db, li.id, world.unit.id, TRAINING, HANDLER)
    assert not role_still_granted(world.db, li.id, world.unit.id, TRAINING, MANAGER)
    assert roles_for_client(world.db, li.id, OTHER_MATTER) == [], "a grant is for one matter only"
    [shown] = grants_of_person(world.db, li.id)
    assert isinstance(shown, PersonGrantView)
    assert (shown.unit_name, shown.credit_code, shown.client_id, shown.role_label) == (
        world.unit.name,
        world.unit.credit_code,
        TRAINING,
        "事项办理员",
    )
    with world.db.transaction() as session:
        [row] = events(session, event="org.role_granted")
        assert row.actor == world.admin.id and row.target == li.id and row.ip == "198.51.100.9"
        assert details_of(row)["role"] == HANDLER and details_of(row)["as_role"] == "unit_admin"


def test_a_revoked_grant_stops_counting_at_once(world: World) -> None:
    li = world.person("lina1990")
    view = world.delegation.grant(world.admin_actor, world.unit.id, TRAINING, li.id, HANDLER)
    assert role_still_granted(world.db, li.id, world.unit.id, TRAINING, HANDLER)

    world.delegation.revoke(world.admin_actor, view.id)

    assert roles_for_client(world.db, li.id, TRAINING) == []
    assert not role_still_granted(world.db, li.id, world.unit.id, TRAINING, HANDLER)
    assert grants_of_person(world.db, li.id) == []
    with world.db.transaction() as session:
        [row] = events(session, event="org.role_revoked")
        assert row.actor == world.admin.id and details_of(row)["replaced"] is False
    with pytest.raises(NotFound):
        world.delegation.revoke(world.admin_actor, view.id)


def test_a_manager_grants_and_revokes_handlers_but_never_managers(world: World) -> None:
    wang = world.person("wangfang", "王芳")
    zhang = world.person("zhangwei", "张伟")
    zhao = world.person("zhaoliu", "赵六")
    world.delegation.grant(world.admin_actor, world.unit.id, TRAINING, wang.id, MANAGER)
    manager = world.actor(wang)

    with pytest.raises(PermissionDenied):
        world.delegation.grant(manager, world.unit.id, TRAINING, zhang.id, MANAGER)
    handler = world.delegation.grant(manager, world.unit.id, TRAINING, zhang.id, HANDLER)
    assert role_still_granted(world.db, zhang.id, world.unit.id, TRAINING, HANDLER)

    # The admin's manager grant is out of the manager's reach, also to "downgrade" it.
    colleague = world.delegation.grant(world.admin_actor, world.unit.id, TRAINING, zhao.id, MANAGER)
    with pytest.raises(PermissionDenied):
        world.delegation.revoke(manager, colleague.id)
    with pytest.raises(PermissionDenied):
        world.delegation.grant(manager, world.unit.id, TRAINING, zhao.id, HANDLER)
    assert role_still_granted(world.db, zhao.id, world.unit.id, TRAINING, MANAGER)

    world.delegation.revoke(manager, handler.id)
    assert not role_still_granted(world.db, zhang.id, world.unit.id, TRAINING, HANDLER)
    assert [m.client_id for m in world.delegation.managed_by(manager)] == [TRAINING]


def test_a_handler_cannot_grant_or_revoke_anything(world: World) -> None:
    zhang = world.person("zhangwei")
    li = world.person("lina1990")
    other = world.delegation.grant(world.admin_actor, world.unit.id, TRAINING, li.id, HANDLER)
    world.delegation.grant(world.admin_actor, world.unit.id, TRAINING, zhang.id, HANDLER)
    handler = world.actor(zhang)
    stranger = world.person("stranger1")

    for role in (HANDLER, MANAGER):
        with pytest.raises(PermissionDenied):
            world.delegation.grant(handler, world.unit.id, TRAINING, stranger.id, role)
    with pytest.raises(NotFound):
        world.delegation.revoke(handler, other.id)
    assert roles_for_client(world.db, stranger.id, TRAINING) == []
    assert world.delegation.managed_by(handler) == []


def test_grants_need_a_matter_the_unit_holds(world: World) -> None:
    li = world.person("lina1990")
    with pytest.raises(PermissionDenied):
        world.delegation.grant(world.admin_actor, world.unit.id, OTHER_MATTER, li.id, HANDLER)
    pending = world.permissions.apply(world.admin_actor, OTHER_MATTER)
    with pytest.raises(PermissionDenied):
        world.delegation.grant(world.admin_actor, world.unit.id, OTHER_MATTER, li.id, HANDLER)
    world.permissions.approve(CONSOLE_ACTOR, pending.id)
    world.delegation.grant(world.admin_actor, world.unit.id, OTHER_MATTER, li.id, HANDLER)
    assert [r.role for r in roles_for_client(world.db, li.id, OTHER_MATTER)] == [HANDLER]


def test_one_unit_admin_cannot_touch_another_units_matters(world: World) -> None:
    code = credit_codes(2)[1]
    other_unit, other_admin = world.add_unit(code, "上海示例科技有限公司", "shexample")
    world.approve_matter(other_admin)
    li = world.person("lina1990")
    mine = world.delegation.grant(world.admin_actor, world.unit.id, TRAINING, li.id, HANDLER)

    with pytest.raises(PermissionDenied):
        world.delegation.grant(world.actor(other_admin), world.unit.id, TRAINING, li.id, MANAGER)
    with pytest.raises(NotFound):
        world.delegation.revoke(world.actor(other_admin), mine.id)
    # Both units may delegate the same person; the person then chooses between them.
    world.delegation.grant(world.actor(other_admin), other_unit.id, TRAINING, li.id, MANAGER)
    roles = roles_for_client(world.db, li.id, TRAINING)
    assert {(r.credit_code, r.role) for r in roles} == {
        (world.unit.credit_code, HANDLER),
        (other_unit.credit_code, MANAGER),
    }


def test_the_unit_admin_replaces_a_role_in_one_step(world: World) -> None:
    li = world.person("lina1990")
    world.delegation.grant(world.admin_actor, world.unit.id, TRAINING, li.id, HANDLER)
    with pytest.raises(Conflict):
        world.delegation.grant(world.admin_actor, world.unit.id, TRAINING, li.id, HANDLER)

    world.delegation.grant(world.admin_actor, world.unit.id, TRAINING, li.id, MANAGER)

    assert [r.role for r in roles_for_client(world.db, li.id, TRAINING)] == [MANAGER]
    with world.db.transaction() as session:
        rows = session.scalars(
            select(RoleGrant).where(RoleGrant.user_id == li.id).order_by(RoleGrant.id)
        ).all()
        assert [(r.role, r.revoked_at is None) for r in rows] == [(HANDLER, False), (MANAGER, True)]
        [revoked] = events(session, event="org.role_revoked")
        assert details_of(revoked)["replaced"] is True


def test_the_database_refuses_a_second_live_grant(world: World) -> None:
    """The partial unique index is the last word when two grants race."""
    li = world.person("lina1990")
    world.delegation.grant(world.admin_actor, world.unit.id, TRAINING, li.id, HANDLER)
    with pytest.raises(IntegrityError), world.db.transaction() as session:
        session.add(
            RoleGrant(unit_id=world.unit.id, client_id=TRAINING, user_id=li.id, role=MANAGER, granted_by="x")
        )
        session.flush()


def test_only_natural_active_persons_receive_grants(world: World) -> None:
    code = credit_codes(2)[1]
    _unit, other_admin = world.add_unit(code, "上海示例科技有限公司", "shexample")
    disabled = world.person("disabled1")
    with world.db.transaction() as session:
        row = session.get(User, disabled.id)
        assert row is not None
        row.disabled = True
    for target in (other_admin.id, disabled.id, "0" * 32, "not-an-id", "x" * 5000):
        with pytest.raises(NotFound):
            world.delegation.grant(world.admin_actor, world.unit.id, TRAINING, target, HANDLER)


@pytest.mark.parametrize("role", ["unit_admin", "", "MATTER_HANDLER", "matter_handler' OR 1=1 --", "管理员"])
def test_unknown_roles_are_refused(world: World, role: str) -> None:
    li = world.person("lina1990")
    with pytest.raises(InvalidInput):
        world.delegation.grant(world.admin_actor, world.unit.id, TRAINING, li.id, role)


def test_hostile_unit_and_matter_ids_are_refused(world: World) -> None:
    li = world.person("lina1990")
    for unit_id, client_id in (("", TRAINING), (world.unit.id, ""), ("%", "%"), ("x" * 9000, "\x00" * 100)):
        with pytest.raises(PermissionDenied):
            world.delegation.grant(world.admin_actor, unit_id, client_id, li.id, HANDLER)
    with pytest.raises(PermissionDenied):
        world.delegation.grant(CONSOLE_ACTOR, world.unit.id, TRAINING, li.id, HANDLER)


def test_the_unit_admin_account_acts_for_its_unit_where_the_unit_holds_the_matter(world: World) -> None:
    [role] = roles_for_client(world.db, world.admin.id, TRAINING)
    assert role == UnitRole(world.unit.id, world.unit.credit_code, world.unit.name, "unit_admin")
    assert role_still_granted(world.db, world.admin.id, world.unit.id, TRAINING, "unit_admin")
    assert roles_for_client(world.db, world.admin.id, OTHER_MATTER) == []
    [view] = grants_of_person(world.db, world.admin.id)
    assert (view.role, view.role_label, view.client_id) == ("unit_admin", "单位管理员", TRAINING)


def test_withdrawing_the_units_permission_ends_every_role_under_it(world: World) -> None:
    li = world.person("lina1990")
    world.delegation.grant(world.admin_actor, world.unit.id, TRAINING, li.id, HANDLER)
    [permission] = world.permissions.of_unit(world.admin_actor)

    world.permissions.revoke(CONSOLE_ACTOR, permission.id, "资格到期")

    assert roles_for_client(world.db, li.id, TRAINING) == []
    assert not role_still_granted(world.db, world.admin.id, world.unit.id, TRAINING, "unit_admin")
    assert grants_of_person(world.db, li.id) == []


def test_disabled_people_hold_no_roles(world: World) -> None:
    li = world.person("lina1990")
    world.delegation.grant(world.admin_actor, world.unit.id, TRAINING, li.id, MANAGER)
    with world.db.transaction() as session:
        row = session.get(User, li.id)
        assert row is not None
        row.disabled = True
    assert roles_for_client(world.db, li.id, TRAINING) == []
    assert grants_of_person(world.db, li.id) == []
    assert world.delegation.managed_by(world.actor(li)) == []
    assert roles_for_client(world.db, "no-such-user", TRAINING) == []


def test_live_grants_of_a_unit_are_listed_masked(world: World) -> None:
    li = world.person("lina1990", "李娜")
    wang = world.person("wangfang", "王芳")
    world.delegation.grant(world.admin_actor, world.unit.id, TRAINING, li.id, HANDLER)
    revoked = world.delegation.grant(world.admin_actor, world.unit.id, TRAINING, wang.id, MANAGER)
    world.delegation.revoke(world.admin_actor, revoked.id)

    [listed] = world.delegation.of_unit(world.unit.id)
    assert (listed.login_masked, listed.name_masked, listed.role) == ("li*****0", "李*", HANDLER)
    assert world.delegation.held_matters(world.unit.id) == [(TRAINING, "因公出国(境)培训项目管理系统")]


@pytest.mark.parametrize(
    ("user_id", "unit_id", "client_id", "role"),
    [
        ("\x00", "\x00", "\x00", "\x00"),
        ("x" * 10_000, "y" * 10_000, "z" * 10_000, "w" * 10_000),
        ("", "", "", ""),
        ("' OR '1'='1", "%", "_", "matter_handler"),
    ],
)
def test_the_read_side_answers_no_to_nonsense(
    world: World, user_id: str, unit_id: str, client_id: str, role: str
) -> None:
    assert roles_for_client(world.db, user_id, client_id) == []
    assert roles_for_client(world.db, world.admin.id, client_id) == []
    assert not role_still_granted(world.db, user_id, unit_id, client_id, role)
    assert not role_still_granted(world.db, world.admin.id, unit_id, TRAINING, role)
    assert grants_of_person(world.db, user_id) == []
