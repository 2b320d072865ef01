"""Acting for a unit: the person's choice at sign-in, carried into every token of the grant.

The ``acting_for`` claim names who acts for whom, in the spirit of the OpenID Connect Authority
Claims Extension: the unit (unified social credit code and name) and the person's role for the
matter. It is re-checked against the live grants at every refresh, introspection and userinfo
call, so a revoked grant stops being asserted at once.
"""

from __future__ import annotations

from typing import Any

from idp.db import Database
from idp.orgs.grants import UnitRole, role_still_granted, roles_for_client

ROLE_NAMES = {
    "unit_admin": "单位管理员",
    "matter_manager": "事项管理员",
    "matter_handler": "事项办理员",
}
CLAIM = "acting_for"


def choices(db: Database, user_id: str, client_id: str) -> list[UnitRole]:
    return roles_for_client(db, user_id, client_id)


def claim_of(role: UnitRole) -> dict[str, Any]:
    """The public claim; ``unit_id`` stays internal to the IdP."""
    return {
        "type": "legal_person",
        "credit_code": role.credit_code,
        "name": role.unit_name,
        "role": role.role,
        "role_name": ROLE_NAMES.get(role.role, role.role),
    }


def context_of(role: UnitRole) -> dict[str, Any]:
    """What the token family remembers: the claim plus the ids needed to re-check it."""
    return {"unit_id": role.unit_id, "role": role.role, "claim": claim_of(role)}


def still_valid(db: Database, user_id: str | None, client_id: str, context: dict[str, Any] | None) -> bool:
    if not context:
        return True
    if user_id is None:
        return False
    return role_still_granted(db, user_id, str(context["unit_id"]), client_id, str(context["role"]))
