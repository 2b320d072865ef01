"""How errors reach a browser (or an API client): a page with a public text, never a trace.

``DomainError`` shows its public text with its status; ``StoreUnavailable`` a 503 page saying to try
again soon; HTTP errors their own page; anything unexpected a plain 500 page, logged with the
request id so an operator can find the trace. Clients that ask for JSON get
``{"error", "error_description"}`` instead of HTML.
"""

from __future__ import annotations

import json
import logging
from typing import cast

from flask import Flask, Response, g, render_template, request
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from idp.errors import DomainError, StoreUnavailable
from idp.observability import request_id
from idp.web.i18n import translate

log = logging.getLogger(__name__)

#: Retry-After on 503 pages: the store usually comes back within seconds.
RETRY_AFTER_SECONDS = 30


def _http_texts() -> dict[int, tuple[str, str]]:
    return {
        400: (gettext("请求无效"), gettext("提交的内容不完整或格式不正确,请返回后重试。")),
        403: (gettext("无权访问"), gettext("您没有访问此页面的权限。")),
        404: (gettext("页面不存在"), gettext("您访问的页面不存在或已被移除。")),
        405: (gettext("请求方式不被支持"), gettext("此页面不支持这种请求方式。")),
        413: (gettext("提交的内容过大"), gettext("提交的内容超过了允许的大小。")),
        429: (gettext("请求过于频繁"), gettext("请稍后再试。")),
        500: (gettext("系统错误"), gettext("系统暂时出现问题,请稍后再试。")),
        503: (gettext("服务暂时不可用"), gettext("服务暂时不可用,请稍后再试。")),
    }


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return (
        best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def error_response(status: int, title: str, message: str, error: str = "error") -> Response:
    if _wants_json():
        body = json.dumps({"error": error, "error_description": message}, ensure_ascii=False)
        response = Response(body, status=status, mimetype="application/json")
    else:
        try:
            body = render_template("errors/error.html", status=status, title=title, message=message)
        except Exception:  # noqa: BLE001 - an error page that cannot render still must not show a trace
            log.exception("error page failed to render", extra={"fields": {"status": status}})
            body = f"{status} {title}"
            return Response(body, status=status, mimetype="text/plain")
        response = Response(body, status=status, mimetype="text/html")
    if status == 503:
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def handle_store_unavailable(exc: StoreUnavailable) -> Response:
    g.store_down = True
    log.warning("short-lived store unavailable", extra={"fields": {"detail": exc.detail}})
    title, message = _http_texts()[503]
    return error_response(503, title, message, "temporarily_unavailable")


def handle_domain_error(exc: DomainError) -> Response:
    if isinstance(exc, StoreUnavailable):
        return handle_store_unavailable(exc)
    log.info("domain error", extra={"fields": {"kind": type(exc).__name__, "detail": exc.detail}})
    title = _http_texts().get(exc.status_code, _http_texts()[400])[0]
    return error_response(exc.status_code, title, translate(exc.public), "invalid_request")


def handle_csrf_error(exc: CSRFError) -> Response:
    log.info("csrf refused", extra={"fields": {"reason": exc.description}})
    return error_response(
        400,
        gettext("页面已过期"),
        gettext("页面已过期或请求来源无法确认,请返回并刷新页面后重试。"),
        "invalid_request",
    )


def handle_http_error(exc: HTTPException) -> Response:
    if exc.response is not None:
        # A view aborted with a response of its own (an OAuth error body, say): keep it.
        return cast(Response, exc.response)
    status = exc.code or 500
    title, message = _http_texts().get(status, (exc.name, gettext("请求无法处理。")))
    response = error_response(status, title, message, "invalid_request" if status < 500 else "server_error")
    if status == 405:
        allowed = getattr(exc, "valid_methods", None)
        if allowed:
            response.headers["Allow"] = ", ".join(allowed)
    return response


def handle_unexpected(exc: Exception) -> Response:
    if isinstance(exc, HTTPException):
        return handle_http_error(exc)
    log.exception("unexpected error", extra={"fields": {"request_id": request_id()}})
    title, message = _http_texts()[500]
    return error_response(500, title, message, "server_error")


def init_app(app: Flask) -> None:
    app.register_error_handler(StoreUnavailable, handle_store_unavailable)
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected)
