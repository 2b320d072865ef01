"""Client registration rules and client-secret checking."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sqlalchemy import select

from idp.catalogue.schema import validate_catalogue
from idp.config import Settings
from idp.db import Database
from idp.errors import Conflict, InvalidInput, NotFound
from idp.oidc.models import OAuthClient

CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{1,63}$")
SCOPES = ("openid", "profile", "email", "phone", "address", "realname", "idcard", "offline_access")
AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt", "none")
GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")


def secret_digest(secret: str, settings: Settings) -> str:
    """Client secrets are high-entropy random values: a keyed fast hash suffices (not a password hash)."""
    key = hashlib.sha256(b"idp client secret v1|" + settings.data_key_bytes()).digest()
    return "hmac-sha256$" + hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()


def check_secret(secret: str, stored: str | None, settings: Settings) -> bool:
    if not stored:
        return False
    return hmac.compare_digest(secret_digest(secret, settings), stored)


def validate_redirect_uri(uri: str) -> str:
    """Registration rules (RFC 9700 §4.1): absolute http(s), no fragment, no wildcard, no userinfo."""
    if not uri or len(uri) > 2000 or any(ord(c) < 0x21 or ord(c) == 0x7F for c in uri):
        raise InvalidInput(f"redirect URI {uri!r} is empty, too long or contains spaces/control characters")
    parts = urlsplit(uri)
    # The scheme is checked as written, in any letter case: only lower-case http/https is registered.
    if parts.scheme not in ("http", "https"):
        raise InvalidInput(f"redirect URI {uri!r} must use http or https")
    if not parts.hostname:
        raise InvalidInput(f"redirect URI {uri!r} has no host")
    if "#" in uri:
        raise InvalidInput(f"redirect URI {uri!r} must not contain a fragment")
    if "*" in uri:
        raise InvalidInput(f"redirect URI {uri!r} must not contain a wildcard")
    if "@" in parts.netloc:
        raise InvalidInput(f"redirect URI {uri!r} must not contain user information")
    return uri


@dataclass
class ClientSpec:
    client_id: str
    redirect_uris: list[str]
    name: str = ""
    secret: str | None = None
    public: bool = False
    first_party: bool = False
    allow_idcard: bool = False
    post_logout_redirect_uris: list[str] = field(default_factory=list)
    backchannel_logout_uri: str | None = None
    frontchannel_logout_uri: str | None = None
    grant_types: list[str] = field(default_factory=lambda: ["authorization_code", "refresh_token"])
    auth_method: str | None = None
    jwks: str | None = None
    #: None: the deployment's IDP_SIGNING_ALG.
    id_token_alg: str | None = None
    access_token_alg: str | None = None
    scope: str | None = None
    catalogue: str | None = None


class ClientService:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    def add(self, spec: ClientSpec) -> tuple[OAuthClient, str | None]:
        """Register a client; returns it and the generated secret (None when given or not needed)."""
        if not CLIENT_ID_RE.match(spec.client_id):
            raise InvalidInput("client id: 2-64 letters, digits, '.', '_' or '-'")
        for grant in spec.grant_types:
            if grant not in GRANT_TYPES:
                raise InvalidInput(f"unknown grant type {grant!r}")
        uses_code = "authorization_code" in spec.grant_types
        if uses_code and not spec.redirect_uris:
            raise InvalidInput("a client using the authorization code flow needs at least one redirect URI")
        redirect_uris = [validate_redirect_uri(u) for u in spec.redirect_uris]
        logout_uris = [validate_redirect_uri(u) for u in spec.post_logout_redirect_uris]
        for uri in (spec.backchannel_logout_uri, spec.frontchannel_logout_uri):
            if uri:
                validate_redirect_uri(uri)
        id_alg = spec.id_token_alg or self.settings.signing_alg
        at_alg = spec.access_token_alg or self.settings.signing_alg
        for alg in (id_alg, at_alg):
            if alg not in ("RS256", "ES256"):
                raise InvalidInput(f"unsupported signing algorithm {alg!r}")
        method = spec.auth_method or ("none" if spec.public else "client_secret_basic")
        if method not in AUTH_METHODS:
            raise InvalidInput(f"unknown token endpoint auth method {method!r}")
        if spec.public and method != "none":
            raise InvalidInput("a public client authenticates with 'none'")
        if spec.public and "client_credentials" in spec.grant_types:
            raise InvalidInput("a public client cannot use client credentials")
        generated: str | None = None
        secret_hash: str | None = None
        if method in ("client_secret_basic", "client_secret_post"):
            if spec.secret is None:
                generated = secrets.token_urlsafe(32)
            elif len(spec.secret) < 16:
                raise InvalidInput("client secret: at least 16 characters")
            secret_hash = secret_digest(spec.secret or generated or "", self.settings)
        jwks = None
        if method == "private_key_jwt":
            if not spec.jwks:
                raise InvalidInput("private_key_jwt needs the client's public JWK set (--jwks)")
            try:
                parsed = json.loads(spec.jwks)
                if not isinstance(parsed.get("keys"), list) or not parsed["keys"]:
                    raise ValueError("no keys")
            except (ValueError, AttributeError) as exc:
                raise InvalidInput("--jwks must be a JSON JWK set with at least one key") from exc
            jwks = json.dumps(parsed)
        scope = spec.scope or "openid profile email phone address realname"
        if spec.allow_idcard and "idcard" not in scope.split():
            scope += " idcard"
        for s in scope.split():
            if s not in SCOPES:
                raise InvalidInput(f"unknown scope {s!r}")
        # Stored normalised, so pages never meet a document that failed its checks.
        catalogue = validate_catalogue(spec.catalogue) if spec.catalogue is not None else None
        client = OAuthClient(
            client_id=spec.client_id,
            name=spec.name or spec.client_id,
            secret_hash=secret_hash,
            public=spec.public,
            first_party=spec.first_party,
            allow_idcard=spec.allow_idcard,
            token_endpoint_auth_method=method,
            redirect_uris_json=json.dumps(redirect_uris),
            post_logout_redirect_uris_json=json.dumps(logout_uris),
            backchannel_logout_uri=spec.backchannel_logout_uri,
            frontchannel_logout_uri=spec.frontchannel_logout_uri,
            grant_types_json=json.dumps(spec.grant_types),
            scope=scope,
            jwks_json=jwks,
            id_token_signed_response_alg=id_alg,
            access_token_signed_response_alg=at_alg,
            catalogue_json=catalogue,
        )
        with self.db.transaction() as session:
            if session.get(OAuthClient, spec.client_id) is not None:
                raise Conflict(f"client {spec.client_id!r} already exists")
            session.add(client)
        return client, generated

    def get(self, client_id: str) -> OAuthClient | None:
        with self.db.transaction() as session:
            return session.get(OAuthClient, client_id)

    def list(self) -> list[OAuthClient]:
        with self.db.transaction() as session:
            return list(session.scalars(select(OAuthClient).order_by(OAuthClient.client_id)))

    def remove(self, client_id: str) -> None:
        with self.db.transaction() as session:
            client = session.get(OAuthClient, client_id)
            if client is None:
                raise NotFound(f"no client {client_id!r}")
            session.delete(client)
