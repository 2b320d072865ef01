"""Storage fixtures for integration tests: migrated databases, isolated stores, private Redis servers.

``backend_name`` runs a test once on the embedded single-machine pair (SQLite database, embedded
store) and once on the production pair (PostgreSQL, Redis). Databases are migrated once per
session; after each test every table is emptied, so tests see no rows of each other.
"""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import inspect

from idp.db import Base, Database
from idp.errors import StoreUnavailable
from idp.migrations.runner import upgrade
from idp.models import import_all_models
from idp.store.embedded import EmbeddedStore
from idp.store.protocol import EphemeralStore
from idp.store.redis import RedisStore
from tests.support.live import free_port
from tests.support.services import redis_url, scratch_postgres_database, unavailable

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Everything in this folder talks to real services; `-m "not services"` leaves it out.
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.services)


# --- databases -------------------------------------------------------------------------------


@pytest.fixture(scope="session", params=["sqlite", "postgres"], ids=["sqlite", "postgres"])
def backend_name(request: pytest.FixtureRequest) -> str:
    """``sqlite``: SQLite file + embedded store; ``postgres``: PostgreSQL + Redis."""
    name: str = request.param
    return name


@pytest.fixture(scope="session")
def sqlite_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated SQLite file for the whole session."""
    url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'idp.sqlite3'}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def postgres_database_url() -> Iterator[str]:
    """A migrated scratch PostgreSQL database for the whole session, dropped afterwards."""
    with scratch_postgres_database() as url:
        upgrade(url)
        yield url


@pytest.fixture(scope="session")
def database_url(request: pytest.FixtureRequest, backend_name: str) -> str:
    url: str = request.getfixturevalue(f"{backend_name}_database_url")
    return url


@pytest.fixture()
def database_on() -> Iterator[Callable[[str], Database]]:
    """Opens a Database on a URL; every table it holds is emptied after the test."""
    opened: list[Database] = []

    def open_database(url: str) -> Database:
        database = Database(url)
        opened.append(database)
        return database

    yield open_database
    for database in opened:
        empty_all_tables(database)
        database.engine.dispose()


@pytest.fixture()
def database(database_on: Callable[[str], Database], database_url: str) -> Database:
    return database_on(database_url)


def empty_all_tables(database: Database) -> None:
    """Delete every row of every model table (children first), keeping the schema and its version."""
    import_all_models()
    existing = set(inspect(database.engine).get_table_names())
    with database.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name in existing and table.name != "alembic_version":
                conn.execute(table.delete())


# --- short-lived stores ----------------------------------------------------------------------


@pytest.fixture()
def redis_store_on() -> Iterator[Callable[[str], RedisStore]]:
    """Opens a RedisStore on a URL under a prefix of its own; its keys are deleted after the test."""
    opened: list[tuple[str, str, RedisStore]] = []

    def open_redis_store(url: str) -> RedisStore:
        prefix = f"test:{uuid.uuid4().hex}:"
        store = RedisStore.from_url(url, prefix=prefix)
        try:
            store.ping()
        except StoreUnavailable as exc:
            store.close()
            unavailable(f"Redis unreachable at the test URL: {exc.detail}")
        opened.append((url, prefix, store))
        return store

    yield open_redis_store
    for url, prefix, store in opened:
        store.close()
        if url.startswith(("redis://", "rediss://")):
            _delete_prefixed_keys(url, prefix)


def _delete_prefixed_keys(url: str, prefix: str) -> None:
    client = redis.Redis.from_url(url)
    try:
        for name in client.scan_iter(match=f"{prefix}*", count=500):
            client.delete(name)
    finally:
        client.close()


@pytest.fixture()
def store(
    request: pytest.FixtureRequest, backend_name: str, redis_store_on: Callable[[str], RedisStore]
) -> EphemeralStore:
    """The embedded store on ``database`` (sqlite), or Redis on TEST_REDIS_URL (postgres)."""
    if backend_name == "sqlite":
        return EmbeddedStore(request.getfixturevalue("database"))
    return redis_store_on(redis_url())


# --- private Redis servers (Sentinel, Cluster, restarts) --------------------------------------


class RedisServer:
    """A ``redis-server`` process of this test session on a loopback port, stoppable and restartable."""

    def __init__(
        self, workdir: Path, port: int | None = None, config: str = "", sentinel: bool = False
    ) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            unavailable("redis-server is not installed (apt-get install redis-server)")
        self.binary = str(binary)
        self.port = port or free_port()
        self.workdir = workdir / f"redis-{self.port}"
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config = config
        self.sentinel = sentinel
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
        conf = self.workdir / "redis.conf"
        # A sentinel rewrites its file, so it is written afresh at every start.
        conf.write_text(
            f'port {self.port}\nbind 127.0.0.1\nsave ""\nappendonly no\ndir {self.workdir}\n{self.config}\n'
        )
        args = [self.binary, str(conf)] + (["--sentinel"] if self.sentinel else [])
        with open(self.workdir / "log.txt", "ab") as log:
            # The child keeps its own copy of the descriptor.
            self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir)
        deadline = time.monotonic() + 10
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                log_text = (self.workdir / "log.txt").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"redis-server on port {self.port} did not start: {log_text}")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(64).startswith(b"+PONG")
        except OSError:
            return False


@pytest.fixture()
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A private standalone Redis for this test, started; tests may stop and start it again."""
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sentinel_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A ``redis+sentinel://`` URL: one master watched by one sentinel, both private to the session."""
    workdir = tmp_path_factory.mktemp("sentinel")
    master = RedisServer(workdir).start()
    watcher = RedisServer(
        workdir,
        config=f"sentinel monitor idpmaster 127.0.0.1 {master.port} 1\n"
        "sentinel down-after-milliseconds idpmaster 5000\n",
        sentinel=True,
    ).start()
    try:
        yield f"redis+sentinel://127.0.0.1:{watcher.port}/idpmaster/0"
    finally:
        watcher.stop()
        master.stop()


