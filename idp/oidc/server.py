"""The Authlib authorization server, wired to our clients, token issuer and stores."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from sqlalchemy import select

from idp.accounts.models import User
from idp.config import Settings
from idp.db import Database
from idp.oidc import acting
from idp.oidc.adapters import ClientAdapter, PresentedToken
from idp.oidc.claims import release
from idp.oidc.grants import CodeGrant, RefreshGrant, S256Challenge, ServiceGrant
from idp.oidc.keys import KeyRing
from idp.oidc.models import OAuthClient
from idp.oidc.tokens import FamilyContext, TokenError, TokenIssuer
from idp.store import EphemeralStore, flow_key

ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "client_assertion_jwt"]
CLIENT_CACHE_SECONDS = 5.0

UserClaimLoader = Callable[[str], dict[str, Any] | None]


class OIDCContext:
    """Everything the grants and endpoints need, built once per process."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        store: EphemeralStore,
        keys: KeyRing,
        load_user_claims: UserClaimLoader,
    ) -> None:
        self.settings = settings
        self.db = db
        self.store = store
        self.keys = keys
        self.issuer = TokenIssuer(db, store, settings, keys)
        self.load_user_claims = load_user_claims
        self._clients: dict[str, tuple[float, OAuthClient | None]] = {}
        self._lock = threading.Lock()

    def client(self, client_id: str) -> OAuthClient | None:
        if not isinstance(client_id, str) or not client_id or len(client_id) > 64:
            return None
        now = time.monotonic()
        cached = self._clients.get(client_id)
        if cached and now - cached[0] < CLIENT_CACHE_SECONDS:
            return cached[1]
        with self.db.transaction() as session:
            record = session.get(OAuthClient, client_id)
        with self._lock:
            if len(self._clients) > 10000:
                self._clients.clear()
            self._clients[client_id] = (now, record)
        return record

    def acting_claim(self, claims: dict[str, Any]) -> dict[str, Any] | None:
        """The ``acting_for`` claim of an access token while its unit grant still holds, else None."""
        if "acting_for" not in claims or not isinstance(claims.get("fid"), str):
            return None
        context = self.issuer.family_context(claims["fid"]).get("acting")
        user_id = None if claims.get("gty") == "client_credentials" else claims.get("sub")
        if context and acting.still_valid(self.db, user_id, str(claims.get("client_id")), context):
            return dict(context["claim"])
        return None

    def user_active(self, user_id: str) -> bool:
        with self.db.transaction() as session:
            disabled = session.scalar(select(User.disabled).where(User.id == user_id))
        return disabled is False

    def user_claims_for(
        self, user_id: str, scope: str, client: OAuthClient, loaded: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        claims = loaded if loaded is not None else (self.load_user_claims(user_id) or {})
        return release(claims, scope, client.allow_idcard)

    def issue(
        self,
        client: ClientAdapter,
        ctx: FamilyContext | None,
        include_refresh_token: bool,
        grant_type: str,
        scope: str | None = None,
    ) -> dict[str, Any]:
        record = client.record
        granted_scope = scope if ctx is None else ctx.scope
        access_token, ttl = self.issuer.access_token(record, granted_scope or "", ctx, grant_type)
        token: dict[str, Any] = {
            "token_type": "Bearer",
            "access_token": access_token,
            "expires_in": ttl,
            "scope": granted_scope or "",
        }
        if ctx is not None:
            wants_refresh = include_refresh_token and client.check_grant_type("refresh_token")
            if grant_type == "authorization_code":
                refresh_token = self.issuer.open_family(record, ctx, wants_refresh)
            elif wants_refresh:
                refresh_token = self.issuer.new_refresh_token(ctx.family_id)
            else:
                refresh_token = None
            if refresh_token:
                token["refresh_token"] = refresh_token
            if ctx.user_id and "openid" in ctx.scope.split():
                claims = self.user_claims_for(ctx.user_id, ctx.scope, record)
                if grant_type == "refresh_token":
                    ctx.nonce = None  # OIDC Core §12.2: a refreshed ID token has no nonce
                token["id_token"] = self.issuer.id_token(record, ctx, claims, access_token)
        return token


class OIDCServer(AuthorizationServer):  # type: ignore[misc]
    idp: OIDCContext

    def __init__(self, ctx: OIDCContext) -> None:
        super().__init__()
        self.idp = ctx
        self._query_client = self._find_client
        self._save_token = _nothing_to_save

    def _find_client(self, client_id: str) -> ClientAdapter | None:
        record = self.idp.client(client_id)
        return ClientAdapter(record, self.idp.settings) if record else None


def _nothing_to_save(token: dict[str, Any], request: Any) -> None:
    """Tokens are persisted while they are issued (family, refresh-token hash) in one place."""


class ClientAssertion(JWTBearerClientAssertion):  # type: ignore[misc]
    """``private_key_jwt`` (RFC 7523 §2.2, OIDC Core §9) with single-use assertion ids."""

    CLIENT_AUTH_METHOD = "client_assertion_jwt"

    def __init__(self, ctx: OIDCContext) -> None:
        super().__init__(validate_jti=True, leeway=30)
        self.idp = ctx

    def get_audiences(self) -> list[str]:
        base = self.idp.settings.issuer
        return [base, base + "/token", base + "/introspect", base + "/revoke"]

    def resolve_client_public_key(self, client: ClientAdapter) -> dict[str, Any]:
        return client.jwks()

    def validate_jti(self, claims: dict[str, Any], jti: str) -> bool:
        exp = int(claims.get("exp", 0))
        ttl = max(60, min(3600, exp - int(time.time()) + 60))
        return self.idp.store.add(
            flow_key("assertion-jti", f"{claims.get('iss')}:{str(jti)[:200]}"), "1", ttl
        )


def _present(ctx: OIDCContext, token_string: str, hint: str | None) -> PresentedToken | None:
    if not isinstance(token_string, str) or not token_string or len(token_string) > 8192:
        return None
    if hint != "refresh_token" and token_string.count(".") == 2:
        # Expired, revoked or foreign tokens read as inactive (RFC 7662 §2.2) and need no owner check.
        try:
            claims = ctx.issuer.validate_access_token(token_string).claims
        except TokenError:
            return None
        return PresentedToken("access_token", token_string, str(claims.get("client_id")), claims, True)
    # Refresh tokens are opaque: look them up by their keyed hash.
    from idp.db import utcnow
    from idp.oidc.models import RefreshToken, TokenFamily

    with ctx.db.transaction() as session:
        row = session.get(RefreshToken, ctx.issuer.rt_hash(token_string))
        if row is None:
            return None
        family = session.get(TokenFamily, row.family_id)
        if family is None:
            return None
        active = family.revoked_at is None and row.used_at is None and row.expires_at > utcnow()
        claims = {
            "scope": family.scope,
            "sub": family.user_id or family.client_id,
            "iat": int(row.created_at.timestamp()),
            "exp": int(row.expires_at.timestamp()),
            "fid": family.id,
        }
        return PresentedToken("refresh_token", token_string, family.client_id, claims, active)


class Introspection(IntrospectionEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = ENDPOINT_AUTH_METHODS

    def __init__(self, server: OIDCServer) -> None:
        super().__init__(server)
        self.idp = server.idp

    def query_token(self, token_string: str, token_type_hint: str | None) -> PresentedToken | None:
        return _present(self.idp, token_string, token_type_hint)

    def check_permission(self, token: PresentedToken, client: ClientAdapter, request: Any) -> bool:
        # A client learns only about its own tokens; anything else reads as inactive.
        return token.check_client(client)

    def introspect_token(self, token: PresentedToken) -> dict[str, Any]:
        claims = token.claims
        out: dict[str, Any] = {
            "active": True,
            "client_id": token.client_id,
            "token_type": "Bearer" if token.kind == "access_token" else "refresh_token",
            "scope": claims.get("scope", ""),
            "sub": claims.get("sub"),
            "iss": self.idp.settings.issuer,
            "exp": claims.get("exp"),
            "iat": claims.get("iat"),
        }
        for extra in ("aud", "jti", "auth_time", "sid"):
            if extra in claims:
                out[extra] = claims[extra]
        unit = self.idp.acting_claim(claims) if token.kind == "access_token" else None
        if unit is not None:
            out["acting_for"] = unit
        return out


class Revocation(RevocationEndpoint):  # type: ignore[misc]
    # RFC 7009 §2.1: a public client revokes its own tokens presenting only its client_id.
    CLIENT_AUTH_METHODS = [*ENDPOINT_AUTH_METHODS, "none"]

    def __init__(self, server: OIDCServer) -> None:
        super().__init__(server)
        self.idp = server.idp

    def query_token(self, token_string: str, token_type_hint: str | None) -> PresentedToken | None:
        return _present(self.idp, token_string, token_type_hint)

    def revoke_token(self, token: PresentedToken, request: Any) -> None:
        if token.kind == "access_token":
            self.idp.issuer.revoke_access_token(token.claims)
        else:
            # RFC 7009 §2.1: revoking a refresh token also invalidates the access tokens of its grant.
            self.idp.issuer.revoke_family(str(token.claims["fid"]), "revoked_by_client")


def build_server(ctx: OIDCContext) -> OIDCServer:
    server = OIDCServer(ctx)
    server.register_token_generator("default", _unused_generator)
    server.register_client_auth_method(ClientAssertion.CLIENT_AUTH_METHOD, ClientAssertion(ctx))
    server.register_grant(CodeGrant, [S256Challenge(required=True)])
    server.register_grant(RefreshGrant)
    server.register_grant(ServiceGrant)
    server.register_endpoint(Introspection(server))
    server.register_endpoint(Revocation(server))
    return server


def _unused_generator(**kwargs: Any) -> dict[str, Any]:
    raise RuntimeError("tokens are issued by the grants through OIDCContext.issue")


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False)
