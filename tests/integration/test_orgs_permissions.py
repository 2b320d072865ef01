"""A unit's permission to handle a matter: requests, decisions by operators, withdrawal."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from idp.audit.services import details_of, events
from idp.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from idp.orgs.actors import CONSOLE_ACTOR, Actor
from idp.orgs.models import MatterPermission
from idp.orgs.services import UnitInput
from tests.integration.orgs_world import OTHER_MATTER, TRAINING, UNIT_PASSWORD, World, credit_codes

pytest_plugins = ("tests.integration.orgs_fixtures",)


def test_matters_are_catalogue_or_first_party_clients(world: World) -> None:
    assert [m.client_id for m in world.permissions.matters()] == [TRAINING, OTHER_MATTER]


def test_a_request_goes_from_pending_to_approved_with_an_audit_trail(world: World) -> None:
    operator = world.person("opsperson", roles=["operator"])
    view = world.permissions.apply(world.admin_actor, OTHER_MATTER, "申报经费")
    assert (view.status, view.status_label, view.note) == ("pending", "待审核", "申报经费")
    assert [p.id for p in world.permissions.pending(world.actor(operator))] == [view.id]

    decided = world.permissions.approve(world.actor(operator), view.id)

    assert (decided.status, decided.status_label) == ("approved", "已批准")
    assert world.permissions.pending(CONSOLE_ACTOR) == []
    assert world.delegation.held_matters(world.unit.id) == [
        (TRAINING, "因公出国(境)培训项目管理系统"),
        (OTHER_MATTER, "国家科技经费预算申报管理"),
    ]
    with world.db.transaction() as session:
        requested = [details_of(e)["permission"] for e in events(session, event="org.permission_requested")]
        approved = events(session, event="org.permission_approved", actor=operator.id)
        assert view.id in requested
        assert [details_of(e)["client_id"] for e in approved] == [OTHER_MATTER]


def test_a_rejected_request_may_be_followed_by_a_new_one(world: World) -> None:
    first = world.permissions.apply(world.admin_actor, OTHER_MATTER)
    with pytest.raises(Conflict):
        world.permissions.apply(world.admin_actor, OTHER_MATTER)
    rejected = world.permissions.reject(CONSOLE_ACTOR, first.id, "材料不全")
    assert (rejected.status, rejected.decision_reason) == ("rejected", "材料不全")

    second = world.permissions.apply(world.admin_actor, OTHER_MATTER, "补充材料后再次申请")

    assert second.id != first.id
    progress = world.permissions.of_unit(world.admin_actor)
    assert [(p.client_id, p.status) for p in progress if p.client_id == OTHER_MATTER] == [
        (OTHER_MATTER, "pending"),
        (OTHER_MATTER, "rejected"),
    ]
    with pytest.raises(Conflict):
        world.permissions.apply(world.admin_actor, TRAINING)  # already approved


def test_decisions_follow_the_states(world: World) -> None:
    [approved] = world.permissions.of_unit(world.admin_actor)
    with pytest.raises(Conflict):
        world.permissions.approve(CONSOLE_ACTOR, approved.id)
    with pytest.raises(Conflict):
        world.permissions.reject(CONSOLE_ACTOR, approved.id, "too late")
    pending = world.permissions.apply(world.admin_actor, OTHER_MATTER)
    with pytest.raises(Conflict):
        world.permissions.revoke(CONSOLE_ACTOR, pending.id, "not yet approved")
    revoked = world.permissions.revoke(CONSOLE_ACTOR, approved.id, "资格到期")
    assert revoked.status == "revoked" and revoked.status_label == "已撤销"
    with pytest.raises(NotFound):
        world.permissions.approve(CONSOLE_ACTOR, 10**9)


def test_only_operators_decide_and_only_unit_admins_apply(world: World) -> None:
    pending = world.permissions.apply(world.admin_actor, OTHER_MATTER)
    person = world.person("lina1990")
    world.delegation.grant(world.admin_actor, world.unit.id, TRAINING, person.id, "matter_manager")
    for outsider in (world.actor(person), world.admin_actor, Actor(None)):
        with pytest.raises(PermissionDenied):
            world.permissions.approve(outsider, pending.id)
        with pytest.raises(PermissionDenied):
            world.permissions.pending(outsider)
    for not_admin in (world.actor(person), Actor(None), CONSOLE_ACTOR):
        with pytest.raises(PermissionDenied):
            world.permissions.apply(not_admin, OTHER_MATTER)
    code = credit_codes(2)[1]
    world.units.register(UnitInput(code, "待审单位"), "pendingunit", UNIT_PASSWORD, Actor(None))
    waiting = world.accounts.find_by_username("pendingunit")
    assert waiting is not None
    with pytest.raises(PermissionDenied):
        world.permissions.apply(world.actor(waiting), TRAINING)


@pytest.mark.parametrize(
    "client_id", ["thirdparty", "no-such-client", "", "%", "\x00", "x" * 10_000, "training\n"]
)
def test_only_registered_matters_can_be_requested(world: World, client_id: str) -> None:
    with pytest.raises(InvalidInput):
        world.permissions.apply(world.admin_actor, client_id)


def test_hostile_notes_and_reasons_are_refused(world: World) -> None:
    with pytest.raises(InvalidInput):
        world.permissions.apply(world.admin_actor, OTHER_MATTER, "x" * 501)
    with pytest.raises(InvalidInput):
        world.permissions.apply(world.admin_actor, OTHER_MATTER, "伪造\r\n日志")
    pending = world.permissions.apply(world.admin_actor, OTHER_MATTER, "<script>alert(1)</script>")
    assert pending.note == "<script>alert(1)</script>", "stored as text; pages escape it"
    with pytest.raises(InvalidInput):
        world.permissions.reject(CONSOLE_ACTOR, pending.id, "\x00")


def test_the_database_keeps_one_open_request_per_unit_and_matter(world: World) -> None:
    with pytest.raises(IntegrityError), world.db.transaction() as session:
        session.add(
            MatterPermission(unit_id=world.unit.id, client_id=TRAINING, status="pending", requested_by="x")
        )
        session.flush()