@pytest.fixture(scope="session")
def cluster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A ``redis+cluster://`` URL: three private masters sharing the 16384 slots."""
    workdir = tmp_path_factory.mktemp("cluster")
    nodes = [
        RedisServer(
            workdir, port=_free_cluster_port(), config="cluster-enabled yes\ncluster-config-file nodes.conf\n"
        ).start()
        for _ in range(3)
    ]
    try:
        cli = shutil.which("redis-cli")
        if cli is None:
            unavailable("redis-cli is not installed (apt-get install redis-tools)")
        addresses = [f"127.0.0.1:{node.port}" for node in nodes]
        subprocess.run(
            [str(cli), "--cluster", "create", *addresses, "--cluster-replicas", "0", "--cluster-yes"],
            check=True,
            capture_output=True,
            timeout=30,
        )
        _wait_for_cluster([node.port for node in nodes])
        yield f"redis+cluster://{addresses[0]},{addresses[1]}"
    finally:
        for node in nodes:
            node.stop()


def _free_cluster_port() -> int:
    """A free port whose cluster bus port (10000 higher, at most 65535) is free too."""
    for candidate in random.sample(range(20000, 55535), 200):
        if _is_free(candidate) and _is_free(candidate + 10000):
            return candidate
    raise RuntimeError("no free port pair for a Redis Cluster node")


def _is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _wait_for_cluster(ports: list[int]) -> None:
    deadline = time.monotonic() + 20
    for port in ports:
        client = redis.Redis(port=port, decode_responses=True)
        try:
            while _cluster_state(client) != "ok":
                if time.monotonic() > deadline:
                    raise RuntimeError("the private Redis Cluster did not reach cluster_state:ok")
                time.sleep(0.1)
        finally:
            client.close()


def _cluster_state(client: redis.Redis) -> str:
    info: Any = client.cluster("INFO")
    return str(info.get("cluster_state", ""))
