"""Who performs an organisation action, and the checks of who may.

Web requests act as a signed-in account (``user_id``) or, when registering a unit, as an anonymous
visitor; the ``idp`` command acts as the operator at the console (:data:`CONSOLE_ACTOR`), who
already holds the database credentials and so every right.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from idp.accounts import N_
from idp.accounts.models import AccountType, User
from idp.errors import PermissionDenied
from idp.orgs.models import Role, RoleGrant, Unit, UnitStatus

#: Platform role of the people who decide unit registrations and matter-permission requests.
OPERATOR_ROLE = "operator"
CONSOLE = "cli"
ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class Actor:
    #: The signed-in account; None for an anonymous visitor or the console.
    user_id: str | None
    ip: str | None = None
    request_id: str | None = None
    #: The operator at the ``idp`` console; never set by a web request.
    console: bool = False

    @property
    def name(self) -> str:
        """The audit log's ``actor``."""
        if self.user_id:
            return self.user_id
        return CONSOLE if self.console else ANONYMOUS


CONSOLE_ACTOR = Actor(user_id=None, console=True)


def require_operator(session: Session, actor: Actor) -> None:
    if actor.console:
        return
    user = session.get(User, actor.user_id) if actor.user_id else None
    if user is None or user.disabled or not user.has_role(OPERATOR_ROLE):
        raise PermissionDenied(N_("只有平台运营人员可以执行此操作。"), "operator role required")


def admin_unit(session: Session, actor: Actor, *, lock: bool = False) -> Unit:
    """The active unit whose admin account ``actor`` is, or PermissionDenied."""
    if actor.user_id is None:
        raise PermissionDenied(N_("只有单位管理员可以执行此操作。"), "unit admin required")
    user = session.get(User, actor.user_id)
    if user is None or user.disabled or user.account_type != AccountType.LEGAL.value:
        raise PermissionDenied(N_("只有单位管理员可以执行此操作。"), "not a legal account")
    query = select(Unit).where(Unit.admin_user_id == user.id, Unit.status == UnitStatus.ACTIVE.value)
    unit = session.scalar(query.with_for_update() if lock else query)
    if unit is None:
        raise PermissionDenied(N_("单位尚未通过审核,暂不能使用此功能。"), "unit not active")
    return unit


def may_delegate(session: Session, actor: Actor) -> None:
    """PermissionDenied unless the actor is an active unit's admin or manages one of its matters.

    Only they may look people up, and only to delegate a matter to them.
    """
    user = session.get(User, actor.user_id) if actor.user_id else None
    if user is not None and not user.disabled and user.account_type == AccountType.LEGAL.value:
        admin_unit(session, actor)
        return
    if user is not None and not user.disabled:
        manages = session.scalar(
            select(RoleGrant.id)
            .join(Unit, and_(Unit.id == RoleGrant.unit_id, Unit.status == UnitStatus.ACTIVE.value))
            .where(
                RoleGrant.user_id == user.id,
                RoleGrant.role == Role.MATTER_MANAGER.value,
                RoleGrant.revoked_at.is_(None),
            )
            .limit(1)
        )
        if manages is not None:
            return
    raise PermissionDenied(N_("只有单位管理员和事项管理员可以检索用户。"), "search not allowed")
