"""The IdP's tokens behind a signed-in session: kept at sign-in, refreshed when they get old.

A refresh asks the IdP again whether it still stands behind the sign-in, and for whom the person
acts. It runs when the access token is older than ``RP_REFRESH_AFTER`` (or has expired) on the
next page load, or at once when the person asks for it. Its outcome decides the session's fate:

* ``refreshed``: the new tokens are kept, the session goes on;
* ``withdrawn``: the IdP answered ``invalid_grant`` (RFC 6749, 5.2), or no longer asserts the unit
  the person chose at sign-in: the session must end;
* ``rejected``: the answer failed verification (OIDC Core 12.2 and every sign-in check): the
  session must end, because nothing shows any more who is behind it;
* ``unavailable``: the IdP could not be reached: the session goes on unchanged and the refresh is
  tried again after a short pause, so a slow IdP does not slow down every page.

Refresh tokens rotate at the IdP, and presenting a used one revokes the whole grant (RFC 9700,
4.14.2). So exactly one request refreshes at a time: a conditional UPDATE takes a lease on the
session row; a request that does not get it simply goes on with the current tokens.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from sqlalchemy import or_, select, update

from training_rp.crypto import RefreshTokenCipher, UndecryptableData
from training_rp.db import Database, utcnow
from training_rp.errors import GrantRefused, LoginRejected, ProviderUnavailable
from training_rp.models import RpSession
from training_rp.oidc.identity import ActingFor, Refreshed, VerifiedLogin, acting_for_of
from training_rp.oidc.tokens import OriginalSignIn
from training_rp.services.sessions import TokenGrant, token_hash

log = logging.getLogger(__name__)

#: Pause after the IdP could not be reached, before the next page load tries again.
RETRY_PAUSE = timedelta(seconds=30)
#: Access-token lifetime assumed when the token response gives no ``expires_in``.
DEFAULT_ACCESS_LIFETIME = 300


class TokenRefresher(Protocol):
    """The IdP's token endpoint as this service needs it (``training_rp.oidc.client.Provider``)."""

    def refresh(self, refresh_token: str, original: OriginalSignIn) -> Refreshed: ...


class RefreshOutcome(StrEnum):
    NOT_DUE = "not_due"
    #: The sign-in gave no refresh token (a client without the refresh_token grant).
    NO_GRANT = "no_grant"
    #: Another request of the same session is refreshing, or the IdP failed a moment ago.
    BUSY = "busy"
    REFRESHED = "refreshed"
    UNAVAILABLE = "unavailable"
    WITHDRAWN = "withdrawn"
    REJECTED = "rejected"

    @property
    def ends_session(self) -> bool:
        return self in (RefreshOutcome.WITHDRAWN, RefreshOutcome.REJECTED)


@dataclass(frozen=True)
class SignedInSession:
    """What a session knows of its sign-in: the original ID token's claims and the chosen unit."""

    session_token: str
    original: OriginalSignIn
    acting_for: ActingFor | None


