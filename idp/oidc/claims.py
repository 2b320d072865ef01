"""Which claims each scope releases (OIDC Core §5.4, plus the platform's real-name scopes)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

STANDARD_SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    "profile": ("name", "preferred_username", "gender", "birthdate", "updated_at"),
    "email": ("email", "email_verified"),
    "phone": ("phone_number", "phone_number_verified"),
    "address": ("address",),
    "realname": ("realname_status", "verified_claims"),
    "idcard": ("id_number", "id_document_type"),
}
CLAIMS_SUPPORTED = ("sub", "iss", "auth_time", "acr", "amr", "sid", "nonce", "acting_for") + tuple(
    c for claims in STANDARD_SCOPE_CLAIMS.values() for c in claims
)


class ClaimSource(Protocol):
    """What the accounts domain supplies for a user, already filtered to what exists."""

    def __call__(self, user_id: str) -> dict[str, Any] | None: ...


def release(all_claims: dict[str, Any], scope: str, allow_idcard: bool) -> dict[str, Any]:
    """Keep the claims the granted scopes release. ``idcard`` only for clients allowed it."""
    scopes = set(scope.split())
    out: dict[str, Any] = {}
    for name, claim_names in STANDARD_SCOPE_CLAIMS.items():
        if name not in scopes or (name == "idcard" and not allow_idcard):
            continue
        for claim in claim_names:
            value = all_claims.get(claim)
            if value is not None and value != "":
                out[claim] = value
    return out


ClaimLoader = Callable[[str], dict[str, Any] | None]
