"""Issuing and checking tokens: JWT access tokens (RFC 9068), ID tokens, refresh-token families.

Access tokens are JWTs so resource servers can verify them offline; the IdP still answers
introspection and revocation for them: a revoked ``jti`` or a revoked family makes them inactive.
Refresh tokens are opaque, stored as keyed hashes, rotated on every use; the second use of a
rotated one revokes its whole family (RFC 9700 §4.14.2).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from sqlalchemy import select, update

from idp.config import Settings
from idp.db import Database, utcnow
from idp.oidc.keys import SIGNING_ALGS, KeyRing
from idp.oidc.models import OAuthClient, RefreshToken, TokenFamily
from idp.store import EphemeralStore, flow_key

ACCESS_TOKEN_TYP = "at+jwt"  # noqa: S105 - a media type, not a secret


def half_hash(value: str) -> str:
    """``at_hash`` (OIDC Core §3.1.3.6): left half of SHA-256 for RS256 and ES256 alike."""
    digest = hashlib.sha256(value.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()


@dataclass
class FamilyContext:
    """Who an authorization is for; carried from the code to every token of the family."""

    family_id: str
    user_id: str | None
    scope: str
    sid: str | None = None
    auth_time: int | None = None
    nonce: str | None = None
    amr: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class AccessTokenClaims:
    claims: dict[str, Any]

    @property
    def sub(self) -> str:
        return str(self.claims["sub"])

    @property
    def client_id(self) -> str:
        return str(self.claims["client_id"])

    @property
    def scope(self) -> str:
        return str(self.claims.get("scope", ""))

    @property
    def user_id(self) -> str | None:
        return None if self.claims.get("gty") == "client_credentials" else self.sub


class TokenError(Exception):
    """A presented token is not valid (bad signature, expired, revoked, wrong type)."""


class TokenIssuer:
    def __init__(self, db: Database, store: EphemeralStore, settings: Settings, keys: KeyRing) -> None:
        self.db = db
        self.store = store
        self.settings = settings
        self.keys = keys
        self._rt_key = hashlib.sha256(b"idp refresh token v1|" + settings.data_key_bytes()).digest()

    # ---- signing -------------------------------------------------------------------------
    def sign(self, claims: dict[str, Any], alg: str, typ: str = "JWT") -> str:
        key = self.keys.signing_key(alg)
        return jwt.encode({"alg": alg, "kid": key.kid, "typ": typ}, claims, key, algorithms=[alg])

    def access_token(
        self, client: OAuthClient, scope: str, ctx: FamilyContext | None, grant_type: str
    ) -> tuple[str, int]:
        now = int(time.time())
        ttl = self.settings.access_token_ttl
        claims: dict[str, Any] = {
            "iss": self.settings.issuer,
            "sub": ctx.user_id if ctx and ctx.user_id else client.client_id,
            "aud": self.settings.issuer,
            "client_id": client.client_id,
            "iat": now,
            "exp": now + ttl,
            "jti": secrets.token_urlsafe(16),
            "scope": scope,
        }
        if ctx is None or ctx.user_id is None:
            claims["gty"] = "client_credentials"
        if ctx is not None:
            claims["fid"] = ctx.family_id
            if ctx.auth_time is not None:
                claims["auth_time"] = ctx.auth_time
            if ctx.sid:
                claims["sid"] = ctx.sid
            acting = ctx.extra.get("acting")
            if acting:
                claims["acting_for"] = acting["claim"]
        return self.sign(claims, client.access_token_signed_response_alg, ACCESS_TOKEN_TYP), ttl

    def id_token(
        self, client: OAuthClient, ctx: FamilyContext, user_claims: dict[str, Any], access_token: str | None
    ) -> str:
        now = int(time.time())
        claims: dict[str, Any] = dict(user_claims)
        claims.update(
            iss=self.settings.issuer,
            sub=ctx.user_id,
            aud=client.client_id,
            azp=client.client_id,
            iat=now,
            exp=now + self.settings.id_token_ttl,
        )
        if ctx.auth_time is not None:
            claims["auth_time"] = ctx.auth_time
        if ctx.nonce:
            claims["nonce"] = ctx.nonce
        if ctx.sid:
            claims["sid"] = ctx.sid
        if ctx.amr:
            claims["amr"] = ctx.amr
        acting = ctx.extra.get("acting")
        if acting:
            claims["acting_for"] = acting["claim"]
        if access_token:
            claims["at_hash"] = half_hash(access_token)
        return self.sign(claims, client.id_token_signed_response_alg)

    # ---- refresh-token families -----------------------------------------------------------
    def rt_hash(self, token: str) -> str:
        return hmac.new(self._rt_key, token.encode(), hashlib.sha256).hexdigest()

    def open_family(self, client: OAuthClient, ctx: FamilyContext, with_refresh_token: bool) -> str | None:
        """Record the family of a new authorization and, if asked, its first refresh token.

        One transaction. A replay of the code that races this call has already marked the family
        revoked in the store; the family is then born revoked.
        """
        token = secrets.token_urlsafe(32) if with_refresh_token else None
        replayed = self.store.get(flow_key("revoked-family", ctx.family_id)) is not None
        with self.db.transaction() as session:
            if session.get(TokenFamily, ctx.family_id) is None:
                session.add(
                    TokenFamily(
                        id=ctx.family_id,
                        client_id=client.client_id,
                        user_id=ctx.user_id,
                        scope=ctx.scope,
                        sid=ctx.sid,
                        auth_time=ctx.auth_time,
                        context_json=json.dumps({"amr": ctx.amr, "nonce": ctx.nonce, "extra": ctx.extra}),
                        revoked_at=utcnow() if replayed else None,
                        revoke_reason="code_replay" if replayed else None,
                    )
                )
                session.flush()
            if token is not None:
                session.add(self._refresh_row(token, ctx.family_id))
        return token

    def _refresh_row(self, token: str, family_id: str) -> RefreshToken:
        return RefreshToken(
            token_hash=self.rt_hash(token),
            family_id=family_id,
            expires_at=utcnow() + timedelta(seconds=self.settings.refresh_token_ttl),
        )

    def new_refresh_token(self, family_id: str) -> str:
        token = secrets.token_urlsafe(32)
        with self.db.transaction() as session:
            session.add(self._refresh_row(token, family_id))
        return token

    def redeem_refresh_token(self, token: str, client_id: str) -> FamilyContext | None:
        """Claim a refresh token once. Reuse of a rotated token revokes the whole family."""
        digest = self.rt_hash(token)
        now = utcnow()
        with self.db.transaction() as session:
            row = session.get(RefreshToken, digest)
            if row is None:
                return None
            family = session.get(TokenFamily, row.family_id)
            if family is None or family.client_id != client_id:
                return None
            if family.revoked_at is not None or row.expires_at < now:
                return None
            # The conditional UPDATE is the atomic claim: of concurrent callers exactly one matches.
            claimed = session.execute(  # type: ignore[attr-defined]
                update(RefreshToken)
                .where(RefreshToken.token_hash == digest, RefreshToken.used_at.is_(None))
                .values(used_at=now)
            ).rowcount
            if claimed != 1:
                family.revoked_at = now
                family.revoke_reason = "refresh_token_reuse"
                replay = family.id
            else:
                replay = ""
                context = json.loads(family.context_json)
                ctx = FamilyContext(
                    family_id=family.id,
                    user_id=family.user_id,
                    scope=family.scope,
                    sid=family.sid,
                    auth_time=family.auth_time,
                    nonce=None,
                    amr=list(context.get("amr", [])),
                    extra=dict(context.get("extra", {})),
                )
        if replay:
            self._mark_family_revoked(replay)
            return None
        return ctx

    def revoke_family(self, family_id: str, reason: str) -> None:
        with self.db.transaction() as session:
            family = session.get(TokenFamily, family_id)
            if family is not None and family.revoked_at is None:
                family.revoked_at = utcnow()
                family.revoke_reason = reason
        self._mark_family_revoked(family_id)

    def revoke_user_families(self, user_id: str, reason: str) -> int:
        """Revoke every live token family of a person (password reset or change)."""
        with self.db.transaction() as session:
            ids = list(
                session.scalars(
                    select(TokenFamily.id).where(
                        TokenFamily.user_id == user_id, TokenFamily.revoked_at.is_(None)
                    )
                )
            )
        for family_id in ids:
            self.revoke_family(family_id, reason)
        return len(ids)

    def revoke_refresh_token(self, token: str, client_id: str) -> bool:
        with self.db.transaction() as session:
            row = session.get(RefreshToken, self.rt_hash(token))
            if row is None:
                return False
            family = session.get(TokenFamily, row.family_id)
            if family is None or family.client_id != client_id:
                return False
            family_id = family.id
        self.revoke_family(family_id, "revoked_by_client")
        return True

    def _mark_family_revoked(self, family_id: str | None) -> None:
        if family_id:
            self.store.put(flow_key("revoked-family", family_id), "1", self.settings.access_token_ttl + 60)

    def family_context(self, family_id: str) -> dict[str, Any]:
        """The ``extra`` context an authorization was issued with (e.g. the unit acted for)."""
        with self.db.transaction() as session:
            family = session.get(TokenFamily, family_id)
            if family is None:
                return {}
            return dict(json.loads(family.context_json).get("extra", {}))

    def family_revoked(self, family_id: str) -> bool:
        with self.db.transaction() as session:
            family = session.get(TokenFamily, family_id)
            return family is None or family.revoked_at is not None

    def families_for_session(self, sid: str) -> list[TokenFamily]:
        with self.db.transaction() as session:
            return list(session.scalars(select(TokenFamily).where(TokenFamily.sid == sid)))

    # ---- access-token checks --------------------------------------------------------------
    def decode(self, token: str, *, expect_typ: str | None, verify_exp: bool = True) -> dict[str, Any]:
        if not token or len(token) > 8192 or token.count(".") != 2:
            raise TokenError("malformed token")
        try:
            decoded = jwt.decode(token, self.keys.verify_keys(), algorithms=list(SIGNING_ALGS))
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise TokenError(f"undecodable token: {exc.__class__.__name__}") from exc
        header = decoded.header
        # Headers that could make a verifier fetch or trust keys from the token itself are refused.
        if {"jku", "x5u", "jwk", "x5c", "crit"} & set(header):
            raise TokenError("forbidden JOSE header")
        if expect_typ is not None and str(header.get("typ", "")).lower() != expect_typ:
            raise TokenError("wrong token type")
        claims = dict(decoded.claims)
        if claims.get("iss") != self.settings.issuer:
            raise TokenError("wrong issuer")
        exp = claims.get("exp")
        if not isinstance(exp, int):
            raise TokenError("no expiry")
        if verify_exp and exp < time.time():
            raise TokenError("expired")
        return claims

    def validate_access_token(self, token: str) -> AccessTokenClaims:
        claims = self.decode(token, expect_typ=ACCESS_TOKEN_TYP)
        if claims.get("aud") != self.settings.issuer:
            raise TokenError("wrong audience")
        jti = str(claims.get("jti", ""))
        if self.store.get(flow_key("revoked-at", jti)) is not None:
            raise TokenError("revoked")
        fid = claims.get("fid")
        if isinstance(fid, str):
            if self.store.get(flow_key("revoked-family", fid)) is not None or self.family_revoked(fid):
                raise TokenError("revoked family")
        return AccessTokenClaims(claims)

    def revoke_access_token(self, claims: dict[str, Any]) -> None:
        ttl = max(1, int(claims.get("exp", 0)) - int(time.time()) + 60)
        self.store.put(flow_key("revoked-at", str(claims.get("jti", ""))), "1", ttl)
