"""Durable OAuth/OIDC records: clients, signing keys, token families, refresh tokens, consents."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from idp.db import Base, UTCDateTime, utcnow


class OAuthClient(Base):
    """A registered relying party or service client."""

    __tablename__ = "oauth_clients"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    #: ``hmac-sha256$<hex>`` of the secret; None for public clients and private_key_jwt clients.
    secret_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    first_party: Mapped[bool] = mapped_column(Boolean, default=False)
    allow_idcard: Mapped[bool] = mapped_column(Boolean, default=False)
    token_endpoint_auth_method: Mapped[str] = mapped_column(String(40), default="client_secret_basic")
    redirect_uris_json: Mapped[str] = mapped_column(Text, default="[]")
    post_logout_redirect_uris_json: Mapped[str] = mapped_column(Text, default="[]")
    backchannel_logout_uri: Mapped[str | None] = mapped_column(Text, nullable=True)
    frontchannel_logout_uri: Mapped[str | None] = mapped_column(Text, nullable=True)
    grant_types_json: Mapped[str] = mapped_column(Text, default='["authorization_code", "refresh_token"]')
    scope: Mapped[str] = mapped_column(Text, default="openid profile email phone address realname")
    #: Public JWK set (JSON) for private_key_jwt client authentication.
    jwks_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    id_token_signed_response_alg: Mapped[str] = mapped_column(String(10), default="RS256")
    access_token_signed_response_alg: Mapped[str] = mapped_column(String(10), default="RS256")
    #: Service-catalogue data (matter name, department, code, entries, tabs) as JSON.
    catalogue_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def redirect_uris(self) -> list[str]:
        return list(json.loads(self.redirect_uris_json))

    @property
    def post_logout_redirect_uris(self) -> list[str]:
        return list(json.loads(self.post_logout_redirect_uris_json))

    @property
    def grant_types(self) -> list[str]:
        return list(json.loads(self.grant_types_json))


class SigningKey(Base):
    """A JWS signing key; the private part is encrypted with the data key."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    alg: Mapped[str] = mapped_column(String(10))
    #: ``next`` (published, not yet signing), ``active`` (signing), ``retired`` (published until expiry).
    state: Mapped[str] = mapped_column(String(10), index=True)
    private_encrypted: Mapped[str] = mapped_column(Text)
    public_jwk_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: When a retired key leaves the JWKS: after every token it signed has expired.
    publish_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class TokenFamily(Base):
    """Everything issued from one authorization: revoking the family revokes all of it."""

    __tablename__ = "token_families"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    client_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("oauth_clients.client_id", ondelete="CASCADE")
    )
    user_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    scope: Mapped[str] = mapped_column(Text, default="")
    sid: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    auth_time: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: JSON: extra context chosen at authorisation (acting-for unit, amr, acr).
    context_json: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoke_reason: Mapped[str | None] = mapped_column(String(64), nullable=True)


class RefreshToken(Base):
    """One refresh token of a family, stored only as a keyed hash."""

    __tablename__ = "refresh_tokens"
    __table_args__ = (Index("ix_refresh_tokens_family", "family_id"),)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    family_id: Mapped[str] = mapped_column(String(32), ForeignKey("token_families.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Set when the token was exchanged; a second use is reuse and revokes the family.
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Consent(Base):
    """Scopes a person allowed a (non first-party) client."""

    __tablename__ = "consents"

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    client_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("oauth_clients.client_id", ondelete="CASCADE"), primary_key=True
    )
    scope: Mapped[str] = mapped_column(Text, default="")
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
