"""The three apps' own settings loaders, for checking deployment files against them."""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import fields
from typing import Any

import idp.config
import legacy_redirect.config
import training_rp.config

#: Read straight from the environment at import time rather than through ``Settings``.
MODULE_LEVEL = {"IDP_INSTANCE_DIR", "RP_INSTANCE_DIR"}
#: Read by deploy/gunicorn/sso.conf.py and prometheus_client, not by the apps.
SERVER_LEVEL_PREFIXES = ("GUNICORN_", "PROMETHEUS_MULTIPROC_DIR", "WEB_CONCURRENCY")

LOADERS: dict[str, tuple[Callable[..., Any], type]] = {
    "IDP_": (idp.config.load_settings, idp.config.Settings),
    "LEGACY_": (legacy_redirect.config.load_settings, legacy_redirect.config.Settings),
    "RP_": (training_rp.config.load_settings, training_rp.config.Settings),
}


def known_names(prefix: str) -> set[str]:
    _loader, settings = LOADERS[prefix]
    return {prefix + f.name.upper() for f in fields(settings) if f.name != "extra"} | {
        n for n in MODULE_LEVEL if n.startswith(prefix)
    }


def is_setting(name: str) -> bool:
    for prefix in LOADERS:
        if name.startswith(prefix):
            return name in known_names(prefix)
    return name.startswith(SERVER_LEVEL_PREFIXES)


def made_up_secret(name: str) -> str:
    """A fresh value of the right shape for a secret the deployment leaves to the operator."""
    if name.endswith("OLD_DATA_KEYS"):
        return ""
    if name.endswith("DATA_KEY"):
        return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    if name.endswith("DATABASE_URL"):
        return "postgresql+psycopg://app:pw@db.internal:5432/app"
    if name.endswith("REDIS_URL"):
        return "redis+sentinel://:pw@10.0.0.11:26379,10.0.0.12:26379,10.0.0.13:26379/sso/0"
    return secrets.token_urlsafe(40)


def load(prefix: str, environ: Mapping[str, str]) -> Any:
    """The app's checked settings from ``environ`` (raises the app's ConfigError when refused)."""
    loader, _settings = LOADERS[prefix]
    return loader({k: v for k, v in environ.items() if k.startswith(prefix)})
