"""Typed settings of the legacy host, read from ``LEGACY_*`` environment variables.

Every setting has a default that runs the embedded demo on one machine (this app on
127.0.0.1:8001, the training system's relying party on :8002, the platform on :8000).
``LEGACY_ENV=production`` refuses any target that is not ``https://``: the notice exists to move
people onto the platform's sign-in, and a plain-HTTP hop there would expose them to rewriting.

The login button and every redirect go only to URLs from these settings; nothing in a request can
choose a target.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any
from urllib.parse import urlsplit

ENVIRONMENTS = ("development", "production")
LOCALES = ("zh", "en")
EX_CONFIG = 78  # sysexits.h: configuration error

_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$"
)
_PHONE = re.compile(r"^[0-9+() -]{3,32}$")

DEFAULT_KNOWN_REFERRERS = (
    "fuwu.most.gov.cn,www.most.gov.cn,most.gov.cn,www.safea.gov.cn,safea.gov.cn,"
    "www.baidu.com,m.baidu.com,www.so.com,www.sogou.com,cn.bing.com,www.bing.com,www.google.com"
)


class ConfigError(Exception):
    """A setting cannot work or is unsafe; the app refuses to start (CLI exit code 78)."""


@dataclass(frozen=True)
class Settings:
    #: ``development`` or ``production``; production refuses non-https targets.
    env: str = "development"
    #: Interface ``legacy-redirect serve`` binds to.
    host: str = "127.0.0.1"
    #: Port ``legacy-redirect serve`` listens on.
    port: int = 8001
    #: Gunicorn worker processes for ``legacy-redirect serve``.
    workers: int = 2
    #: Public origin of this host (scheme://host[:port], no path); absolute URLs are built from it.
    public_url: str = "http://127.0.0.1:8001"
    #: Target of the 登录 button: the training system's sign-in, which starts OIDC at the platform.
    login_url: str = "http://127.0.0.1:8002/login"
    #: Home page of the new platform (header link, ``platform`` target of the deep-link map).
    platform_url: str = "http://127.0.0.1:8000"
    #: URL of the instructions document; empty serves the document shipped with this app.
    instructions_url: str = ""
    #: Deep-link map file (``old-path target`` per line); empty uses the shipped ``data/redirects.txt``.
    redirects_file: str = ""
    #: Referring hosts counted by name in the visit metric (comma-separated); any other is ``other``.
    known_referrers: str = DEFAULT_KNOWN_REFERRERS
    #: Business phone shown on the notice page.
    business_phone: str = "010-58884232"
    #: Enquiry phones listed in the instructions document (comma-separated).
    enquiry_phones: str = "010-58884238,010-58884236"
    #: Language when neither the switch nor ``Accept-Language`` chooses one: ``zh`` or ``en``.
    default_locale: str = "zh"
    #: Seconds shared caches and browsers may keep the notice page.
    notice_max_age: int = 300
    #: Seconds browsers may keep a deep-link 301 (bounded, so a changed map takes effect).
    redirect_max_age: int = 86400
    #: ``max-age`` of Strict-Transport-Security, sent only on HTTPS requests; 0 disables it.
    hsts_max_age: int = 31536000
    #: Reverse proxies in front of the app whose ``X-Forwarded-For``/``-Proto`` are trusted (0 = none).
    trusted_proxies: int = 0
    #: Networks (comma-separated CIDRs) whose direct, unproxied requests may read ``/metrics``.
    metrics_allow: str = "127.0.0.0/8,::1/128"

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def referrer_hosts(self) -> frozenset[str]:
        return frozenset(_split_list(self.known_referrers))

    @property
    def enquiry_phone_list(self) -> tuple[str, ...]:
        return tuple(_split_list(self.enquiry_phones))

    @property
    def metrics_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(ipaddress.ip_network(n, strict=False) for n in _split_list(self.metrics_allow))

    def check(self) -> Settings:
        """Refuse values that cannot work, and non-https targets in production."""
        problems: list[str] = []
        if self.env not in ENVIRONMENTS:
            problems.append(f"LEGACY_ENV must be one of {', '.join(ENVIRONMENTS)}")
        if self.default_locale not in LOCALES:
            problems.append(f"LEGACY_DEFAULT_LOCALE must be one of {', '.join(LOCALES)}")
        if not 1 <= self.port <= 65535:
            problems.append("LEGACY_PORT must be between 1 and 65535")
        if not 1 <= self.workers <= 64:
            problems.append("LEGACY_WORKERS must be between 1 and 64")
        if not self.host.strip():
            problems.append("LEGACY_HOST must not be empty")
        for name in ("notice_max_age", "redirect_max_age", "hsts_max_age", "trusted_proxies"):
            if getattr(self, name) < 0:
                problems.append(f"LEGACY_{name.upper()} must not be negative")
        https_only = self.production
        problems += url_problems("LEGACY_PUBLIC_URL", self.public_url, https_only, origin_only=True)
        problems += url_problems("LEGACY_LOGIN_URL", self.login_url, https_only)
        problems += url_problems("LEGACY_PLATFORM_URL", self.platform_url, https_only)
        if self.instructions_url:
            problems += url_problems("LEGACY_INSTRUCTIONS_URL", self.instructions_url, https_only)
        for host in _split_list(self.known_referrers):
            if not _HOSTNAME.match(host):
                problems.append(f"LEGACY_KNOWN_REFERRERS: {host!r} is not a lower-case host name")
        for phone in (self.business_phone, *_split_list(self.enquiry_phones)):
            if not _PHONE.match(phone):
                problems.append(f"phone number {phone!r} may hold only digits, spaces, + - ( )")
        try:
            _ = self.metrics_networks
        except ValueError as exc:
            problems.append(f"LEGACY_METRICS_ALLOW: {exc}")
        if problems:
            prefix = "refusing to start in production: " if self.production else ""
            raise ConfigError(prefix + "; ".join(problems))
        return self


def url_problems(name: str, value: str, https_only: bool, origin_only: bool = False) -> list[str]:
    """Why ``value`` cannot serve as a target URL (empty list when it can)."""
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F or ch == "\\" for ch in value):
        return [f"{name} must not contain spaces, control characters or backslashes"]
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        return [f"{name} is not a valid URL"]
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [f"{name} must be an absolute http(s) URL"]
    problems = []
    if https_only and parts.scheme != "https":
        problems.append(f"{name} is not https")
    if parts.username is not None or parts.password is not None:
        problems.append(f"{name} must not contain credentials")
    if parts.fragment:
        problems.append(f"{name} must not contain a fragment")
    if origin_only and (parts.path or parts.query):
        problems.append(f"{name} must be an origin (scheme://host[:port]) without path or trailing slash")
    return problems


def _split_list(raw: str) -> list[str]:
    return [item.strip() for item in raw.split(",") if item.strip()]


def _coerce(raw: str, default: Any, name: str) -> Any:
    if isinstance(default, int):
        try:
            return int(raw.strip())
        except ValueError as exc:
            raise ConfigError(f"{name} must be an integer") from exc
    return raw.strip()


def load_settings(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> Settings:
    """Build settings from ``LEGACY_*`` variables, then apply ``overrides`` (tests), then check them."""
    env = os.environ if environ is None else environ
    base = Settings()
    values: dict[str, Any] = {}
    for f in fields(Settings):
        key = "LEGACY_" + f.name.upper()
        if key in env:
            values[f.name] = _coerce(env[key], getattr(base, f.name), key)
    settings = replace(base, **values)
    if overrides:
        unknown = set(overrides) - {f.name for f in fields(Settings)}
        if unknown:
            raise ConfigError(f"unknown settings: {', '.join(sorted(unknown))}")
        settings = replace(settings, **dict(overrides))
    return settings.check()


def documented_settings() -> list[tuple[str, str]]:
    """``(LEGACY_NAME, default)`` for every setting, in declaration order (``check-config`` prints it)."""
    base = Settings()
    return [("LEGACY_" + f.name.upper(), str(getattr(base, f.name))) for f in fields(Settings)]
