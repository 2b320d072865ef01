"""Authlib's model protocols over our records: client, authorization code, token."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, ClientMixin, TokenMixin

from idp.config import Settings
from idp.oidc.clients import check_secret
from idp.oidc.models import OAuthClient


class ClientAdapter(ClientMixin):  # type: ignore[misc]
    def __init__(self, record: OAuthClient, settings: Settings) -> None:
        self.record = record
        self.settings = settings

    @property
    def client_id(self) -> str:
        return self.record.client_id

    def get_client_id(self) -> str:
        return self.record.client_id

    def get_default_redirect_uri(self) -> str | None:
        uris = self.record.redirect_uris
        # Only an unambiguous single registration may stand in for a missing redirect_uri.
        return uris[0] if len(uris) == 1 else None

    def get_allowed_scope(self, scope: str) -> str:
        if not scope:
            return ""
        allowed = set(self.record.scope.split())
        if not self.record.allow_idcard:
            allowed.discard("idcard")
        return " ".join(s for s in scope.split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        # Byte-for-byte comparison with a registered URI (RFC 9700 §4.1.3): no normalisation.
        return redirect_uri in self.record.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return check_secret(client_secret, self.record.secret_hash, self.settings)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if method == "client_assertion_jwt":
            method = "private_key_jwt"
        return bool(method == self.record.token_endpoint_auth_method)

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in self.record.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.record.grant_types

    def jwks(self) -> dict[str, Any]:
        return dict(json.loads(self.record.jwks_json or '{"keys": []}'))


@dataclass
class AuthorizedUser:
    """The person (and context) an authorization response is issued for."""

    id: str
    auth_time: int
    sid: str | None
    amr: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def get_user_id(self) -> str:
        return self.id


@dataclass
class CodeRecord(AuthorizationCodeMixin):  # type: ignore[misc]
    client_id: str
    redirect_uri: str
    scope: str
    user_id: str
    auth_time: int
    family_id: str
    sid: str | None = None
    nonce: str | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    amr: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> str | None:
        return None

    def get_amr(self) -> list[str]:
        return self.amr

    def to_json(self) -> str:
        return json.dumps(self.__dict__)

    @classmethod
    def from_json(cls, raw: str) -> CodeRecord:
        return cls(**json.loads(raw))


@dataclass
class PresentedToken(TokenMixin):  # type: ignore[misc]
    """A token presented to introspection or revocation."""

    kind: str  # "access_token" | "refresh_token"
    value: str
    client_id: str
    claims: dict[str, Any] = field(default_factory=dict)
    active: bool = True

    def check_client(self, client: ClientAdapter) -> bool:
        return self.client_id == client.get_client_id()

    def get_scope(self) -> str:
        return str(self.claims.get("scope", ""))

    def get_expires_in(self) -> int:
        return int(self.claims.get("exp", 0)) - int(self.claims.get("iat", 0))

    def is_expired(self) -> bool:
        return not self.active

    def is_revoked(self) -> bool:
        return not self.active
