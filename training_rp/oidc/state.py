"""Single-use storage of started sign-ins, used as Authlib's ``cache``.

Authlib keeps a marker in the browser session and the data (PKCE verifier, nonce, redirect URI)
here. :meth:`LoginStateCache.get` *consumes* the entry in one transaction, so a ``state`` works
exactly once even when the same callback URL arrives twice at the same moment, or with a copied
session cookie (RFC 9700, section 4.7: replayed authorization responses).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete

from training_rp.db import Database, utcnow
from training_rp.models import LoginState

_MAX_KEY = 200


class LoginStateCache:
    def __init__(self, db: Database) -> None:
        self.db = db

    def set(self, key: str, value: str, expires_in: int) -> None:
        with self.db.transaction() as tx:
            tx.add(
                LoginState(
                    key=key[:_MAX_KEY], value=value, expires_at=utcnow() + timedelta(seconds=expires_in)
                )
            )

    def get(self, key: str) -> str | None:
        """The value, removed in the same transaction; None when absent, expired or taken by a racer."""
        if len(key) > _MAX_KEY:
            return None
        with self.db.transaction() as tx:
            # One DELETE ... RETURNING statement: of two racing callbacks only one gets the row.
            row = tx.execute(
                delete(LoginState)
                .where(LoginState.key == key)
                .returning(LoginState.value, LoginState.expires_at)
            ).first()
        if row is None or row.expires_at < utcnow():
            return None
        return str(row.value)

    def delete(self, key: str) -> None:
        with self.db.transaction() as tx:
            tx.execute(delete(LoginState).where(LoginState.key == key[:_MAX_KEY]))

    def purge_expired(self) -> int:
        with self.db.transaction() as tx:
            result = tx.execute(delete(LoginState).where(LoginState.expires_at < utcnow()))
            return int(result.rowcount)  # type: ignore[attr-defined]
