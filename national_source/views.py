"""The simulator's HTTP interface: ``POST /v1/verify`` (contract in :mod:`idp.realname.source`)
and ``/healthz``."""

from __future__ import annotations

import hmac
import logging
import threading
import time
import uuid
from datetime import date
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from national_source.config import SourceSettings
from national_source.register import Register

bp = Blueprint("source", __name__)
log = logging.getLogger(__name__)
MAX_FIELD = 64


class RequestCounter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.value = 0

    def next(self) -> int:
        with self._lock:
            self.value += 1
            return self.value


def _error(status: int, code: str) -> Response:
    response = jsonify({"error": code})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="national-source"'
    return response


def _authorised(settings: SourceSettings) -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), settings.token.encode())


def _field(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_FIELD:
        return None
    return value.strip()


@bp.get("/healthz")
def healthz() -> Response:
    register: Register = current_app.extensions["national_source.register"]
    return jsonify({"status": "ok", "people": len(register)})


@bp.post("/v1/verify")
def verify() -> Response:
    settings: SourceSettings = current_app.extensions["national_source.settings"]
    register: Register = current_app.extensions["national_source.register"]
    counter: RequestCounter = current_app.extensions["national_source.counter"]
    if not _authorised(settings):
        return _error(401, "invalid_token")
    if settings.delay:
        time.sleep(settings.delay)
    if counter.next() <= settings.fail_first:
        return _error(503, "temporarily_unavailable")
    if settings.fault == "error":
        return _error(500, "internal_error")
    if settings.fault == "garbage":
        return Response("<html><body>502 Bad Gateway?</body></html>", status=200, mimetype="text/html")
    if settings.fault == "wrong_shape":
        return jsonify({"result": "yes", "verified": True})
    if settings.fault == "redirect":
        return Response("", status=302, headers={"Location": "http://127.0.0.1:9/elsewhere"})
    if not request.is_json:
        return _error(415, "unsupported_media_type")
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return _error(400, "invalid_json")
    name, id_number, birth = (_field(data, key) for key in ("name", "id_number", "birth_date"))
    if name is None or id_number is None or birth is None:
        return _error(400, "missing_or_invalid_field")
    try:
        birth_date = date.fromisoformat(birth)
    except ValueError:
        return _error(400, "invalid_birth_date")
    result = register.check(name, id_number, birth_date)
    reference = f"NSS-{uuid.uuid4().hex[:24]}"
    # The answer and its reference only: the simulator never logs names or ID numbers either.
    log.info("verification %s: %s", reference, result)
    return jsonify({"result": result, "reference": reference})
