"""A simulator of the national real-name verification source, for the demo and the tests.

A real HTTP service (``national-source-sim serve``) over a synthetic register of people
(:mod:`national_source.register`); it implements the contract documented in
:mod:`idp.realname.source`, plus switches for slow and faulty answers (:mod:`national_source.config`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from national_source.config import load_settings
from national_source.register import Register


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the simulator from ``NATIONAL_SOURCE_*`` settings plus ``overrides``."""
    from national_source.views import RequestCounter, bp

    settings = load_settings(overrides=overrides)
    app = Flask(__name__)
    # The contract's request is a few hundred bytes.
    app.config["MAX_CONTENT_LENGTH"] = 16 * 1024
    app.extensions["national_source.settings"] = settings
    app.extensions["national_source.register"] = Register.load(Path(settings.register))
    app.extensions["national_source.counter"] = RequestCounter()
    app.register_blueprint(bp)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[Response, int]:
        code = (exc.name or "error").lower().replace(" ", "_")
        return jsonify({"error": code}), exc.code or 500

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> tuple[Response, int]:
        app.logger.error("unexpected error: %s", exc.__class__.__name__)
        return jsonify({"error": "internal_error"}), 500

    return app
