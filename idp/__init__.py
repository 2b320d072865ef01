"""The ministry sign-on platform's OpenID Connect provider."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the IdP from ``IDP_*`` settings plus ``overrides`` (tests)."""
    from idp.app import build_app

    return build_app(overrides)
