"""Assembly of the legacy-host Flask app: settings, routing rules, language, headers, logging."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, request
from flask_babel import Babel
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import BaseConverter
from werkzeug.wrappers import Response

from legacy_redirect.access_log import REQUEST_ID_KEY, AccessLogMiddleware
from legacy_redirect.config import load_settings
from legacy_redirect.error_pages import register_error_handlers
from legacy_redirect.language import HTML_LANG, choose_locale
from legacy_redirect.security import apply_security_headers
from legacy_redirect.state import LegacyHost, build_state
from legacy_redirect.views import EXTENSION_KEY, blueprint, locale_code, query_args, render_notice

log = logging.getLogger(__name__)


class AnyPathConverter(BaseConverter):
    """Matches every remaining path, including ones that start with or hold ``//``."""

    regex = r"[\s\S]*"
    part_isolating = False


def build_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    settings = load_settings(overrides=overrides)
    state = build_state(settings)

    app = Flask(__name__, static_folder="static", static_url_path="/assets")
    app.extensions[EXTENSION_KEY] = state
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 86400
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024  # nothing here takes a body
    # Werkzeug answers "//x" and missing slashes with redirects built from the Host header; the old
    # host must never emit a Location it did not read from configuration.
    app.url_map.merge_slashes = False
    app.url_map.strict_slashes = False
    app.url_map.converters["anypath"] = AnyPathConverter

    def select_locale() -> str:
        return choose_locale(query_args(), request.cookies, request.accept_languages, settings.default_locale)

    Babel(app, locale_selector=select_locale, default_locale=settings.default_locale)

    @app.context_processor
    def page_context() -> dict[str, Any]:
        code = locale_code()
        return {"settings": settings, "locale_code": code, "html_lang": HTML_LANG.get(code, "zh-CN")}

    app.register_blueprint(blueprint)
    register_error_handlers(app)

    @app.after_request
    def finish(response: Response) -> Response:
        _suppress_unknown_location(response, state)
        return apply_security_headers(response, request.is_secure, settings.hsts_max_age)

    wsgi = app.wsgi_app
    if settings.trusted_proxies:
        # Only the client address and scheme are taken from the proxy; never the host or prefix.
        n = settings.trusted_proxies
        wsgi = ProxyFix(wsgi, x_for=n, x_proto=n, x_host=0, x_port=0, x_prefix=0)
    app.wsgi_app = AccessLogMiddleware(wsgi)  # type: ignore[method-assign]
    return app


def _suppress_unknown_location(response: Response, state: LegacyHost) -> None:
    location = response.headers.get("Location")
    if location is None or location in state.allowed_locations():
        return
    log.error(
        "suppressed a redirect to an unconfigured location (request id %s)",
        request.environ.get(REQUEST_ID_KEY),
    )
    replacement = render_notice(state, 200)
    response.status_code = replacement.status_code
    response.headers.clear()
    response.headers.extend(replacement.headers)
    response.set_data(replacement.get_data())
