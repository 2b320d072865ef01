"""因公出国(境)培训项目管理系统 as a relying party of the ministry's sign-on platform."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the training system from ``RP_*`` settings plus ``overrides`` (tests)."""
    from training_rp.app import build_app

    return build_app(overrides)
