"""A unit's permission to handle a matter: the unit admin applies, the matter's operator decides.

States::

    pending ──approve──> approved ──revoke──> revoked
       └─────reject────> rejected

A unit has at most one open (pending or approved) request per matter; a rejected or revoked one
may be followed by a new request. Matters are registered clients that carry service-catalogue data
or are first-party ministry subsystems. Every request and decision is in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from idp.accounts import N_
from idp.audit.services import record
from idp.db import Database, utcnow
from idp.errors import Conflict, InvalidInput, NotFound
from idp.oidc.clients import CLIENT_ID_RE
from idp.oidc.models import OAuthClient
from idp.orgs.actors import Actor, admin_unit, require_operator
from idp.orgs.models import MatterPermission, PermissionStatus, Unit
from idp.orgs.services import clean_reason

#: How the platform names each state (the web layer translates).
STATUS_LABELS = {
    PermissionStatus.PENDING.value: N_("待审核"),
    PermissionStatus.APPROVED.value: N_("已批准"),
    PermissionStatus.REJECTED.value: N_("已驳回"),
    PermissionStatus.REVOKED.value: N_("已撤销"),
}

OPEN_STATES = (PermissionStatus.PENDING.value, PermissionStatus.APPROVED.value)


@dataclass(frozen=True)
class Matter:
    client_id: str
    name: str


@dataclass(frozen=True)
class PermissionView:
    id: int
    unit_name: str
    credit_code: str
    client_id: str
    matter_name: str
    status: str
    status_label: str
    note: str | None
    requested_at: datetime
    decided_at: datetime | None
    decision_reason: str | None


def _matter_clause() -> ColumnElement[bool]:
    return or_(OAuthClient.catalogue_json.is_not(None), OAuthClient.first_party.is_(True))


def _view(permission: MatterPermission, unit: Unit, client: OAuthClient) -> PermissionView:
    return PermissionView(
        id=permission.id,
        unit_name=unit.name,
        credit_code=unit.credit_code,
        client_id=client.client_id,
        matter_name=client.name,
        status=permission.status,
        status_label=STATUS_LABELS.get(permission.status, permission.status),
        note=permission.note,
        requested_at=permission.requested_at,
        decided_at=permission.decided_at,
        decision_reason=permission.decision_reason,
    )


def _with_names() -> Select[MatterPermission, Unit, OAuthClient]:
    return (
        select(MatterPermission, Unit, OAuthClient)
        .join(Unit, Unit.id == MatterPermission.unit_id)
        .join(OAuthClient, OAuthClient.client_id == MatterPermission.client_id)
    )


class PermissionService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def matters(self) -> list[Matter]:
        """Matters a unit may apply for, by name."""
        with self.db.transaction() as session:
            rows = session.scalars(select(OAuthClient).where(_matter_clause()).order_by(OAuthClient.name))
            return [Matter(c.client_id, c.name) for c in rows]

    def apply(self, actor: Actor, client_id: str, note: str = "") -> PermissionView:
        """The unit admin asks for the unit's permission to handle ``client_id``."""
        clean_note = clean_reason(note, required=False)
        try:
            with self.db.transaction() as session:
                unit = admin_unit(session, actor)
                client = (
                    session.scalar(
                        select(OAuthClient).where(OAuthClient.client_id == client_id, _matter_clause())
                    )
                    if CLIENT_ID_RE.fullmatch(client_id)
                    else None
                )
                if client is None:
                    raise InvalidInput(N_("请选择要申请的事项。"), "unknown matter")
                if self._open(session, unit.id, client.client_id) is not None:
                    raise Conflict(N_("该事项已申请或已获得办理权限。"), "open permission exists")
                permission = MatterPermission(
                    unit_id=unit.id,
                    client_id=client.client_id,
                    status=PermissionStatus.PENDING.value,
                    note=clean_note,
                    requested_by=actor.name,
                    requested_at=utcnow(),
                )
                session.add(permission)
                session.flush()
                record(
                    session,
                    event="org.permission_requested",
                    actor=actor.name,
                    ip=actor.ip,
                    request_id=actor.request_id,
                    target=unit.id,
                    permission=permission.id,
                    client_id=client.client_id,
                )
                return _view(permission, unit, client)
        except IntegrityError as exc:
            raise Conflict(N_("该事项已申请或已获得办理权限。"), "open permission exists (race)") from exc

    @staticmethod
    def _open(session: Session, unit_id: str, client_id: str) -> MatterPermission | None:
        return session.scalar(
            select(MatterPermission).where(
                MatterPermission.unit_id == unit_id,
                MatterPermission.client_id == client_id,
                MatterPermission.status.in_(OPEN_STATES),
            )
        )

    def of_unit(self, actor: Actor) -> list[PermissionView]:
        """The progress of the actor's unit's requests, newest first."""
        with self.db.transaction() as session:
            unit = admin_unit(session, actor)
            rows = session.execute(
                _with_names()
                .where(MatterPermission.unit_id == unit.id)
                .order_by(MatterPermission.requested_at.desc(), MatterPermission.id.desc())
            ).all()
            return [_view(p, u, c) for p, u, c in rows]

    def pending(self, actor: Actor) -> list[PermissionView]:
        """Requests waiting for an operator, oldest first."""
        with self.db.transaction() as session:
            require_operator(session, actor)
            rows = session.execute(
                _with_names()
                .where(MatterPermission.status == PermissionStatus.PENDING.value)
                .order_by(MatterPermission.requested_at, MatterPermission.id)
            ).all()
            return [_view(p, u, c) for p, u, c in rows]

    def approve(self, actor: Actor, permission_id: int) -> PermissionView:
        return self._decide(actor, permission_id, PermissionStatus.APPROVED, "")

    def reject(self, actor: Actor, permission_id: int, reason: str) -> PermissionView:
        return self._decide(actor, permission_id, PermissionStatus.REJECTED, reason)

    def revoke(self, actor: Actor, permission_id: int, reason: str) -> PermissionView:
        """Take an approved permission back: every grant under it stops working at once."""
        return self._decide(actor, permission_id, PermissionStatus.REVOKED, reason)

    def _decide(
        self, actor: Actor, permission_id: int, outcome: PermissionStatus, reason: str
    ) -> PermissionView:
        why = clean_reason(reason, required=False)
        # Only pending requests are decided; only approved permissions are revoked.
        revoking = outcome is PermissionStatus.REVOKED
        expected = PermissionStatus.APPROVED if revoking else PermissionStatus.PENDING
        with self.db.transaction() as session:
            require_operator(session, actor)
            permission = session.scalar(
                select(MatterPermission).where(MatterPermission.id == permission_id).with_for_update()
            )
            if permission is None:
                raise NotFound(N_("没有该事项权限申请。"), "no such permission request")
            if permission.status != expected.value:
                raise Conflict(N_("该申请当前状态不能执行此操作。"), f"permission is {permission.status}")
            permission.status = outcome.value
            permission.decided_by = actor.name
            permission.decided_at = utcnow()
            permission.decision_reason = why
            record(
                session,
                event=f"org.permission_{outcome.value}",
                actor=actor.name,
                ip=actor.ip,
                request_id=actor.request_id,
                target=permission.unit_id,
                permission=permission.id,
                client_id=permission.client_id,
                reason=why,
            )
            permission_row, unit, client = session.execute(
                _with_names().where(MatterPermission.id == permission.id)
            ).one()
            return _view(permission_row, unit, client)
