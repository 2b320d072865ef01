"""deploy/local-cluster/: two real IdP nodes on PostgreSQL and Redis behind nginx, on one machine."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.deploy.nginx_tree import nginx_binary
from tests.support.live import ROOT, free_port
from tests.support.services import redis_url, scratch_postgres_database

pytestmark = pytest.mark.services
SCRIPTS = ROOT / "deploy" / "local-cluster"


def idp_command(tmp_path: Path) -> str:
    """The installed ``idp`` script, or an equivalent one over this checkout (not pip-installed)."""
    installed = shutil.which("idp") or shutil.which("idp", path=str(Path(sys.executable).parent))
    if installed:
        return installed
    wrapper = tmp_path / "idp"
    wrapper.write_text(
        f"#!/bin/sh\ncd {ROOT} && exec {sys.executable} -c "
        "'import sys; from idp.cli import run; sys.exit(run())' \"$@\"\n"
    )
    wrapper.chmod(0o755)
    return str(wrapper)


@dataclass
class Cluster:
    url: str
    nodes: list[str]
    directory: Path
    env: dict[str, str]


def run_script(name: str, env: dict[str, str], timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPTS / name)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    nginx = nginx_binary()
    store = redis_url()
    tmp = tmp_path_factory.mktemp("cluster")
    with scratch_postgres_database() as database:
        env = {
            "IDP_DATABASE_URL": database,
            "IDP_REDIS_URL": store,
            "IDP_REDIS_PREFIX": f"cluster-{uuid.uuid4().hex[:8]}:",
            "CLUSTER_IDP_COMMAND": idp_command(tmp),
            "CLUSTER_NGINX_BIN": nginx,
            "CLUSTER_DIR": str(tmp / "state"),
            "CLUSTER_LB_PORT": str(free_port()),
            "CLUSTER_NODE_PORTS": f"{free_port()} {free_port()}",
            "CLUSTER_WORKERS": "1",
        }
        result = run_script("run.sh", env)
        try:
            assert result.returncode == 0, result.stderr[-3000:]
            lines = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
            yield Cluster(
                lines["CLUSTER_URL"], lines["CLUSTER_NODES"].split(), Path(lines["CLUSTER_DIR"]), env
            )
        finally:
            run_script("stop.sh", env, timeout=120)


def test_the_balancer_alternates_between_the_nodes(cluster: Cluster) -> None:
    served_by = set()
    for _ in range(6):
        response = requests.get(cluster.url + "/readyz", timeout=10)
        assert response.status_code == 200
        served_by.add(response.headers["X-Upstream-Node"])
    assert served_by == {node.removeprefix("http://") for node in cluster.nodes}


def test_every_node_publishes_the_same_issuer_and_keys(cluster: Cluster) -> None:
    discovery = [
        requests.get(node + "/.well-known/openid-configuration", timeout=10).json() for node in cluster.nodes
    ]
    jwks = [requests.get(node + "/jwks", timeout=10).json() for node in cluster.nodes]
    assert discovery[0] == discovery[1]
    assert discovery[0]["issuer"] == cluster.url
    assert jwks[0] == jwks[1] and jwks[0]["keys"]


def test_a_second_start_is_refused_and_leaves_the_first_running(cluster: Cluster) -> None:
    result = run_script("run.sh", cluster.env, timeout=60)
    assert result.returncode == 1
    assert "already running" in result.stderr
    assert requests.get(cluster.url + "/readyz", timeout=10).status_code == 200


def test_stop_ends_the_balancer_and_both_nodes(cluster: Cluster) -> None:
    pids = [int(p.read_text(encoding="utf-8")) for p in sorted(cluster.directory.glob("*.pid"))]
    assert len(pids) == 3
    result = run_script("stop.sh", cluster.env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert sorted(cluster.directory.glob("*.pid")) == []
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text(
            encoding="utf-8"
        )
    for url in [cluster.url, *cluster.nodes]:
        with pytest.raises(requests.ConnectionError):
            requests.get(url + "/healthz", timeout=5)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"IDP_DATABASE_URL": ""}, "IDP_DATABASE_URL must name"),
        ({"IDP_REDIS_URL": ""}, "IDP_REDIS_URL must name"),
        ({"CLUSTER_LB_PORT": "81a"}, "CLUSTER_LB_PORT must be a port number"),
        ({"CLUSTER_LB_PORT": "70000"}, "CLUSTER_LB_PORT must be a port number"),
        ({"CLUSTER_NODE_PORTS": "8100"}, "at least two ports"),
        ({"CLUSTER_NODE_PORTS": "8100 $(reboot)"}, "CLUSTER_NODE_PORTS must hold port numbers"),
        ({"CLUSTER_NODE_PORTS": "8180 8101"}, "is also the balancer's"),
        ({"CLUSTER_WORKERS": "0"}, "CLUSTER_WORKERS must be between 1 and 64"),
        ({"CLUSTER_IDP_COMMAND": "/nonexistent/idp"}, "the idp command was not found"),
    ],
)
def test_bad_settings_stop_before_anything_starts(tmp_path: Path, env: dict[str, str], message: str) -> None:
    base = {
        "IDP_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:5432/test",
        "IDP_REDIS_URL": "redis://127.0.0.1:6379/15",
        "CLUSTER_IDP_COMMAND": "true",
        "CLUSTER_DIR": str(tmp_path / "state"),
        "CLUSTER_LB_PORT": "8180",
    }
    result = run_script("run.sh", {**base, **env}, timeout=30)
    assert result.returncode == 2
    assert message in result.stderr
    assert not (tmp_path / "state").exists()
