"""Typed settings of the training system, read from ``RP_*`` environment variables.

Every setting has a default that runs the embedded demo next to the IdP on 127.0.0.1 (SQLite
file, IdP at 127.0.0.1:8000, this app at 127.0.0.1:8002). With ``RP_ENV=production`` the unsafe
defaults are refused at start: a warning in a log is easily missed.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from training_rp.errors import ConfigError

DEV_SECRET_KEY = "dev-training-rp-secret-key"  # noqa: S105 - the known development value production refuses
DEV_CLIENT_SECRET = "dev-training-secret"  # noqa: S105 - the demo client secret production refuses
# 32 bytes of 0x01: a recognisable development data key that production refuses.
DEV_DATA_KEY = base64.urlsafe_b64encode(b"\1" * 32).decode()
INSTANCE_DIR = Path(os.environ.get("RP_INSTANCE_DIR", Path.cwd() / "instance"))
#: Scopes this relying party asks for; ``idcard`` needs the client to be allowed it at the IdP.
SCOPES = "openid profile realname idcard"


@dataclass(frozen=True)
class Settings:
    #: ``development`` or ``production``; production refuses unsafe values.
    env: str = "development"
    #: Issuer identifier of the IdP, exactly as in its discovery document and the ``iss`` claim.
    issuer: str = "http://127.0.0.1:8000"
    #: Client id registered at the IdP.
    client_id: str = "training"
    #: Client secret registered at the IdP (sent with ``client_secret_basic``).
    client_secret: str = DEV_CLIENT_SECRET
    #: Public base URL of this app, no trailing slash; the redirect URI is this plus ``/callback``.
    base_url: str = "http://127.0.0.1:8002"
    #: SQLAlchemy URL of this app's own database (not the IdP's).
    database_url: str = f"sqlite:///{INSTANCE_DIR / 'training_rp.sqlite3'}"
    #: Secret for CSRF tokens; at least 32 characters in production.
    secret_key: str = DEV_SECRET_KEY
    #: 32 random bytes, URL-safe base64: AES-GCM key for ID numbers and the blind-index key.
    data_key: str = DEV_DATA_KEY
    #: Identifier stored beside every ciphertext, so the data key can rotate.
    data_key_id: str = "k1"
    #: Earlier data keys still able to decrypt and find records, as ``id:key,id:key``.
    old_data_keys: str = ""
    #: Where the IdP's 我的信息 page lives (real-name verification); empty means ``RP_ISSUER`` + ``/me``.
    idp_account_url: str = ""
    #: Business phone shown on refusal pages.
    business_phone: str = "010-58884232"
    #: Session idle timeout, seconds.
    session_idle: int = 1800
    #: Session absolute lifetime, seconds.
    session_lifetime: int = 43200
    #: Seconds a started sign-in (state, nonce, PKCE verifier) stays valid.
    login_timeout: int = 600
    #: Allowed clock difference with the IdP when checking ``exp`` and ``iat``, seconds.
    clock_skew: int = 60
    #: Oldest ``iat`` accepted on an ID token or logout token, seconds.
    token_max_age: int = 600
    #: Minimum seconds between two JWKS fetches caused by an unknown ``kid``.
    jwks_min_refresh: int = 60
    #: Seconds after which the cached JWKS is fetched again on next use.
    jwks_max_age: int = 3600
    #: Age in seconds after which the tokens of a session are refreshed at the IdP on the next page
    #: load, so that a withdrawn unit authorisation or a disabled account is noticed within this time.
    refresh_after: int = 300
    #: Timeout of every call to the IdP, seconds.
    http_timeout: float = 5.0
    #: Default interface language: ``zh`` or ``en``.
    default_locale: str = "zh"
    #: Behind a reverse proxy: number of trusted proxies setting ``X-Forwarded-*``.
    trusted_proxies: int = 0
    #: Worker processes of ``training-rp serve``.
    workers: int = 2

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def https(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def redirect_uri(self) -> str:
        return self.base_url + "/callback"

    @property
    def post_logout_redirect_uri(self) -> str:
        return self.base_url + "/"

    @property
    def backchannel_logout_uri(self) -> str:
        return self.base_url + "/backchannel-logout"

    @property
    def account_url(self) -> str:
        return self.idp_account_url or self.issuer + "/me"

    @property
    def discovery_url(self) -> str:
        return self.issuer + "/.well-known/openid-configuration"

    def data_key_bytes(self) -> bytes:
        return decode_key(self.data_key, "RP_DATA_KEY")

    def all_data_keys(self) -> dict[str, bytes]:
        """Every key able to decrypt, by key id; the current key included."""
        keys = {self.data_key_id: self.data_key_bytes()}
        for item in filter(None, (part.strip() for part in self.old_data_keys.split(","))):
            key_id, sep, value = item.partition(":")
            if not sep or not key_id:
                raise ConfigError("RP_OLD_DATA_KEYS must be a list of id:key pairs separated by commas")
            if key_id in keys:
                raise ConfigError(f"RP_OLD_DATA_KEYS repeats key id {key_id!r}")
            keys[key_id] = decode_key(value, f"RP_OLD_DATA_KEYS[{key_id}]")
        return keys

    def check(self) -> Settings:
        """Refuse values that cannot work, and unsafe ones in production."""
        if self.env not in ("development", "production"):
            raise ConfigError("RP_ENV must be development or production")
        for name, url in (("RP_ISSUER", self.issuer), ("RP_BASE_URL", self.base_url)):
            _check_base_url(name, url)
        if self.idp_account_url:
            _check_base_url("RP_IDP_ACCOUNT_URL", self.idp_account_url, allow_slash=True)
        if not self.client_id or not self.client_secret:
            raise ConfigError("RP_CLIENT_ID and RP_CLIENT_SECRET must not be empty")
        if not self.data_key_id or ":" in self.data_key_id or "," in self.data_key_id:
            raise ConfigError("RP_DATA_KEY_ID must be a non-empty word without ':' or ','")
        self.all_data_keys()
        if self.default_locale not in ("zh", "en"):
            raise ConfigError("RP_DEFAULT_LOCALE must be zh or en")
        for name in (
            "session_idle",
            "session_lifetime",
            "login_timeout",
            "token_max_age",
            "jwks_max_age",
            "refresh_after",
        ):
            if getattr(self, name) <= 0:
                raise ConfigError(f"RP_{name.upper()} must be positive")
        if self.clock_skew < 0 or self.jwks_min_refresh < 0 or self.trusted_proxies < 0:
            raise ConfigError(
                "RP_CLOCK_SKEW, RP_JWKS_MIN_REFRESH and RP_TRUSTED_PROXIES must not be negative"
            )
        if self.http_timeout <= 0 or self.workers <= 0:
            raise ConfigError("RP_HTTP_TIMEOUT and RP_WORKERS must be positive")
        if self.production:
            self._check_production()
        return self

    def _check_production(self) -> None:
        problems = []
        if self.secret_key == DEV_SECRET_KEY or len(self.secret_key) < 32:
            problems.append("RP_SECRET_KEY is the development value or shorter than 32 characters")
        if self.client_secret == DEV_CLIENT_SECRET:
            problems.append("RP_CLIENT_SECRET is the demo value")
        if self.data_key == DEV_DATA_KEY or DEV_DATA_KEY in self.old_data_keys:
            problems.append("RP_DATA_KEY (or an old key) is the development value")
        if not self.issuer.startswith("https://"):
            problems.append("RP_ISSUER is not https")
        if not self.https:
            problems.append("RP_BASE_URL is not https")
        if problems:
            raise ConfigError("refusing to start in production: " + "; ".join(problems))


def _check_base_url(name: str, url: str, allow_slash: bool = False) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError(f"{name} must be an http(s) URL without query or fragment")
    if url.endswith("/") and not allow_slash:
        raise ConfigError(f"{name} must not end with a slash")


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
    """Build settings from ``RP_*`` variables, then apply ``overrides`` (tests, CLI), then check them."""
    env = os.environ if environ is None else environ
    base = Settings()
    values: dict[str, Any] = {}
    for f in fields(Settings):
        key = "RP_" + f.name.upper()
        if key in env:
            values[f.name] = _coerce(env[key], getattr(base, f.name), key)
    settings = replace(base, **values)
    if overrides:
        unknown = set(overrides) - {f.name for f in fields(Settings)}
        if unknown:
            raise ConfigError(f"unknown settings: {', '.join(sorted(unknown))}")
        settings = replace(settings, **dict(overrides))
    return settings.check()
