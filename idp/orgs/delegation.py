"""Granting and revoking a unit's matters to natural persons (事项管理员, 事项办理员).

Who may do what (the platform's three-role model):

============================  =======================================================
actor                         may grant / revoke
============================  =======================================================
unit admin (法人用户)          manager or handler, for any matter the unit holds
matter manager (事项管理员)    handler only, for the unit's matters they manage
matter handler (事项办理员)    nothing
============================  =======================================================

"Holds" and "manages" are checked inside the transaction that changes the grant, against the same
effective-role rules as :mod:`idp.orgs.grants`. A person has at most one live role per unit and
matter: the unit admin's new role replaces the old one (both steps audited); a manager cannot
touch a manager's grant. Revocation sets ``revoked_at``, and :func:`idp.orgs.grants.role_still_granted`
reads the database on every call, so it takes effect at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from idp.accounts import N_
from idp.accounts.models import AccountType, User
from idp.audit.services import record
from idp.db import Database, utcnow
from idp.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from idp.oidc.clients import CLIENT_ID_RE
from idp.oidc.models import OAuthClient
from idp.orgs.actors import Actor
from idp.orgs.grants import role_label
from idp.orgs.models import (
    GRANTABLE_ROLES,
    MatterPermission,
    PermissionStatus,
    Role,
    RoleGrant,
    Unit,
    UnitStatus,
    is_row_id,
)
from idp.orgs.search import mask_login, mask_name

_NOT_HELD = N_("本单位尚未获得该事项的办理权限。")
_NO_GRANT = N_("没有该授权记录。")
_HANDLER_ONLY = N_("事项管理员只能授予事项办理员角色。")


@dataclass(frozen=True)
class Authority:
    """What the actor may grant for one unit and matter."""

    unit: Unit
    client: OAuthClient
    #: ``unit_admin`` or ``matter_manager``.
    as_role: str

    def may_grant(self, role: str) -> bool:
        if self.as_role == Role.UNIT_ADMIN.value:
            return role in GRANTABLE_ROLES
        return role == Role.MATTER_HANDLER.value


@dataclass(frozen=True)
class GrantView:
    id: int
    unit_id: str
    unit_name: str
    client_id: str
    matter_name: str
    role: str
    role_label: str
    login_masked: str
    name_masked: str
    granted_at: datetime


@dataclass(frozen=True)
class ManagedMatter:
    unit_id: str
    unit_name: str
    credit_code: str
    client_id: str
    matter_name: str


def _held(session: Session, unit_id: str, client_id: str) -> OAuthClient | None:
    """The client when the unit is active and holds an approved permission for it."""
    return session.scalar(
        select(OAuthClient)
        .join(
            MatterPermission,
            and_(
                MatterPermission.client_id == OAuthClient.client_id,
                MatterPermission.unit_id == unit_id,
                MatterPermission.status == PermissionStatus.APPROVED.value,
            ),
        )
        .join(Unit, and_(Unit.id == unit_id, Unit.status == UnitStatus.ACTIVE.value))
        .where(OAuthClient.client_id == client_id)
    )


def authority(session: Session, actor: Actor, unit_id: str, client_id: str) -> Authority:
    """The actor's standing for ``unit_id`` and ``client_id``; PermissionDenied when none."""
    user = session.get(User, actor.user_id) if actor.user_id else None
    if user is None or user.disabled:
        raise PermissionDenied(N_("您无权管理该单位的事项授权。"), "no account")
    if not is_row_id(unit_id) or not CLIENT_ID_RE.fullmatch(client_id):
        raise PermissionDenied(_NOT_HELD, "malformed unit or client id")
    unit = session.get(Unit, unit_id)
    client = _held(session, unit_id, client_id)
    if unit is None or client is None:
        raise PermissionDenied(_NOT_HELD, "unit does not hold the matter")
    if user.account_type == AccountType.LEGAL.value:
        if unit.admin_user_id != user.id:
            raise PermissionDenied(N_("您无权管理该单位的事项授权。"), "another unit's admin")
        return Authority(unit, client, Role.UNIT_ADMIN.value)
    manages = session.scalar(
        select(RoleGrant.id).where(
            RoleGrant.unit_id == unit.id,
            RoleGrant.client_id == client.client_id,
            RoleGrant.user_id == user.id,
            RoleGrant.role == Role.MATTER_MANAGER.value,
            RoleGrant.revoked_at.is_(None),
        )
    )
    if manages is None:
        raise PermissionDenied(N_("您无权管理该单位的事项授权。"), "not a manager of this matter")
    return Authority(unit, client, Role.MATTER_MANAGER.value)


