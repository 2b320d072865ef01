"""Which units a person may act for at a client: the read side of delegated roles.

The OpenID Connect side asks these questions at authorisation (the acting-for choice) and again at
every refresh, introspection and userinfo call, so every answer comes from the database at the
moment of asking: a revoked grant, a withdrawn permission or a closed unit stops counting at once.

A role is *effective* at a client (a matter) when all of these hold:

1. the person's account exists and is not disabled;
2. the unit is ``active``;
3. the unit holds an ``approved`` permission for the client;
4. for a natural person: a live (not revoked) grant of the role for that unit and client;
   for a legal account: it is the unit's own admin account, whose role is ``unit_admin``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, select
from sqlalchemy.orm import Session

from idp.accounts import N_
from idp.accounts.models import AccountType, User
from idp.db import Database
from idp.oidc.clients import CLIENT_ID_RE
from idp.oidc.models import OAuthClient
from idp.orgs.models import (
    MatterPermission,
    PermissionStatus,
    Role,
    RoleGrant,
    Unit,
    UnitStatus,
    is_row_id,
)

#: The platform's names of the three roles; the web layer translates them.
ROLE_LABELS = {
    Role.UNIT_ADMIN.value: N_("单位管理员"),
    Role.MATTER_MANAGER.value: N_("事项管理员"),
    Role.MATTER_HANDLER.value: N_("事项办理员"),
}


@dataclass(frozen=True)
class UnitRole:
    unit_id: str
    credit_code: str
    unit_name: str
    role: str  # "unit_admin" | "matter_manager" | "matter_handler"


@dataclass(frozen=True)
class PersonGrantView:
    unit_name: str
    credit_code: str
    matter_name: str  # the client's name
    client_id: str
    role: str
    role_label: str  # 单位管理员 / 事项管理员 / 事项办理员
    granted_at: datetime


def role_label(role: str) -> str:
    return ROLE_LABELS.get(role, role)


def _active_account(session: Session, user_id: str) -> User | None:
    user = session.get(User, user_id) if is_row_id(user_id) else None
    return None if user is None or user.disabled else user


def _natural_grants(user_id: str) -> Select[RoleGrant, Unit]:
    """Live grants of a natural person in active units whose permission for the matter stands."""
    return (
        select(RoleGrant, Unit)
        .join(Unit, Unit.id == RoleGrant.unit_id)
        .join(
            MatterPermission,
            and_(
                MatterPermission.unit_id == RoleGrant.unit_id,
                MatterPermission.client_id == RoleGrant.client_id,
                MatterPermission.status == PermissionStatus.APPROVED.value,
            ),
        )
        .where(
            RoleGrant.user_id == user_id,
            RoleGrant.revoked_at.is_(None),
            Unit.status == UnitStatus.ACTIVE.value,
        )
    )


def _admin_unit(session: Session, user: User) -> Unit | None:
    if user.account_type != AccountType.LEGAL.value:
        return None
    return session.scalar(
        select(Unit).where(Unit.admin_user_id == user.id, Unit.status == UnitStatus.ACTIVE.value)
    )


def _permission_approved(session: Session, unit_id: str, client_id: str) -> bool:
    found = session.scalar(
        select(MatterPermission.id).where(
            MatterPermission.unit_id == unit_id,
            MatterPermission.client_id == client_id,
            MatterPermission.status == PermissionStatus.APPROVED.value,
        )
    )
    return found is not None


def roles_for_client(db: Database, user_id: str, client_id: str) -> list[UnitRole]:
    """The person's effective roles usable at ``client_id``, ordered by unit name then role."""
    if not CLIENT_ID_RE.fullmatch(client_id):
        return []
    with db.transaction() as session:
        user = _active_account(session, user_id)
        if user is None:
            return []
        if user.account_type == AccountType.LEGAL.value:
            unit = _admin_unit(session, user)
            if unit is None or not _permission_approved(session, unit.id, client_id):
                return []
            return [UnitRole(unit.id, unit.credit_code, unit.name, Role.UNIT_ADMIN.value)]
        rows = session.execute(
            _natural_grants(user_id)
            .where(RoleGrant.client_id == client_id)
            .order_by(Unit.name, Unit.credit_code, RoleGrant.role)
        ).all()
        return [UnitRole(unit.id, unit.credit_code, unit.name, grant.role) for grant, unit in rows]


def role_still_granted(db: Database, user_id: str, unit_id: str, client_id: str, role: str) -> bool:
    """Whether ``role`` for ``unit_id`` at ``client_id`` is still effective for the person, now."""
    return any(r.unit_id == unit_id and r.role == role for r in roles_for_client(db, user_id, client_id))


def grants_of_person(db: Database, user_id: str) -> list[PersonGrantView]:
    """Every effective role of the person, for 我的信息 › 法人(单位)授权办理情况.

    For a legal account these are its unit's approved matters, each with the role ``unit_admin``.
    """
    with db.transaction() as session:
        user = _active_account(session, user_id)
        if user is None:
            return []
        if user.account_type == AccountType.LEGAL.value:
            unit = _admin_unit(session, user)
            if unit is None:
                return []
            permissions = session.execute(
                select(MatterPermission, OAuthClient)
                .join(OAuthClient, OAuthClient.client_id == MatterPermission.client_id)
                .where(
                    MatterPermission.unit_id == unit.id,
                    MatterPermission.status == PermissionStatus.APPROVED.value,
                )
                .order_by(OAuthClient.name)
            ).all()
            return [
                PersonGrantView(
                    unit_name=unit.name,
                    credit_code=unit.credit_code,
                    matter_name=client.name,
                    client_id=client.client_id,
                    role=Role.UNIT_ADMIN.value,
                    role_label=role_label(Role.UNIT_ADMIN.value),
                    granted_at=permission.decided_at or permission.requested_at,
                )
                for permission, client in permissions
            ]
        rows = session.execute(
            _natural_grants(user_id)
            .add_columns(OAuthClient)
            .join(OAuthClient, OAuthClient.client_id == RoleGrant.client_id)
            .order_by(Unit.name, OAuthClient.name, RoleGrant.role)
        ).all()
        return [
            PersonGrantView(
                unit_name=unit.name,
                credit_code=unit.credit_code,
                matter_name=client.name,
                client_id=client.client_id,
                role=grant.role,
                role_label=role_label(grant.role),
                granted_at=grant.granted_at,
            )
            for grant, unit, client in rows
        ]
