"""Error pages for every failure (never a stack trace), and the security headers of every response."""

from __future__ import annotations

import logging

from flask import Flask, Response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from training_rp.errors import N_, RpError

log = logging.getLogger(__name__)

_HTTP_MESSAGES = {
    400: N_("请求无效。"),
    401: N_("请先登录。"),
    403: N_("您没有权限访问此页面。"),
    404: N_("页面不存在。"),
    405: N_("请求方式不被允许。"),
    413: N_("提交的内容过大。"),
}
CSRF_MESSAGE = N_("页面已过期或请求来源无效,请返回后刷新页面重试。")
SERVER_ERROR = N_("系统出现错误,请稍后再试。")


def _page(message: str, status: int) -> tuple[str, int]:
    return render_template("error.html", message=message, status=status), status


def register(app: Flask, https: bool, issuer_origin: str) -> None:
    # The logout form is answered with a redirect to the IdP's end-session endpoint, which
    # form-action must allow (browsers apply it to redirects after a form submission).
    csp = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        f"object-src 'none'; base-uri 'none'; form-action 'self' {issuer_origin}; frame-ancestors 'none'"
    )

    @app.errorhandler(RpError)
    def domain_error(exc: RpError) -> tuple[str, int]:
        log.warning("request failed: %s %s", exc.__class__.__name__, exc.detail)
        return _page(exc.public, exc.status_code)

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> tuple[str, int]:
        log.warning("csrf refused: %s", exc.description)
        return _page(CSRF_MESSAGE, 400)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[str, int] | HTTPException:
        status = exc.code or 500
        if status >= 500:
            return _page(SERVER_ERROR, status)
        return _page(_HTTP_MESSAGES.get(status, _HTTP_MESSAGES[400]), status)

    @app.errorhandler(InternalServerError)
    def server_error(exc: InternalServerError) -> tuple[str, int]:
        original = exc.original_exception
        if isinstance(original, RpError):
            # Raised before a view ran (e.g. the database while opening the session).
            return domain_error(original)
        log.error("unhandled error on %s", request.path, exc_info=original)
        return _page(SERVER_ERROR, 500)

    @app.after_request
    def security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", csp)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        # The callback URL carries a code and state: never hand it on as a referrer.
        headers.setdefault("Referrer-Policy", "no-referrer")
        if "Cache-Control" not in headers and (
            response.mimetype == "text/html" or request.path == "/callback"
        ):
            headers["Cache-Control"] = "no-store"
        if https:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response
