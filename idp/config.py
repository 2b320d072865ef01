"""Typed settings of the identity provider, read from ``IDP_*`` environment variables.

Every setting has a default that runs the embedded single-machine mode (SQLite file, embedded
short-lived store, loopback issuer). With ``IDP_ENV=production`` the unsafe defaults are refused
at start, because a warning in a log is easily missed.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from idp.errors import ConfigError

DEV_SECRET_KEY = "dev-secret-key-change-me"  # noqa: S105 - the known development value production refuses
# 32 zero bytes: a deliberately recognisable development data key that production refuses.
DEV_DATA_KEY = base64.urlsafe_b64encode(b"\0" * 32).decode()
CAPTCHA_MODES = ("always", "after-failures", "off")
INSTANCE_DIR = Path(os.environ.get("IDP_INSTANCE_DIR", Path.cwd() / "instance"))


@dataclass(frozen=True)
class Settings:
    #: ``development`` or ``production``; production refuses unsafe values.
    env: str = "development"
    #: SQLAlchemy URL of the durable database.
    database_url: str = f"sqlite:///{INSTANCE_DIR / 'idp.sqlite3'}"
    #: ``redis://``, ``rediss://``, ``redis+sentinel://`` URL; empty selects the embedded store.
    redis_url: str = ""
    #: Prefix of every Redis key (no braces), so several deployments can share one Redis.
    redis_prefix: str = "idp:"
    #: Issuer identifier; the exact string in discovery and the ``iss`` claim.
    issuer: str = "http://127.0.0.1:8000"
    #: Secret for CSRF tokens and session signing.
    secret_key: str = DEV_SECRET_KEY
    #: 32 random bytes, URL-safe base64: encrypts private keys and personal data.
    data_key: str = DEV_DATA_KEY
    #: Identifier stored beside every ciphertext, so the data key can rotate.
    data_key_id: str = "k1"
    #: Earlier data keys still able to decrypt, as ``id:key,id:key``.
    old_data_keys: str = ""
    #: ``always``, ``after-failures`` or ``off`` (never ``off`` in production).
    captcha: str = "after-failures"
    #: Failures (per account) after which the captcha is shown in ``after-failures`` mode.
    captcha_after: int = 3
    #: Consecutive failures per account before sign-in is locked for a growing delay.
    lock_after: int = 5
    #: First lock duration in seconds; it doubles with each further failure.
    lock_seconds: int = 60
    #: Failures per client IP within ``lock_window`` before the IP is throttled.
    ip_limit: int = 50
    #: Window of the failure counters, seconds.
    lock_window: int = 900
    #: SSO session idle timeout, seconds.
    session_idle: int = 1800
    #: SSO session absolute lifetime, seconds.
    session_lifetime: int = 43200
    #: Access token lifetime, seconds.
    access_token_ttl: int = 3600
    #: ID token lifetime, seconds.
    id_token_ttl: int = 3600
    #: Refresh token lifetime, seconds.
    refresh_token_ttl: int = 14 * 24 * 3600
    #: Authorization code lifetime, seconds.
    code_ttl: int = 60
    #: Signing algorithm of ID and access tokens unless a client asks otherwise: RS256 or ES256.
    signing_alg: str = "RS256"
    #: Generate signing keys at first start when none exist (explicit and logged); off in production.
    generate_keys: bool = True
    #: Allow outgoing calls (back-channel logout, client JWKS, verification source) to loopback/private hosts.
    allow_private_egress: bool = True
    #: Base URL of the national real-name verification source.
    realname_source_url: str = "http://127.0.0.1:8010"
    #: Bearer token the IdP presents to the verification source.
    realname_source_token: str = "dev-source-token"  # noqa: S105 - development value; see check()
    #: Seconds before one call to the verification source gives up (retries stay within 5 s in all).
    realname_timeout: float = 2.0
    #: Default interface language: ``zh`` or ``en``.
    default_locale: str = "zh"
    #: Maximum password age in days; 0 means no forced change (NIST SP 800-63B).
    password_max_age_days: int = 0
    #: Directory of the outbox: one file per message (codes, notices) that no SMTP relay or SMS gateway sends.
    outbox_dir: str = str(INSTANCE_DIR / "outbox")
    #: SMTP relay for e-mail (codes, notices); empty: every message goes to the outbox.
    smtp_host: str = ""
    #: Port of the SMTP relay: 587 for STARTTLS, 465 with ``IDP_SMTP_SSL``.
    smtp_port: int = 587
    #: Login name at the SMTP relay; empty: no authentication.
    smtp_user: str = ""
    #: Password at the SMTP relay.
    smtp_password: str = ""
    #: ``From`` address of e-mail; required with ``IDP_SMTP_HOST``.
    smtp_from: str = ""
    #: Upgrade the SMTP connection with STARTTLS, refusing relays that do not offer it.
    smtp_starttls: bool = True
    #: Implicit TLS to the SMTP relay from the first byte (port 465); STARTTLS is then not used.
    smtp_ssl: bool = False
    #: Seconds for connecting to the SMTP relay and for each of its replies.
    smtp_timeout: float = 10.0
    #: Behind a reverse proxy: number of trusted proxies setting ``X-Forwarded-For``.
    trusted_proxies: int = 0

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def https(self) -> bool:
        return self.issuer.startswith("https://")

    def data_key_bytes(self) -> bytes:
        return decode_key(self.data_key, "IDP_DATA_KEY")

    def check(self) -> Settings:
        """Refuse values that cannot work, and unsafe ones in production."""
        if self.captcha not in CAPTCHA_MODES:
            raise ConfigError(f"IDP_CAPTCHA must be one of {', '.join(CAPTCHA_MODES)}")
        if self.signing_alg not in ("RS256", "ES256"):
            raise ConfigError("IDP_SIGNING_ALG must be RS256 or ES256")
        if not self.issuer.startswith(("http://", "https://")) or self.issuer.endswith("/"):
            raise ConfigError("IDP_ISSUER must be an http(s) URL without a trailing slash")
        self.data_key_bytes()
        if self.smtp_host and "@" not in self.smtp_from:
            raise ConfigError("IDP_SMTP_FROM must be an e-mail address when IDP_SMTP_HOST is set")
        if self.production:
            problems = []
            if self.secret_key == DEV_SECRET_KEY or len(self.secret_key) < 32:
                problems.append("IDP_SECRET_KEY is the development value or shorter than 32 characters")
            if self.data_key == DEV_DATA_KEY:
                problems.append("IDP_DATA_KEY is the development value")
            if not self.https:
                problems.append("IDP_ISSUER is not https")
            if self.realname_source_token == "dev-source-token":  # noqa: S105
                problems.append("IDP_REALNAME_SOURCE_TOKEN is the development value")
            if self.captcha == "off":
                problems.append("IDP_CAPTCHA is off")
            if self.smtp_host and not (self.smtp_starttls or self.smtp_ssl):
                problems.append("IDP_SMTP_HOST is used without STARTTLS or TLS")
            if problems:
                raise ConfigError("refusing to start in production: " + "; ".join(problems))
        return self


def decode_key(value: str, name: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{name} is not URL-safe base64") from exc
    if len(raw) != 32:
        raise ConfigError(f"{name} must decode to 32 bytes")
    return raw


def _coerce(raw: str, default: Any, name: str) -> Any:
    if isinstance(default, bool):
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{name} must be true or false")
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError as exc:
            raise ConfigError(f"{name} must be an integer") from exc
    if isinstance(default, float):
        try:
            return float(raw)
        except ValueError as exc:
            raise ConfigError(f"{name} must be a number") from exc
    return raw


def load_settings(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> Settings:
    """Build settings from ``IDP_*`` variables, then apply ``overrides`` (tests, CLI)."""
    env = os.environ if environ is None else environ
    base = Settings()
    values: dict[str, Any] = {}
    for f in fields(Settings):
        key = "IDP_" + f.name.upper()
        if key in env:
            values[f.name] = _coerce(env[key], getattr(base, f.name), key)
    if "IDP_ENV" in env and env["IDP_ENV"] == "production" and "IDP_GENERATE_KEYS" not in env:
        values["generate_keys"] = False
    if "IDP_ENV" in env and env["IDP_ENV"] == "production" and "IDP_ALLOW_PRIVATE_EGRESS" not in env:
        values["allow_private_egress"] = False
    settings = replace(base, **values)
    if overrides:
        settings = replace(settings, **dict(overrides))
    return settings.check()
