"""Prometheus counters that tell operators how much the old address is still used.

``legacy_visits_total{path_group, referrer}`` counts GET requests for the notice, the deep links
and the instructions; ``legacy_deep_link_redirects_total{old_path}`` counts each map entry used.
Every label value comes from a fixed set or from configuration, never verbatim from a request.

Under ``legacy-redirect serve`` several gunicorn workers count into files in
``PROMETHEUS_MULTIPROC_DIR`` and ``/metrics`` adds them up, so a scrape sees every worker.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable, Mapping

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

PATH_GROUPS = ("root", "deep_link", "instructions", "other")
# Forwarding headers mean the request came through the public proxy, so it is not a local scrape.
_FORWARDING_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


class VisitMetrics:
    def __init__(self) -> None:
        # A registry per app, so that several apps (tests) in one process never collide.
        self.registry = CollectorRegistry()
        self.visits = Counter(
            "legacy_visits",
            "Visits of the old training-system address by path group and referring host",
            ("path_group", "referrer"),
            registry=self.registry,
        )
        self.deep_links = Counter(
            "legacy_deep_link_redirects",
            "Permanent redirects answered per entry of the deep-link map",
            ("old_path",),
            registry=self.registry,
        )

    def visit(self, path_group: str, referrer_label: str) -> None:
        self.visits.labels(path_group=path_group, referrer=referrer_label).inc()

    def deep_link(self, old_path: str) -> None:
        self.deep_links.labels(old_path=old_path).inc()

    def exposition(self) -> tuple[bytes, str]:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def may_read_metrics(
    environ: Mapping[str, object],
    allowed: Iterable[ipaddress.IPv4Network | ipaddress.IPv6Network],
) -> bool:
    """Only direct (unproxied) requests from an allowed network may read ``/metrics``."""
    if any(environ.get(h) for h in _FORWARDING_HEADERS):
        return False
    # ProxyFix keeps the socket peer here when it rewrote REMOTE_ADDR.
    orig = environ.get("werkzeug.proxy_fix.orig")
    peer = orig.get("REMOTE_ADDR") if isinstance(orig, dict) else environ.get("REMOTE_ADDR")
    try:
        address = ipaddress.ip_address(str(peer))
    except ValueError:
        return False
    return any(address in network for network in allowed)
