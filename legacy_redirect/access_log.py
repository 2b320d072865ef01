"""One JSON line per request, written by a WSGI middleware around the whole app.

Fields: ``time`` (UTC), ``method``, ``path`` (percent-escaped raw bytes, truncated), ``status``,
``referrer_host``, ``request_id``, ``duration_ms``. The query string is never logged: old links may
carry session ids or personal data in it. Escaping keeps CR/LF and invalid UTF-8 from forging log
lines (SECURITY.md, "Personal data and logs").
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from legacy_redirect.referrers import referrer_host

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

LOGGER_NAME = "legacy_redirect.access"
REQUEST_ID_KEY = "legacy_redirect.request_id"
MAX_PATH_LOG = 512
# An upstream id (nginx $request_id) is kept only when it cannot carry anything but an id.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,128}$")
_PATH_SAFE = "/-._~!$&'()*+,;=:@"


def access_logger() -> logging.Logger:
    """The access logger; writes bare JSON lines to stderr unless the host process configured it."""
    logger = logging.getLogger(LOGGER_NAME)
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
    if not any(isinstance(h, logging.StreamHandler) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        # Access lines are already JSON; the root logger's format would wrap them.
        logger.propagate = False
    return logger


def escape_path(path_info: str) -> str:
    """Percent-escape the raw path bytes; WSGI hands them over as latin-1 (PEP 3333)."""
    try:
        raw = path_info.encode("latin-1")
    except UnicodeEncodeError:
        raw = path_info.encode("utf-8", "surrogateescape")
    escaped = quote(raw, safe=_PATH_SAFE)
    if len(escaped) > MAX_PATH_LOG:
        return escaped[:MAX_PATH_LOG] + "...(truncated)"
    return escaped


def request_id_for(environ: WSGIEnvironment) -> str:
    supplied = environ.get("HTTP_X_REQUEST_ID", "")
    if isinstance(supplied, str) and _REQUEST_ID.match(supplied):
        return supplied
    return uuid.uuid4().hex


class AccessLogMiddleware:
    """Assigns the request id (``X-Request-ID`` on the response) and logs the request's outcome."""

    def __init__(self, app: WSGIApplication, logger: logging.Logger | None = None) -> None:
        self.app = app
        self.logger = logger or access_logger()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        started = time.monotonic()
        request_id = request_id_for(environ)
        environ[REQUEST_ID_KEY] = request_id

        def logging_start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], object]:
            headers = [(k, v) for k, v in headers if k.lower() != "x-request-id"]
            headers.append(("X-Request-ID", request_id))
            self._log(environ, status, request_id, started)
            return start_response(status, headers, exc_info)

        return self.app(environ, logging_start_response)

    def _log(self, environ: WSGIEnvironment, status: str, request_id: str, started: float) -> None:
        method = str(environ.get("REQUEST_METHOD", ""))
        host = referrer_host(environ.get("HTTP_REFERER"))
        record = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "method": quote(method[:16], safe=""),
            "path": escape_path(str(environ.get("PATH_INFO", ""))),
            "status": int(status.split(" ", 1)[0]),
            "referrer_host": quote(host, safe=".-[]:") if host else None,
            "request_id": request_id,
            "duration_ms": round((time.monotonic() - started) * 1000, 1),
        }
        self.logger.info(json.dumps(record, ensure_ascii=True, separators=(",", ":")))
