"""``legacy-redirect serve`` as a real gunicorn server: raw hostile requests, HEAD, metrics from
several workers, JSON log lines."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.legacy_redirect.conftest import LiveServer

ROOT = Path(__file__).resolve().parents[2]


def raw_request(server: LiveServer, request: bytes) -> tuple[int, dict[str, str]]:
    """Send bytes no HTTP client library would send; return the status and headers."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    status = int(head[0].split(" ")[1])
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers


RAW_PROBES = [
    b"GET //evil.example HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
    b"GET /\\evil.example HTTP/1.1\r\nHost: otm\r\nConnection: close\r\n\r\n",
    b"GET /%2F%2Fevil.example HTTP/1.1\r\nHost: otm\r\nConnection: close\r\n\r\n",
    b"GET /login.jsp HTTP/1.1\r\nHost: evil.example\r\nX-Forwarded-Host: evil.example\r\n"
    b"X-Forwarded-Proto: https\r\nConnection: close\r\n\r\n",
    b"GET /\xff\xfe\xc0\xaf HTTP/1.1\r\nHost: otm\r\nConnection: close\r\n\r\n",
    b"GET /login.jsp\xff HTTP/1.1\r\nHost: otm\r\nConnection: close\r\n\r\n",
    b"GET /%0d%0aLocation:%20https://evil.example HTTP/1.1\r\nHost: otm\r\nConnection: close\r\n\r\n",
    b"GET /a\rLocation: https://evil.example HTTP/1.1\r\nHost: otm\r\nConnection: close\r\n\r\n",
    b"GET /?next=//evil.example&url=https://evil.example HTTP/1.1\r\nHost: otm\r\nConnection: close\r\n\r\n",
    b"GET /" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: otm\r\nConnection: close\r\n\r\n",
    b"GET http://evil.example/login.jsp HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
]


@pytest.mark.parametrize("probe", RAW_PROBES, ids=lambda p: repr(p[:40]))
def test_raw_hostile_requests(live_server: LiveServer, probe: bytes) -> None:
    status, headers = raw_request(live_server, probe)
    assert status < 500
    assert headers.get("location") in (None, live_server.login_url, live_server.url + "/")
    assert "evil.example" not in json.dumps(headers)


def test_notice_and_head_over_http(live_server: LiveServer) -> None:
    get = requests.get(live_server.url + "/old/bookmark.jsp", timeout=10)
    assert get.status_code == 200
    assert "您正在进入" in get.text
    head = requests.head(live_server.url + "/old/bookmark.jsp", timeout=10)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["Content-Length"] == get.headers["Content-Length"]
    deep = requests.head(live_server.url + "/login.jsp", timeout=10, allow_redirects=False)
    assert (deep.status_code, deep.headers["Location"]) == (301, live_server.login_url)


def test_visits_from_all_workers_add_up(live_server: LiveServer) -> None:
    def visit(_: int) -> int:
        response = requests.get(
            live_server.url + "/", headers={"Referer": "https://www.sogou.com/web?q=otm"}, timeout=10
        )
        return response.status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert set(pool.map(visit, range(60))) == {200}
    text = requests.get(live_server.url + "/metrics", timeout=10).text
    counted = [
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "legacy_visits_total"
        and sample.labels == {"path_group": "root", "referrer": "www.sogou.com"}
    ]
    assert counted == [60.0]


def test_metrics_refused_to_proxied_requests(live_server: LiveServer) -> None:
    response = requests.get(
        live_server.url + "/metrics", headers={"X-Forwarded-For": "127.0.0.1"}, timeout=10
    )
    assert response.status_code == 404
    assert "legacy_visits" not in response.text


def test_access_log_lines_are_json(live_server: LiveServer) -> None:
    request_id = "live-test-request-0001"
    requests.get(
        live_server.url + "/index.jsp?token=secret-value",
        headers={"X-Request-ID": request_id, "Referer": "https://fuwu.most.gov.cn/"},
        allow_redirects=False,
        timeout=10,
    )
    lines = [line for line in live_server.log_path.read_text().splitlines() if request_id in line]
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["path"] == "/index.jsp"
    assert record["status"] == 301
    assert record["referrer_host"] == "fuwu.most.gov.cn"
    assert "secret-value" not in live_server.log_path.read_text()


def test_serve_with_bad_configuration_exits_78() -> None:
    env = {**os.environ, "LEGACY_ENV": "production", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "legacy_redirect", "serve", "--port", "1"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 78
    assert "refusing to start in production" in result.stderr
    assert "Traceback" not in result.stderr