class DelegationService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def grant(self, actor: Actor, unit_id: str, client_id: str, user_id: str, role: str) -> GrantView:
        """Give ``user_id`` ``role`` for the unit's matter ``client_id``."""
        if role not in {r.value for r in GRANTABLE_ROLES}:
            raise InvalidInput(N_("请选择授权角色。"), "unknown role")
        try:
            with self.db.transaction() as session:
                power = authority(session, actor, unit_id, client_id)
                if not power.may_grant(role):
                    raise PermissionDenied(_HANDLER_ONLY, "manager granting manager")
                person = session.get(User, user_id) if is_row_id(user_id) else None
                if person is None or person.disabled or person.account_type != AccountType.NATURAL.value:
                    raise NotFound(N_("没有找到该用户。"), "grantee not a natural person")
                current = self._live(session, power.unit.id, power.client.client_id, person.id)
                if current is not None:
                    if current.role == role:
                        raise Conflict(N_("该用户已拥有此授权。"), "same role already granted")
                    if not power.may_grant(current.role):
                        raise PermissionDenied(
                            N_("该用户是事项管理员,只有单位管理员可以变更其授权。"), "manager's grant"
                        )
                    self._end(session, current, actor, replaced=True)
                    # The partial unique index sees the old row as live until it is written.
                    session.flush()
                grant = RoleGrant(
                    unit_id=power.unit.id,
                    client_id=power.client.client_id,
                    user_id=person.id,
                    role=role,
                    granted_by=actor.name,
                    granted_at=utcnow(),
                )
                session.add(grant)
                session.flush()
                record(
                    session,
                    event="org.role_granted",
                    actor=actor.name,
                    ip=actor.ip,
                    request_id=actor.request_id,
                    target=person.id,
                    grant=grant.id,
                    unit=power.unit.id,
                    client_id=power.client.client_id,
                    role=role,
                    as_role=power.as_role,
                )
                return self._view(grant, power.unit, power.client, person)
        except IntegrityError as exc:
            raise Conflict(N_("该用户已拥有此事项的授权。"), "live grant exists (race)") from exc

    def revoke(self, actor: Actor, grant_id: int) -> None:
        """End a live grant; unknown and foreign grants are reported alike (NotFound)."""
        with self.db.transaction() as session:
            grant = session.scalar(
                select(RoleGrant)
                .where(RoleGrant.id == grant_id, RoleGrant.revoked_at.is_(None))
                .with_for_update()
            )
            if grant is None:
                raise NotFound(_NO_GRANT, "no live grant")
            try:
                power = authority(session, actor, grant.unit_id, grant.client_id)
            except PermissionDenied:
                # Say nothing about other units' grants.
                raise NotFound(_NO_GRANT, "grant outside the actor's authority") from None
            if not power.may_grant(grant.role):
                raise PermissionDenied(N_("事项管理员只能撤销事项办理员的授权。"), "manager revoking manager")
            self._end(session, grant, actor, replaced=False)

    @staticmethod
    def _live(session: Session, unit_id: str, client_id: str, user_id: str) -> RoleGrant | None:
        return session.scalar(
            select(RoleGrant)
            .where(
                RoleGrant.unit_id == unit_id,
                RoleGrant.client_id == client_id,
                RoleGrant.user_id == user_id,
                RoleGrant.revoked_at.is_(None),
            )
            .with_for_update()
        )

    @staticmethod
    def _end(session: Session, grant: RoleGrant, actor: Actor, *, replaced: bool) -> None:
        grant.revoked_at = utcnow()
        grant.revoked_by = actor.name
        record(
            session,
            event="org.role_revoked",
            actor=actor.name,
            ip=actor.ip,
            request_id=actor.request_id,
            target=grant.user_id,
            grant=grant.id,
            unit=grant.unit_id,
            client_id=grant.client_id,
            role=grant.role,
            replaced=replaced,
        )

    # --- reading ---------------------------------------------------------------------------------

    def of_unit(self, unit_id: str, client_ids: list[str] | None = None) -> list[GrantView]:
        """Live grants of a unit (optionally only for some matters), by matter, role and time."""
        with self.db.transaction() as session:
            query = (
                select(RoleGrant, Unit, OAuthClient, User)
                .join(Unit, Unit.id == RoleGrant.unit_id)
                .join(OAuthClient, OAuthClient.client_id == RoleGrant.client_id)
                .join(User, User.id == RoleGrant.user_id)
                .where(RoleGrant.unit_id == unit_id, RoleGrant.revoked_at.is_(None))
                .order_by(OAuthClient.name, RoleGrant.role, RoleGrant.granted_at, RoleGrant.id)
            )
            if client_ids is not None:
                query = query.where(RoleGrant.client_id.in_(client_ids))
            return [self._view(g, u, c, p) for g, u, c, p in session.execute(query).all()]

    def managed_by(self, actor: Actor) -> list[ManagedMatter]:
        """The units' matters the actor manages as 事项管理员 and may delegate now."""
        if actor.user_id is None:
            return []
        with self.db.transaction() as session:
            rows = session.execute(
                select(Unit, OAuthClient)
                .join(RoleGrant, RoleGrant.unit_id == Unit.id)
                .join(OAuthClient, OAuthClient.client_id == RoleGrant.client_id)
                .join(
                    MatterPermission,
                    and_(
                        MatterPermission.unit_id == Unit.id,
                        MatterPermission.client_id == RoleGrant.client_id,
                        MatterPermission.status == PermissionStatus.APPROVED.value,
                    ),
                )
                .join(User, User.id == RoleGrant.user_id)
                .where(
                    RoleGrant.user_id == actor.user_id,
                    RoleGrant.role == Role.MATTER_MANAGER.value,
                    RoleGrant.revoked_at.is_(None),
                    Unit.status == UnitStatus.ACTIVE.value,
                    User.disabled.is_(False),
                )
                .order_by(Unit.name, OAuthClient.name)
            ).all()
            return [
                ManagedMatter(unit.id, unit.name, unit.credit_code, client.client_id, client.name)
                for unit, client in rows
            ]

    def held_matters(self, unit_id: str) -> list[tuple[str, str]]:
        """(client_id, name) of the matters the unit holds an approved permission for."""
        with self.db.transaction() as session:
            rows = session.execute(
                select(OAuthClient.client_id, OAuthClient.name)
                .join(MatterPermission, MatterPermission.client_id == OAuthClient.client_id)
                .where(
                    MatterPermission.unit_id == unit_id,
                    MatterPermission.status == PermissionStatus.APPROVED.value,
                )
                .order_by(OAuthClient.name)
            ).all()
            return [(client_id, name) for client_id, name in rows]

    @staticmethod
    def _view(grant: RoleGrant, unit: Unit, client: OAuthClient, person: User) -> GrantView:
        return GrantView(
            id=grant.id,
            unit_id=unit.id,
            unit_name=unit.name,
            client_id=client.client_id,
            matter_name=client.name,
            role=grant.role,
            role_label=role_label(grant.role),
            login_masked=mask_login(person.username),
            name_masked=mask_name(person.name),
            granted_at=grant.granted_at,
        )
