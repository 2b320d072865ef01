"""Server-side browser sessions: the cookie holds only a random token, the row holds the rest.

Rows are keyed by the SHA-256 of the token, so a copy of the table does not yield live cookies.
A signed-in session carries ``sub`` and ``sid`` in columns, which lets a back-channel logout token
end exactly the sessions it names, and lets an account marked 无效 be signed out at once.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, update
from sqlalchemy.exc import IntegrityError

from training_rp.db import Database, utcnow
from training_rp.models import RpSession, SeenLogoutToken

#: How stale ``last_seen_at`` may get before a request writes it again (fewer writes per click).
TOUCH_AFTER = timedelta(seconds=60)


@dataclass(frozen=True)
class Loaded:
    data: dict[str, Any]
    last_seen_at: datetime


@dataclass(frozen=True)
class TokenGrant:
    """The IdP's tokens of a session as stored: the refresh token sealed, the access token's times."""

    key_id: str | None
    sealed_refresh_token: bytes | None
    obtained_at: datetime
    access_expires_at: datetime


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


class SessionStore:
    def __init__(self, db: Database, idle: int, lifetime: int, anonymous_ttl: int) -> None:
        self.db = db
        self.idle = timedelta(seconds=idle)
        self.lifetime = timedelta(seconds=lifetime)
        self.anonymous_ttl = timedelta(seconds=anonymous_ttl)

    def load(self, token: str) -> Loaded | None:
        """The session's data, or None when unknown, expired or idle for too long (then removed)."""
        if not token or len(token) > 100:
            return None
        key, now = token_hash(token), utcnow()
        with self.db.transaction() as tx:
            row = tx.get(RpSession, key)
            if row is None:
                return None
            idle_out = row.sub is not None and row.last_seen_at + self.idle < now
            if row.expires_at < now or idle_out:
                tx.delete(row)
                return None
            try:
                data = json.loads(row.data)
            except ValueError:
                data = None
            if not isinstance(data, dict):
                tx.delete(row)
                return None
            return Loaded(data=data, last_seen_at=row.last_seen_at)

    def save(self, token: str | None, data: Mapping[str, Any], grant: TokenGrant | None = None) -> str:
        """Write ``data`` under ``token`` (a new token when None); returns the token.

        ``grant`` is given once, at sign-in; afterwards only the refresh service writes those columns.
        """
        token = token or new_token()
        key, now = token_hash(token), utcnow()
        signed_in = isinstance(data.get("sub"), str)
        with self.db.transaction() as tx:
            row = tx.get(RpSession, key)
            if row is None:
                row = RpSession(id_hash=key, created_at=now)
                tx.add(row)
            row.data = json.dumps(dict(data), separators=(",", ":"))
            row.last_seen_at = now
            if signed_in:
                row.account_id, row.sub, row.sid = data.get("account_id"), data["sub"], data.get("sid")
                # The absolute lifetime runs from the sign-in, not from the last save.
                auth_time = datetime.fromtimestamp(
                    float(data.get("auth_time", now.timestamp())), tz=now.tzinfo
                )
                row.expires_at = auth_time + self.lifetime
                if grant is not None:
                    row.refresh_key_id = grant.key_id
                    row.refresh_token_sealed = grant.sealed_refresh_token
                    row.tokens_obtained_at = grant.obtained_at
                    row.access_expires_at = grant.access_expires_at
                    row.refresh_blocked_until = None
            else:
                row.account_id, row.sub, row.sid = None, None, None
                row.expires_at = now + self.anonymous_ttl
                row.refresh_key_id, row.refresh_token_sealed = None, None
        return token

    def touch(self, token: str) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                update(RpSession).where(RpSession.id_hash == token_hash(token)).values(last_seen_at=utcnow())
            )

    def delete(self, token: str) -> None:
        with self.db.transaction() as tx:
            tx.execute(delete(RpSession).where(RpSession.id_hash == token_hash(token)))

    def end_for_logout(self, sub: str | None, sid: str | None) -> int:
        """End the sessions a logout token names (BCL 1.0, 2.7): by ``sid`` (and ``sub``), else by ``sub``."""
        query = delete(RpSession)
        if sid is not None:
            query = query.where(RpSession.sid == sid)
            if sub is not None:
                query = query.where(RpSession.sub == sub)
        elif sub is not None:
            query = query.where(RpSession.sub == sub)
        else:
            return 0
        with self.db.transaction() as tx:
            return int(tx.execute(query).rowcount)  # type: ignore[attr-defined]

    def remember_logout_token(self, jti_hash: str, keep: timedelta) -> bool:
        """Record a logout token's jti; False when it was already seen (a replay)."""
        now = utcnow()
        try:
            with self.db.transaction() as tx:
                if tx.get(SeenLogoutToken, jti_hash) is not None:
                    return False
                tx.add(SeenLogoutToken(jti_hash=jti_hash, expires_at=now + keep))
        except IntegrityError:
            return False  # the same token arrived twice at once: the other request took it
        return True

    def purge_expired(self) -> int:
        now = utcnow()
        with self.db.transaction() as tx:
            idle_cutoff = now - self.idle
            gone = tx.execute(
                delete(RpSession).where(
                    or_(
                        RpSession.expires_at < now,
                        (RpSession.sub.is_not(None)) & (RpSession.last_seen_at < idle_cutoff),
                    )
                )
            ).rowcount  # type: ignore[attr-defined]
            tx.execute(delete(SeenLogoutToken).where(SeenLogoutToken.expires_at < now))
        return int(gone)
