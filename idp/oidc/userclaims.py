"""Builds every claim the IdP knows about a person; scopes then decide what is released."""

from __future__ import annotations

from typing import Any

from idp.accounts.models import User
from idp.config import Settings
from idp.db import Database

#: Real-name statuses that mean a person's identity was proven (automatically or by review).
PROVEN_STATUSES = ("verified", "reviewed")


class ClaimLoader:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    def __call__(self, user_id: str) -> dict[str, Any] | None:
        with self.db.transaction() as session:
            user = session.get(User, user_id)
            if user is None or user.disabled:
                return None
            return self.claims_of(user)

    def claims_of(self, user: User) -> dict[str, Any]:
        claims: dict[str, Any] = {
            "name": user.name,
            "preferred_username": user.username,
            "email": user.email,
            "email_verified": bool(user.email_verified) if user.email else None,
            "phone_number": user.phone_number,
            "phone_number_verified": bool(user.phone_number_verified) if user.phone_number else None,
            "updated_at": int(user.updated_at.timestamp()) if user.updated_at else None,
            "realname_status": user.realname_status,
        }
        return claims
