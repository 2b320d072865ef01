"""Request ids, one JSON log line per request, Prometheus metrics and the client's IP address.

* A request id comes from a well-formed ``X-Request-ID`` (set by the reverse proxy) or is generated;
  it is echoed in the response and carried by every log line and audit row of the request.
* Log lines are JSON objects (or, with :class:`EscapingFormatter`, text with CR/LF escaped), so text a
  visitor controls (a path, a login name) can never forge a second log line.
* Metrics count requests and their latency per endpoint. Under gunicorn with several workers set
  ``PROMETHEUS_MULTIPROC_DIR`` to an empty directory before start; ``/metrics`` then sums every
  worker, and the gunicorn ``child_exit`` hook should call :func:`mark_worker_dead`.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, abort, g, has_request_context, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from idp.context import services
from idp.realname.masking import RedactingFilter, redact

REQUEST_ID_HEADER = "X-Request-ID"
#: What a request id from outside may look like; anything else is replaced, so ids stay safe to log.
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
KNOWN_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
MAX_LOGGED_PATH = 512

access_log = logging.getLogger("idp.access")
log = logging.getLogger(__name__)

REQUESTS = Counter(
    "idp_http_requests_total", "HTTP requests answered by the IdP.", ["endpoint", "method", "status"]
)
LATENCY = Histogram(
    "idp_http_request_duration_seconds",
    "Time from receiving a request to handing back its response.",
    ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


# --- request id and client address ---------------------------------------------------------------------


def request_id() -> str:
    """The current request's id (generated on first use outside the normal hook order)."""
    rid: str | None = g.get("request_id")
    if rid is None:
        rid = _incoming_request_id()
        g.request_id = rid
    return rid


def _incoming_request_id() -> str:
    supplied = request.headers.get(REQUEST_ID_HEADER, "")
    if SAFE_REQUEST_ID.fullmatch(supplied):
        return supplied
    return uuid.uuid4().hex


def client_ip() -> str:
    """The client's address; behind ``settings.trusted_proxies`` proxies, from ``X-Forwarded-For``.

    Each trusted proxy appends the address it received the connection from, so the address of the
    client is the N-th entry from the right; entries further left are whatever the client sent and
    are ignored.
    """
    cached: str | None = g.get("client_ip")
    if cached is not None:
        return cached
    address = _normalise_ip(request.remote_addr or "")
    hops = services().settings.trusted_proxies
    if hops > 0:
        forwarded = [
            part.strip() for value in request.headers.getlist("X-Forwarded-For") for part in value.split(",")
        ]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= hops:
            address = _normalise_ip(forwarded[-hops]) or address
    g.client_ip = address or "unknown"
    return str(g.client_ip)


def _normalise_ip(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return ""


# --- logging --------------------------------------------------------------------------------------------


def escape_control(text: str) -> str:
    """``text`` with CR, LF and other control characters shown as escapes (no forged log lines)."""
    return "".join(
        ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii") for ch in text
    )


def _current_request_id() -> str | None:
    if has_request_context():
        rid: str | None = g.get("request_id")
        return rid
    return None


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id and any ``fields`` extra."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", None) or _current_request_id()
        if rid:
            entry["request_id"] = rid
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        # json.dumps escapes CR, LF and every other control character.
        return json.dumps(entry, ensure_ascii=False, default=str)


class EscapingFormatter(logging.Formatter):
    """Plain text logs with every control character escaped, tracebacks included."""

    def format(self, record: logging.LogRecord) -> str:
        return escape_control(super().format(record))


def configure_logging(level: str = "INFO", json_lines: bool = True) -> None:
    """Send every log record to stderr, one line each (the process entry points call this once)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter() if json_lines else EscapingFormatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    # ID numbers and mobiles are masked in every line, whoever logs them.
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Authlib logs issued tokens at DEBUG; tokens never go to the log.
    logging.getLogger("authlib").setLevel(max(logging.INFO, root.level))


def _ensure_access_log_output() -> None:
    # Without any configured handler Python drops INFO records; the access log must not vanish.
    if not logging.getLogger().handlers and not access_log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        access_log.addHandler(handler)
        access_log.setLevel(logging.INFO)
        access_log.propagate = False


# --- metrics --------------------------------------------------------------------------------------------


def metrics_payload() -> tuple[bytes, str]:
    """The Prometheus exposition of this process, or of all workers in multi-process mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def mark_worker_dead(pid: int) -> None:
    """For gunicorn's ``child_exit`` hook: forget the live gauges of a finished worker."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


def _scraper_allowed() -> bool:
    # Metrics are for the monitoring system on the internal network, which scrapes the app port
    # directly; anything relayed by the public reverse proxy carries X-Forwarded-For and is refused.
    if "X-Forwarded-For" in request.headers or "Forwarded" in request.headers:
        return False
    try:
        peer = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return peer.is_loopback or peer.is_private


def metrics_view() -> Response:
    if not _scraper_allowed():
        abort(404)
    body, content_type = metrics_payload()
    return Response(body, content_type=content_type, headers={"Cache-Control": "no-store"})


# --- hooks ----------------------------------------------------------------------------------------------


def _start() -> None:
    g.request_started = time.perf_counter()
    request_id()


def _finish(response: Response) -> Response:
    started: float = g.get("request_started", time.perf_counter())
    duration = time.perf_counter() - started
    endpoint = request.url_rule.endpoint if request.url_rule is not None else "unmatched"
    method = request.method if request.method in KNOWN_METHODS else "OTHER"
    REQUESTS.labels(endpoint=endpoint, method=method, status=str(response.status_code)).inc()
    LATENCY.labels(endpoint=endpoint).observe(duration)
    response.headers[REQUEST_ID_HEADER] = request_id()
    access_log.info(
        "request",
        extra={
            "fields": {
                "method": method,
                "path": escape_control(redact(request.path[:MAX_LOGGED_PATH])),
                "status": response.status_code,
                "duration_ms": round(duration * 1000, 1),
                "request_id": request_id(),
                "ip": client_ip(),
                "endpoint": endpoint,
            }
        },
    )
    return response


def init_app(app: Flask) -> None:
    """Install request ids, the access log, metrics and ``GET /metrics`` on ``app``."""
    _ensure_access_log_output()
    app.before_request(_start)
    app.after_request(_finish)
    app.add_url_rule("/metrics", endpoint="metrics", view_func=metrics_view, methods=["GET"])
