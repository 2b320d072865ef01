"""What a verified sign-in established about the person."""

from __future__ import annotations

from dataclasses import dataclass

from training_rp.oidc.tokens import Claims


@dataclass(frozen=True)
class VerifiedLogin:
    """What a verified callback established about the person (never logged as a whole)."""

    sub: str
    sid: str | None
    id_token: str
    claims: Claims

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
