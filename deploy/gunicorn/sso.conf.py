"""Gunicorn settings shared by the three apps: the IdP, the legacy host and the training system.

Start one app per gunicorn master, naming the app and the address on the command line::

    gunicorn --config deploy/gunicorn/sso.conf.py --bind 127.0.0.1:8000 'idp:create_app()'
    gunicorn --config deploy/gunicorn/sso.conf.py --bind 127.0.0.1:8001 'legacy_redirect:create_app()'
    gunicorn --config deploy/gunicorn/sso.conf.py --bind 127.0.0.1:8002 'training_rp:create_app()'

Environment read here (all optional):

``GUNICORN_WORKERS``          worker processes; falls back to ``WEB_CONCURRENCY``, then
                              2 x cores + 1 (at most 8).
``GUNICORN_THREADS``          threads per worker (default 4): a thread waiting on the verification
                              source or a back-channel logout does not hold a whole process.
``GUNICORN_TIMEOUT``          seconds a silent worker may take before it is killed (default 30).
``GUNICORN_GRACEFUL_TIMEOUT`` seconds a worker gets to finish its requests on stop or reload (default 30).
``GUNICORN_KEEPALIVE``        seconds an idle proxy connection is kept (default 10; nginx's upstream
                              ``keepalive_timeout`` is shorter, so nginx never reuses a closed one).
``GUNICORN_FORWARDED_ALLOW_IPS`` peers whose ``X-Forwarded-Proto`` is believed (default the
                              local nginx: ``127.0.0.1,::1``; ``*`` only where nothing but the
                              ingress can reach the pod).
``GUNICORN_MAX_REQUESTS``     requests after which a worker is replaced (default 5000, with jitter).
``GUNICORN_LOG_LEVEL``        gunicorn's own log level (default info).
``GUNICORN_PROC_NAME``        process title, where setproctitle is installed.
``PROMETHEUS_MULTIPROC_DIR``  directory shared by the workers' metric files; emptied when the master
                              starts and cleaned after each worker exits.

A bad value stops gunicorn with a one-line message and exit status 1.
"""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path
from typing import Any


def _positive_int(name: str, default: int, maximum: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    # ASCII digits only: int() would also take "٣" or "1_000".
    value = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 9 else 0
    if not 1 <= value <= maximum:
        raise SystemExit(f"{name} must be a positive integer up to {maximum}, got {raw[:40]!r}")
    return value


def _default_workers() -> int:
    # Eight keeps argon2id's memory cost per concurrent login within a modest machine; raise it explicitly.
    return min(2 * multiprocessing.cpu_count() + 1, 8)


workers = _positive_int("GUNICORN_WORKERS", _positive_int("WEB_CONCURRENCY", _default_workers(), 64), 64)
threads = _positive_int("GUNICORN_THREADS", 4, 64)
worker_class = "gthread"
timeout = _positive_int("GUNICORN_TIMEOUT", 30, 3600)
graceful_timeout = _positive_int("GUNICORN_GRACEFUL_TIMEOUT", 30, 3600)
keepalive = _positive_int("GUNICORN_KEEPALIVE", 10, 300)

# Recycle workers now and then so a slow leak cannot grow without bound; the jitter keeps them
# from restarting all at once.
max_requests = _positive_int("GUNICORN_MAX_REQUESTS", 5000, 10_000_000)
max_requests_jitter = max(1, max_requests // 10)

# Authorization requests carry long query strings (state, nonce, PKCE challenge, claims); 8190 is
# gunicorn's ceiling and matches nginx's large header buffers.
limit_request_line = 8190

# The apps write one JSON line per request themselves, with the request id; a second, unstructured
# access log would only duplicate it (and would hold codes in query strings).
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# The heartbeat file goes to memory: the root filesystem is read-only under Kubernetes and systemd.
worker_tmp_dir = "/dev/shm" if Path("/dev/shm").is_dir() else None  # noqa: S108 - tmpfs, not a shared /tmp

proc_name = os.environ.get("GUNICORN_PROC_NAME") or None


def _metrics_dir() -> Path | None:
    raw = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.environ.get("prometheus_multiproc_dir")
    return Path(raw) if raw else None


def on_starting(server: Any) -> None:
    """Before any worker forks: give the workers an empty metrics directory.

    Files left by the previous master belong to processes that no longer exist; summing them in
    would report counters that never happened in this run.
    """
    directory = _metrics_dir()
    if directory is None:
        if workers > 1:
            server.log.warning("PROMETHEUS_MULTIPROC_DIR is unset: /metrics shows only the answering worker")
        return
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink(missing_ok=True)


def child_exit(server: Any, worker: Any) -> None:
    """A worker is gone (stopped, recycled or killed): drop its live gauges from the metrics."""
    directory = _metrics_dir()
    if directory is None:
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid, str(directory))  # type: ignore[no-untyped-call]
