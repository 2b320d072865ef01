"""``idp org``: units, their registrations and their requests for matters, for operators at the console.

Refusals exit non-zero with the error family's code (``idp.cli.friendly``): 2 bad input, 3 not found,
4 conflict.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from idp.config import load_settings
from idp.db import Database
from idp.orgs.actors import CONSOLE_ACTOR, OPERATOR_ROLE
from idp.orgs.models import UnitStatus, UnitType

F = TypeVar("F", bound=Callable[..., Any])


def _friendly(func: F) -> F:
    """``idp.cli.friendly``, looked up when the command runs (``idp.cli`` imports this module)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from idp.cli import friendly

        return friendly(func)(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _db() -> Database:
    return Database(load_settings().database_url)


@click.group("org")
def org() -> None:
    """Legal persons (法人/单位): units, registrations, matter permissions."""


@org.command("add")
@click.option("--credit-code", required=True, help="Unified social credit code (18 characters).")
@click.option("--name", required=True, help="Unit name.")
@click.option("--admin-username", required=True, help="Login name of the unit admin (单位管理员).")
@click.option("--admin-password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--type", "unit_type", type=click.Choice([t.value for t in UnitType]), default="other")
@click.option("--address", default="")
@click.option("--contact", default="", help="Contact person.")
@click.option("--contact-phone", default="")
@click.option("--contact-email", default="")
@_friendly
def org_add(**opts: str) -> None:
    """Add an active unit and its admin account."""
    from idp.orgs.services import UnitInput, UnitService

    unit = UnitService(_db()).add(
        UnitInput(
            credit_code=opts["credit_code"],
            name=opts["name"],
            unit_type=opts["unit_type"],
            address=opts["address"],
            contact_name=opts["contact"],
            contact_phone=opts["contact_phone"],
            contact_email=opts["contact_email"],
        ),
        opts["admin_username"],
        opts["admin_password"],
        CONSOLE_ACTOR,
    )
    click.echo(f"unit {unit.credit_code} {unit.name} added; its admin signs in on the 法人登录 tab")


@org.command("list")
@click.option("--status", type=click.Choice([s.value for s in UnitStatus]), default=None)
@click.option("--json", "as_json", is_flag=True)
@_friendly
def org_list(status: str | None, as_json: bool) -> None:
    """List units (newest first)."""
    from idp.orgs.services import UnitService

    rows = UnitService(_db()).units(UnitStatus(status) if status else None)
    if as_json:
        data = [
            {
                "credit_code": u.credit_code,
                "name": u.name,
                "type": u.unit_type,
                "status": u.status,
                "admin_username": login,
                "created_at": u.created_at.isoformat(),
            }
            for u, login in rows
        ]
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    for unit, login in rows:
        click.echo(f"{unit.credit_code}\t{unit.status}\t{login}\t{unit.name}")


@org.command("approve")
@click.argument("credit_code")
@_friendly
def org_approve(credit_code: str) -> None:
    """Approve a unit's registration: its admin may sign in from now on."""
    from idp.orgs.services import UnitService

    unit = UnitService(_db()).approve(credit_code, CONSOLE_ACTOR)
    click.echo(f"unit {unit.credit_code} approved")


@org.command("reject")
@click.argument("credit_code")
@click.option("--reason", required=True)
@_friendly
def org_reject(credit_code: str, reason: str) -> None:
    """Reject a pending unit registration."""
    from idp.orgs.services import UnitService

    unit = UnitService(_db()).reject(credit_code, reason, CONSOLE_ACTOR)
    click.echo(f"unit {unit.credit_code} rejected")


@org.command("requests")
@click.option("--json", "as_json", is_flag=True)
@_friendly
def org_requests(as_json: bool) -> None:
    """Pending requests of units for a matter permission (oldest first)."""
    from idp.orgs.permissions import PermissionService

    rows = PermissionService(_db()).pending(CONSOLE_ACTOR)
    if as_json:
        data = [
            {
                "id": p.id,
                "credit_code": p.credit_code,
                "unit": p.unit_name,
                "client_id": p.client_id,
                "matter": p.matter_name,
                "note": p.note,
                "requested_at": p.requested_at.isoformat(),
            }
            for p in rows
        ]
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    if not rows:
        click.echo("no pending requests")
    for p in rows:
        click.echo(f"{p.id}\t{p.requested_at:%Y-%m-%d %H:%M}\t{p.credit_code}\t{p.unit_name}\t{p.client_id}")


@org.group("permission")
def permission() -> None:
    """Decide a unit's request to handle a matter."""


@permission.command("approve")
@click.argument("request_id", type=click.IntRange(min=1))
@_friendly
def permission_approve(request_id: int) -> None:
    from idp.orgs.permissions import PermissionService

    view = PermissionService(_db()).approve(CONSOLE_ACTOR, request_id)
    click.echo(f"request {view.id} approved: {view.credit_code} may handle {view.client_id}")


@permission.command("reject")
@click.argument("request_id", type=click.IntRange(min=1))
@click.option("--reason", default="")
@_friendly
def permission_reject(request_id: int, reason: str) -> None:
    from idp.orgs.permissions import PermissionService

    view = PermissionService(_db()).reject(CONSOLE_ACTOR, request_id, reason)
    click.echo(f"request {view.id} rejected")


@permission.command("revoke")
@click.argument("request_id", type=click.IntRange(min=1))
@click.option("--reason", required=True)
@_friendly
def permission_revoke(request_id: int, reason: str) -> None:
    """Take an approved permission back; the unit's grants for the matter stop working at once."""
    from idp.orgs.permissions import PermissionService

    view = PermissionService(_db()).revoke(CONSOLE_ACTOR, request_id, reason)
    click.echo(f"permission {view.id} revoked")


@org.command("grant-operator")
@click.argument("username")
@_friendly
def org_grant_operator(username: str) -> None:
    """Give USERNAME the operator role: decides unit registrations and matter permissions on /org/operator."""
    from idp.accounts.roles import grant_role

    grant_role(_db(), username, OPERATOR_ROLE, actor="cli")
    click.echo(f"{username} is now an operator")
