"""Authlib grant subclasses: fill its hooks and call our token issuer and stores."""

from __future__ import annotations

import hashlib
import secrets
from typing import TYPE_CHECKING, Any

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidRequestError
from authlib.oauth2.rfc7636 import CodeChallenge

from idp.oidc import acting
from idp.oidc.adapters import AuthorizedUser, CodeRecord
from idp.oidc.tokens import FamilyContext
from idp.store import flow_key

if TYPE_CHECKING:
    from idp.oidc.server import OIDCServer

TOKEN_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "client_assertion_jwt", "none"]
USED_CODE_TTL = 600


def code_key(code: str) -> str:
    # Only a digest of the code is a key, so a store dump does not hold redeemable codes.
    return flow_key("code", hashlib.sha256(code.encode()).hexdigest())


def used_code_key(code: str) -> str:
    return flow_key("code-used", hashlib.sha256(code.encode()).hexdigest())


class S256Challenge(CodeChallenge):  # type: ignore[misc]
    """PKCE with S256 only: ``plain``, or a challenge without an explicit method, is refused."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        challenge = data.get("code_challenge")
        method = data.get("code_challenge_method")
        client = grant.request.client
        if not challenge and client is not None and client.record.public:
            # RFC 9700 §2.1.1: public clients MUST use PKCE.
            raise InvalidRequestError("PKCE (code_challenge with S256) is required for public clients")
        if challenge and method != "S256":
            raise InvalidRequestError("code_challenge_method must be S256")
        super().validate_code_challenge(grant, redirect_uri)


class CodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_AUTH_METHODS
    server: OIDCServer

    def save_authorization_code(self, code: str, request: Any) -> None:
        user: AuthorizedUser = request.user
        data = request.payload.data
        record = CodeRecord(
            client_id=request.client.get_client_id(),
            redirect_uri=request.payload.redirect_uri or "",
            scope=request.scope or "",
            user_id=user.id,
            auth_time=user.auth_time,
            family_id=secrets.token_hex(16),
            sid=user.sid,
            nonce=data.get("nonce"),
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
            amr=user.amr,
            extra=user.extra,
        )
        self.server.idp.store.put(code_key(code), record.to_json(), self.server.idp.settings.code_ttl)

    def query_authorization_code(self, code: str, client: Any) -> CodeRecord | None:
        store = self.server.idp.store
        raw = store.consume(code_key(code)) if len(code) <= 512 else None
        if raw is None:
            # RFC 6749 §4.1.2: a code used twice is refused and what it issued is revoked.
            family_id = store.get(used_code_key(code)) if len(code) <= 512 else None
            if family_id:
                self.server.idp.issuer.revoke_family(family_id, "code_replay")
            return None
        record = CodeRecord.from_json(raw)
        store.put(used_code_key(code), record.family_id, USED_CODE_TTL)
        if record.client_id != client.get_client_id():
            return None
        return record

    def delete_authorization_code(self, authorization_code: CodeRecord) -> None:
        """Already deleted: redemption consumed it atomically."""

    def authenticate_user(self, authorization_code: CodeRecord) -> str:
        return authorization_code.user_id

    def generate_token(
        self,
        user: Any = None,
        scope: str | None = None,
        grant_type: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        record: CodeRecord = self.request.authorization_code
        ctx = FamilyContext(
            family_id=record.family_id,
            user_id=record.user_id,
            scope=scope or "",
            sid=record.sid,
            auth_time=record.auth_time,
            nonce=record.nonce,
            amr=record.amr,
            extra=record.extra,
        )
        return self.server.idp.issue(self.request.client, ctx, include_refresh_token, "authorization_code")


class RefreshGrant(grants.RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True
    server: OIDCServer

    def authenticate_refresh_token(self, refresh_token: str) -> Any:
        if len(refresh_token) > 512:
            return None
        ctx = self.server.idp.issuer.redeem_refresh_token(refresh_token, self.request.client.get_client_id())
        if ctx is None:
            return None
        if ctx.user_id and not self.server.idp.user_active(ctx.user_id):
            raise InvalidGrantError("the account is no longer active")
        client_id = self.request.client.get_client_id()
        if not acting.still_valid(self.server.idp.db, ctx.user_id, client_id, ctx.extra.get("acting")):
            # The unit grant was revoked: no new tokens for that unit context.
            raise InvalidGrantError("the grant to act for this unit was revoked; sign in again")
        return _Redeemed(ctx, self.request.client.get_client_id())

    def authenticate_user(self, refresh_token: _Redeemed) -> str | None:
        return refresh_token.ctx.user_id

    def revoke_old_credential(self, refresh_token: _Redeemed) -> None:
        """Already marked used when it was redeemed."""

    def generate_token(
        self,
        user: Any = None,
        scope: str | None = None,
        grant_type: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        redeemed: _Redeemed = self.request.refresh_token
        ctx = redeemed.ctx
        if scope:
            ctx.scope = scope
        return self.server.idp.issue(self.request.client, ctx, True, "refresh_token")


class _Redeemed:
    def __init__(self, ctx: FamilyContext, client_id: str) -> None:
        self.ctx = ctx
        self.client_id = client_id

    def check_client(self, client: Any) -> bool:
        return bool(self.client_id == client.get_client_id())

    def get_scope(self) -> str:
        return self.ctx.scope


class ServiceGrant(grants.ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "client_assertion_jwt"]
    server: OIDCServer

    def generate_token(
        self,
        user: Any = None,
        scope: str | None = None,
        grant_type: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        # Service tokens carry no personal scopes: nothing identifies a person here.
        allowed = " ".join(s for s in (scope or "").split() if s not in ("openid", "idcard", "realname"))
        return self.server.idp.issue(self.request.client, None, False, "client_credentials", scope=allowed)
