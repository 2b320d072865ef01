"""What a verified sign-in established about the person, and for whom they act."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from training_rp.errors import N_, LoginRejected
from training_rp.oidc.tokens import Claims

#: The ``acting_for`` claim: a person acting for a legal person (法人/单位) with a role for this matter.
ACTING_FOR = "acting_for"
#: The platform's three roles, with the names this app shows (translated where shown).
UNIT_ROLES = {
    "unit_admin": N_("单位管理员"),
    "matter_manager": N_("事项管理员"),
    "matter_handler": N_("事项办理员"),
}
_MAX_TEXT = 200


@dataclass(frozen=True)
class ActingFor:
    """The unit a person chose to act for at the IdP, and their role for this matter."""

    credit_code: str
    name: str
    role: str

    @property
    def role_name(self) -> str:
        return UNIT_ROLES[self.role]

    def as_data(self) -> dict[str, str]:
        return {"credit_code": self.credit_code, "name": self.name, "role": self.role}

    @classmethod
    def from_data(cls, data: Any) -> ActingFor | None:
        """Read back :meth:`as_data` from the session; anything else is no unit."""
        if not isinstance(data, Mapping):
            return None
        try:
            return acting_for_of({ACTING_FOR: {"type": "legal_person", **data}})
        except LoginRejected:
            return None


def acting_for_of(claims: Mapping[str, Any]) -> ActingFor | None:
    """The unit of an ``acting_for`` claim, None without one; a malformed claim is refused.

    A claim this app cannot read is never taken for "acting as oneself": the person would then
    enter with less context than the IdP asserted, and the mismatch would go unnoticed.
    """
    if ACTING_FOR not in claims:
        return None
    value = claims[ACTING_FOR]
    if not isinstance(value, Mapping) or value.get("type") != "legal_person":
        raise LoginRejected("acting_for", "acting_for is not a legal_person object")
    code, name, role = value.get("credit_code"), value.get("name"), value.get("role")
    if not isinstance(code, str) or len(code) != 18 or not code.isalnum() or not code.isascii():
        raise LoginRejected("acting_for", "acting_for credit_code is not 18 letters or digits")
    if not isinstance(name, str) or not name.strip() or len(name) > _MAX_TEXT:
        raise LoginRejected("acting_for", "acting_for name missing or too long")
    if role not in UNIT_ROLES:
        raise LoginRejected("acting_for", "acting_for role unknown")
    return ActingFor(credit_code=code, name=name, role=str(role))


@dataclass(frozen=True)
class Refreshed:
    """What a refresh gave: the verified claims of the new ID token and the tokens to keep."""

    claims: Claims
    #: None when the IdP did not rotate the refresh token: the old one stays valid (RFC 6749, 6).
    refresh_token: str | None
    expires_in: int | None


@dataclass(frozen=True)
class VerifiedLogin:
    """What a verified callback established about the person (never logged as a whole)."""

    sub: str
    sid: str | None
    id_token: str
    claims: Claims
    #: The nonce the sign-in was started with, for comparing refreshed ID tokens (OIDC Core 12.2).
    nonce: str = ""
    #: None when the IdP issued no refresh token (a client without the refresh_token grant).
    refresh_token: str | None = None
    #: Lifetime of the access token in seconds, from the token response.
    expires_in: int | None = None
    #: The unit the person chose to act for at the IdP; None when acting as themselves.
    acting_for: ActingFor | None = None

    @property
    def realname_status(self) -> str | None:
        value = self.claims.get("realname_status")
        return value if isinstance(value, str) else None

    @property
    def id_number(self) -> str | None:
        value = self.claims.get("id_number")
        return value if isinstance(value, str) else None

    @property
    def name(self) -> str | None:
        value = self.claims.get("name")
        return value if isinstance(value, str) else None

    @property
    def auth_time(self) -> int | None:
        value = self.claims.get("auth_time")
        return value if isinstance(value, int) and not isinstance(value, bool) else None
