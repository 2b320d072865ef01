"""The legacy host: migration notice and redirects for the old training-system address."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the app from ``LEGACY_*`` variables; ``overrides`` replace single settings (tests).

    Raises ``legacy_redirect.config.ConfigError`` when a setting or the deep-link map is unusable.
    """
    # Imported here, not at module level: prometheus_client fixes its multi-process mode when first
    # imported, and ``legacy-redirect serve`` must set PROMETHEUS_MULTIPROC_DIR before that.
    from legacy_redirect.app import build_app

    return build_app(overrides)