class GrantService:
    def __init__(
        self,
        db: Database,
        cipher: RefreshTokenCipher,
        refresher: TokenRefresher,
        refresh_after: int,
        clock_skew: int,
        lease: int,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.cipher = cipher
        self.refresher = refresher
        self.refresh_after = timedelta(seconds=refresh_after)
        self.clock_skew = timedelta(seconds=clock_skew)
        self.lease = timedelta(seconds=lease)
        self.now = now

    def at_sign_in(self, login: VerifiedLogin) -> TokenGrant:
        """The tokens of a sign-in as the session keeps them: the refresh token sealed, never plain."""
        now = self.now()
        key_id, sealed = (
            self.cipher.seal(login.refresh_token, login.sub) if login.refresh_token else (None, None)
        )
        lifetime = timedelta(seconds=login.expires_in or DEFAULT_ACCESS_LIFETIME)
        return TokenGrant(key_id, sealed, obtained_at=now, access_expires_at=now + lifetime)

    def refresh(self, session: SignedInSession, force: bool = False) -> RefreshOutcome:
        """Refresh the session's tokens when due (or ``force``); see the module text for outcomes."""
        key = token_hash(session.session_token)
        claimed = self._claim(key, session.original.sub, force)
        if isinstance(claimed, RefreshOutcome):
            return claimed
        refreshed: Refreshed | None = None
        try:
            refresh_token = self.cipher.open(*claimed, session.original.sub)
            refreshed = self.refresher.refresh(refresh_token, session.original)
            outcome = self._judge(refreshed, session.acting_for)
        except GrantRefused as exc:
            log.info("refresh: %s", exc.detail)
            outcome = RefreshOutcome.WITHDRAWN
        except (LoginRejected, UndecryptableData) as exc:
            reason = exc.reason if isinstance(exc, LoginRejected) else "undecryptable"
            log.warning("refresh rejected: reason=%s detail=%s", reason, exc.detail)
            outcome = RefreshOutcome.REJECTED
        except ProviderUnavailable as exc:
            log.warning("refresh postponed: %s", exc.detail)
            self._pause(key)
            return RefreshOutcome.UNAVAILABLE
        if outcome is RefreshOutcome.REFRESHED and refreshed is not None:
            self._keep(key, session.original.sub, refreshed)
        else:
            self._forget(key)
        log.info("refresh: outcome=%s unit=%s", outcome.value, "yes" if session.acting_for else "no")
        return outcome

    # --- rules ---------------------------------------------------------------------------------

    @staticmethod
    def _judge(refreshed: Refreshed, chosen: ActingFor | None) -> RefreshOutcome:
        now_acting = acting_for_of(refreshed.claims)
        if chosen is not None and now_acting != chosen:
            # The IdP no longer asserts the unit and role chosen at sign-in: that context is over.
            return RefreshOutcome.WITHDRAWN
        if chosen is None and now_acting is not None:
            # A unit the person never chose for this session: not ours to accept silently.
            log.warning("refresh rejected: reason=acting_for detail=a unit appeared on a personal session")
            return RefreshOutcome.REJECTED
        return RefreshOutcome.REFRESHED

    # --- the session row -----------------------------------------------------------------------

    def _claim(self, key: str, sub: str, force: bool) -> tuple[str, bytes] | RefreshOutcome:
        """Take the refresh lease when a refresh is due; otherwise say why not."""
        now = self.now()
        with self.db.transaction() as tx:
            row = tx.execute(
                select(
                    RpSession.refresh_key_id,
                    RpSession.refresh_token_sealed,
                    RpSession.tokens_obtained_at,
                    RpSession.access_expires_at,
                    RpSession.refresh_blocked_until,
                ).where(RpSession.id_hash == key, RpSession.sub == sub)
            ).first()
        if row is None or row.refresh_token_sealed is None or row.refresh_key_id is None:
            return RefreshOutcome.NO_GRANT
        if row.refresh_blocked_until is not None and row.refresh_blocked_until > now:
            return RefreshOutcome.BUSY
        if not force and not self._due(row.tokens_obtained_at, row.access_expires_at, now):
            return RefreshOutcome.NOT_DUE
        with self.db.transaction() as tx:
            # Of two requests that both found it due, only one matches this UPDATE and refreshes.
            taken = tx.execute(
                update(RpSession)
                .where(
                    RpSession.id_hash == key,
                    RpSession.refresh_token_sealed == row.refresh_token_sealed,
                    or_(RpSession.refresh_blocked_until.is_(None), RpSession.refresh_blocked_until <= now),
                )
                .values(refresh_blocked_until=now + self.lease)
            ).rowcount  # type: ignore[attr-defined]
        if taken != 1:
            return RefreshOutcome.BUSY
        return str(row.refresh_key_id), bytes(row.refresh_token_sealed)

    def _due(self, obtained_at: datetime | None, expires_at: datetime | None, now: datetime) -> bool:
        if obtained_at is None or expires_at is None:
            return True
        return now - obtained_at >= self.refresh_after or expires_at - self.clock_skew <= now

    def _keep(self, key: str, sub: str, refreshed: Refreshed) -> None:
        now = self.now()
        values: dict[str, object] = {
            "tokens_obtained_at": now,
            "access_expires_at": now + timedelta(seconds=refreshed.expires_in or DEFAULT_ACCESS_LIFETIME),
            "refresh_blocked_until": None,
        }
        if refreshed.refresh_token:
            key_id, sealed = self.cipher.seal(refreshed.refresh_token, sub)
            values.update(refresh_key_id=key_id, refresh_token_sealed=sealed)
        with self.db.transaction() as tx:
            tx.execute(update(RpSession).where(RpSession.id_hash == key).values(**values))

    def _pause(self, key: str) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                update(RpSession)
                .where(RpSession.id_hash == key)
                .values(refresh_blocked_until=self.now() + RETRY_PAUSE)
            )

    def _forget(self, key: str) -> None:
        """Drop a refresh token the IdP refused or that cannot be trusted; the session ends anyway."""
        with self.db.transaction() as tx:
            tx.execute(
                update(RpSession)
                .where(RpSession.id_hash == key)
                .values(refresh_key_id=None, refresh_token_sealed=None, refresh_blocked_until=None)
            )
