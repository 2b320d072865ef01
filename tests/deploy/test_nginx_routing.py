"""The shipped nginx sites, run for real in front of three recording backends.

Only the listening ports and the upstream ports are moved (public 80/443 and 8000-8002 may be taken
on a test machine); every other line is what production runs.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
import urllib3

from tests.deploy.nginx_tree import UPSTREAM_PORTS, NginxTree, build_tree, nginx_binary
from tests.support.live import free_port


class Recorder(BaseHTTPRequestHandler):
    """Answers with what it received, so a test can see what nginx forwarded."""

    app_name = "?"
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, each answer waits for a delayed ACK.
    disable_nagle_algorithm = True

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        remaining = length
        while remaining:
            remaining -= len(self.rfile.read(min(remaining, 1 << 16)))
        body = json.dumps(
            {
                "app": self.app_name,
                "method": self.command,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body_len": length,
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        # The app sets its own HSTS too; nginx must not pass a second copy on.
        self.send_header("Strict-Transport-Security", "max-age=1")
        self.end_headers()
        self.wfile.write(body)

    do_GET = _answer
    do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


def start_backend(name: str) -> ThreadingHTTPServer:
    handler = type(f"Recorder_{name}", (Recorder,), {"app_name": name})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@dataclass
class Edge:
    tree: NginxTree
    http_port: int
    https_port: int
    pools: dict[str, urllib3.HTTPSConnectionPool] = field(default_factory=dict)

    def http(self, host: str, path: str = "/", method: str = "GET", **kw: Any) -> requests.Response:
        headers = {"Host": host, **kw.pop("headers", {})}
        return requests.request(
            method,
            f"http://127.0.0.1:{self.http_port}{path}",
            headers=headers,
            allow_redirects=False,
            timeout=10,
            **kw,
        )

    def https(self, host: str, path: str = "/", method: str = "GET", **kw: Any) -> urllib3.BaseHTTPResponse:
        if host not in self.pools:
            self.pools[host] = urllib3.HTTPSConnectionPool(
                "127.0.0.1",
                self.https_port,
                server_hostname=host,
                assert_hostname=host,
                ca_certs=str(self.tree.ca_bundle()),
                cert_reqs="CERT_REQUIRED",
                retries=False,
                timeout=10,
            )
        pool = self.pools[host]
        headers = {"Host": host, **kw.pop("headers", {})}
        return pool.request(method, path, headers=headers, redirect=False, **kw)


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    binary = nginx_binary()
    backends = {name: start_backend(name) for name in UPSTREAM_PORTS}
    http_port, https_port = free_port(), free_port()
    tree = build_tree(
        tmp_path_factory.mktemp("nginx"),
        listen={80: http_port, 443: https_port},
        upstreams={port: backends[name].server_address[1] for name, port in UPSTREAM_PORTS.items()},
    )
    check = tree.test(binary)
    assert check.returncode == 0, check.stderr
    proc = subprocess.Popen(
        [binary, "-p", str(tree.root), "-c", str(tree.conf), "-e", str(tree.error_log), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                requests.get(
                    f"http://127.0.0.1:{http_port}/", headers={"Host": "otm.safea.gov.cn"}, timeout=1
                )
                break
            except requests.RequestException:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log = tree.error_log.read_text(encoding="utf-8")
                    raise RuntimeError(f"nginx did not start: {log[-2000:]}") from None
                time.sleep(0.1)
        yield Edge(tree, http_port, https_port)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for server in backends.values():
            server.shutdown()
            server.server_close()


def seen(response: requests.Response | urllib3.BaseHTTPResponse) -> dict[str, Any]:
    data: dict[str, Any] = response.json()
    return data


@pytest.mark.parametrize(
    ("host", "app"), [("fuwu.most.gov.cn", "idp"), ("otm.safea.gov.cn", "legacy"), ("px.most.gov.cn", "rp")]
)
def test_each_host_reaches_its_app_over_https(edge: Edge, host: str, app: str) -> None:
    response = edge.https(host, "/some/page?x=1")
    assert response.status == 200
    got = seen(response)
    assert got["app"] == app
    assert got["path"] == "/some/page?x=1"
    assert got["headers"]["host"] == host
    assert got["headers"]["x-forwarded-proto"] == "https"
    assert got["headers"]["x-forwarded-for"] == "127.0.0.1"
    assert len(got["headers"]["x-request-id"]) == 32
    # Exactly one HSTS header, nginx's, not the app's short one.
    assert response.headers.getlist("Strict-Transport-Security") == [
        response.headers["Strict-Transport-Security"]
    ]
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "nginx/" not in response.headers.get("Server", "")


def test_old_host_over_http_shows_the_app_not_a_redirect(edge: Edge) -> None:
    response = edge.http("otm.safea.gov.cn", "/login.jsp?from=bookmark")
    assert response.status_code == 200
    got = seen(response)
    assert got["app"] == "legacy"
    assert got["path"] == "/login.jsp?from=bookmark"
    assert got["headers"]["x-forwarded-proto"] == "http"
    assert "Strict-Transport-Security" not in response.headers


@pytest.mark.parametrize("host", ["fuwu.most.gov.cn", "px.most.gov.cn"])
def test_platform_hosts_redirect_http_to_https(edge: Edge, host: str) -> None:
    response = edge.http(host, "/authorize?client_id=a&state=b")
    assert response.status_code == 301
    assert response.headers["Location"] == f"https://{host}/authorize?client_id=a&state=b"


def test_acme_challenges_are_answered_on_port_80(edge: Edge) -> None:
    response = edge.http("fuwu.most.gov.cn", "/.well-known/acme-challenge/missing-token")
    # Served from the ACME web root (absent here), not redirected to HTTPS.
    assert response.status_code == 404


def test_client_supplied_forwarding_headers_do_not_reach_the_app(edge: Edge) -> None:
    got = seen(
        edge.https(
            "fuwu.most.gov.cn",
            headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "http", "X-Request-ID": "forged"},
        )
    )
    assert got["headers"]["x-forwarded-for"] == "127.0.0.1"
    assert got["headers"]["x-forwarded-proto"] == "https"
    assert got["headers"]["x-request-id"] != "forged"


@pytest.mark.parametrize("host", ["fuwu.most.gov.cn", "otm.safea.gov.cn", "px.most.gov.cn"])
def test_metrics_are_not_public(edge: Edge, host: str) -> None:
    response = edge.https(host, "/metrics")
    assert response.status == 404
    assert b'"app"' not in response.data


def test_unknown_host_gets_no_certificate_and_no_page(edge: Edge) -> None:
    with pytest.raises((urllib3.exceptions.SSLError, urllib3.exceptions.ProtocolError)):
        edge.https("evil.example")
    with pytest.raises(requests.ConnectionError):
        edge.http("evil.example")


def test_idp_accepts_a_photo_upload_and_refuses_more_than_6_mb(edge: Edge) -> None:
    ok = edge.https(
        "fuwu.most.gov.cn", "/me/realname/upload", method="POST", body=b"x" * (5 * 1024 * 1024 + 512)
    )
    assert ok.status == 200
    assert seen(ok)["body_len"] == 5 * 1024 * 1024 + 512
    too_big = edge.https(
        "fuwu.most.gov.cn", "/me/realname/upload", method="POST", body=b"x" * (6 * 1024 * 1024 + 1)
    )
    assert too_big.status == 413


def test_old_host_refuses_bodies(edge: Edge) -> None:
    response = edge.http("otm.safea.gov.cn", "/", method="POST", data=b"x" * (100 * 1024))
    assert response.status_code == 413


def test_login_posts_are_throttled_per_address_but_page_views_are_not(edge: Edge) -> None:
    views = [edge.https("fuwu.most.gov.cn", "/login").status for _ in range(40)]
    assert views == [200] * 40
    posts = [
        edge.https(
            "fuwu.most.gov.cn", "/login", method="POST", fields={"username": "a", "password": "b"}
        ).status
        for _ in range(40)
    ]
    # The burst of 15 passes at once; 40 attempts in well under the 8 s the rate would need do not.
    assert posts[:10] == [200] * 10
    assert 429 in posts
    assert set(posts) <= {200, 429}


def test_token_endpoint_has_a_wider_gate(edge: Edge) -> None:
    statuses = [
        edge.https("fuwu.most.gov.cn", "/token", method="POST", body=b"grant_type=x").status
        for _ in range(300)
    ]
    assert statuses[:40] == [200] * 40
    assert 429 in statuses
