"""Error pages: every failure is a short bilingual page, never a stack trace.

A 404 (only possible under our own ``/assets/`` and a refused ``/metrics``) shows the notice, since
a visitor of the old host is best served by it whatever the path.
"""

from __future__ import annotations

import logging

from flask import Flask, make_response, render_template, request
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.wrappers import Response

from legacy_redirect.access_log import REQUEST_ID_KEY
from legacy_redirect.views import render_notice, state

log = logging.getLogger(__name__)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        if isinstance(error, NotFound):
            return render_notice(state(), 404)
        code = error.code or 400
        response = make_response(render_template("error.html", code=code), code)
        for name, value in error.get_headers():
            if name.lower() == "allow":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        log.exception("unexpected error (request id %s)", request.environ.get(REQUEST_ID_KEY))
        return make_response(render_template("error.html", code=500), 500)
