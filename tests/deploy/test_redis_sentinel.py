"""deploy/redis/: the shipped data-node and Sentinel files, run as one master, one replica and
three sentinels on loopback, with the IdP's own Redis adapter finding the master through them.

Only addresses, ports, directories and the password placeholder change; every other line is the
shipped one.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest
import redis

from idp.errors import StoreUnavailable
from idp.store.redis import RedisStore
from tests.deploy.nginx_tree import substitute
from tests.support.live import ROOT, free_port
from tests.support.services import unavailable

REDIS_DIR = ROOT / "deploy" / "redis"
PASSWORD = "test-only-redis-password"


def eventually(check: Callable[[], Any], seconds: float = 30) -> Any:
    """The first truthy result of ``check``, retried while it is falsy or raises a Redis error."""
    deadline = time.monotonic() + seconds
    last: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except (redis.RedisError, StoreUnavailable) as exc:
            last = exc
        time.sleep(0.2)
    raise AssertionError(f"condition not met in {seconds} s (last error: {last!r})")


@dataclass
class Topology:
    master_port: int
    replica_port: int
    sentinel_ports: list[int]

    def sentinel(self, index: int = 0) -> Any:
        """A client of one sentinel (Any: redis-py types its sentinel replies as unions)."""
        return redis.Redis(port=self.sentinel_ports[index], socket_timeout=2, decode_responses=True)

    def master_port_now(self, index: int = 0) -> int:
        _host, port = self.sentinel(index).sentinel_get_master_addr_by_name("sso")
        return int(port)

    @property
    def url(self) -> str:
        nodes = ",".join(f"127.0.0.1:{p}" for p in self.sentinel_ports)
        return f"redis+sentinel://:{PASSWORD}@{nodes}/sso/0"


def sentinel_sees_everyone(topo: Topology, index: int) -> bool:
    state = topo.sentinel(index).sentinel_master("sso")
    return bool(state["num-other-sentinels"] == 2 and state["num-slaves"] == 1)


@pytest.fixture(scope="module")
def topology(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    server = shutil.which("redis-server")
    if not server:
        unavailable("redis-server is not installed (apt-get install redis-server)")
        raise AssertionError("unreachable")
    root = tmp_path_factory.mktemp("redis")
    master_port, replica_port = free_port(), free_port()
    sentinel_ports = [free_port() for _ in range(3)]
    procs: list[subprocess.Popen[bytes]] = []

    def start(args: list[str], name: str) -> None:
        log = open(root / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process below
        procs.append(subprocess.Popen([server, *args], stdout=log, stderr=subprocess.STDOUT))

    try:
        data_conf = root / "sso-data.conf"
        shutil.copy(REDIS_DIR / "sso-data.conf", data_conf)
        for name, port, extra in (
            ("master", master_port, []),
            ("replica", replica_port, ["--replicaof", "127.0.0.1", str(master_port)]),
        ):
            (root / name).mkdir()
            start(
                [
                    str(data_conf),
                    "--bind", "127.0.0.1",
                    "--port", str(port),
                    "--dir", str(root / name),
                    "--maxmemory", "64mb",
                    "--requirepass", PASSWORD,
                    "--masterauth", PASSWORD,
                    *extra,
                ],
                name,
            )  # fmt: skip
        template = (REDIS_DIR / "sentinel.conf").read_text(encoding="utf-8")
        for index, port in enumerate(sentinel_ports):
            text = substitute(template, r"^bind .*$", "bind 127.0.0.1")
            text = substitute(text, r"^port 26379$", f"port {port}")
            text = substitute(
                text, r"^sentinel monitor sso \S+ 6379 2$", f"sentinel monitor sso 127.0.0.1 {master_port} 2"
            )
            text = substitute(text, r"REDIS_PASSWORD", PASSWORD)
            work = root / f"sentinel{index}"
            work.mkdir()
            conf = work / "sentinel.conf"
            conf.write_text(text + f"\ndir {work}\n", encoding="utf-8")
            start([str(conf), "--sentinel"], f"sentinel{index}")
        topo = Topology(master_port, replica_port, sentinel_ports)
        master = redis.Redis(port=master_port, password=PASSWORD, socket_timeout=2)
        eventually(lambda: master.info("replication")["connected_slaves"] == 1)
        for index in range(3):
            eventually(partial(sentinel_sees_everyone, topo, index))
        yield topo
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_shipped_data_settings_are_in_force(topology: Topology) -> None:
    master = redis.Redis(port=topology.master_port, password=PASSWORD, decode_responses=True)
    config = master.config_get("*")
    assert config["maxmemory-policy"] == "noeviction"
    assert config["appendonly"] == "yes"
    assert config["appendfsync"] == "everysec"
    assert config["min-replicas-to-write"] == "1"
    assert config["replica-serve-stale-data"] == "no"
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(port=topology.master_port).ping()


def test_three_sentinels_agree_on_the_master(topology: Topology) -> None:
    assert [topology.master_port_now(i) for i in range(3)] == [topology.master_port] * 3
    master = topology.sentinel().sentinel_master("sso")
    assert master["quorum"] == 2


def test_the_idp_store_follows_a_failover(topology: Topology) -> None:
    store = RedisStore.from_url(topology.url)
    store.put("code:{flow-a}", "before", 60)
    assert store.get("code:{flow-a}") == "before"

    topology.sentinel().execute_command("SENTINEL", "FAILOVER", "sso")
    eventually(lambda: all(topology.master_port_now(i) == topology.replica_port for i in range(3)))

    # Replicated before the switch, so the code survives; and it is still single-use.
    assert eventually(lambda: store.consume("code:{flow-a}")) == "before"
    assert store.consume("code:{flow-a}") is None
    eventually(lambda: store.incr("attempts:{alice}", 60) >= 1)
