"""A WSGI app for exercising deploy/gunicorn/sso.conf.py: it reports which worker answered.

Importing it in a worker registers a live gauge, the kind of per-process file that the config's
``child_exit`` hook must clean up when that worker dies.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import Gauge

IN_FLIGHT = Gauge(
    "sso_probe_in_flight", "Requests being handled by this worker.", multiprocess_mode="livesum"
)
IN_FLIGHT.set(0)


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    body = json.dumps({"pid": os.getpid(), "scheme": environ["wsgi.url_scheme"]}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
