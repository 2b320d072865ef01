"""One contract for every short-lived store adapter, and how each fails when its backend is gone.

The contract suite runs over the embedded store on SQLite and on PostgreSQL, and Redis standalone,
through Sentinel and as a Cluster. Concurrency is tested with threads and with separate OS
processes, because worker processes are how the IdP is deployed.
"""

from __future__ import annotations

import multiprocessing
import queue
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from redis.crc import key_slot
from sqlalchemy import func, select

from idp.db import Database
from idp.errors import ConfigError, StoreUnavailable
from idp.store.embedded import EmbeddedStore, EphemeralEntry
from idp.store.fake import UnavailableStore
from idp.store.protocol import MAX_KEY_LENGTH, MAX_TTL, EphemeralStore, open_store
from idp.store.redis import RedisStore
from tests.support.live import free_port
from tests.support.services import redis_url

if TYPE_CHECKING:
    from tests.integration.conftest import RedisServer

ADAPTERS = ["embedded-sqlite", "embedded-postgres", "redis", "redis-sentinel", "redis-cluster"]
#: Fail-fast budget when the backend is gone (SECURITY.md, Faults: a 503 within about 2 seconds).
FAIL_FAST_SECONDS = 2.0


@dataclass(frozen=True)
class Recipe:
    """How to open the same store again, in another process."""

    kind: str  # "embedded" or "redis"
    url: str
    prefix: str = ""


def open_recipe(recipe: Recipe) -> EphemeralStore:
    if recipe.kind == "embedded":
        return EmbeddedStore(Database(recipe.url))
    return RedisStore.from_url(recipe.url, prefix=recipe.prefix)


@dataclass(frozen=True)
class Adapter:
    store: EphemeralStore
    recipe: Recipe


@pytest.fixture(params=ADAPTERS)
def adapter(
    request: pytest.FixtureRequest,
    database_on: Callable[[str], Database],
    redis_store_on: Callable[[str], RedisStore],
) -> Adapter:
    name: str = request.param
    if name.startswith("embedded-"):
        url: str = request.getfixturevalue(f"{name.removeprefix('embedded-')}_database_url")
        return Adapter(EmbeddedStore(database_on(url)), Recipe("embedded", url))
    if name == "redis":
        url = redis_url()
    else:
        url = request.getfixturevalue(f"{name.removeprefix('redis-')}_url")
    store = redis_store_on(url)
    return Adapter(store, Recipe("redis", url, store.prefix))


@pytest.fixture()
def store(adapter: Adapter) -> EphemeralStore:
    return adapter.store


def in_parallel(calls: int, action: Callable[[int], Any]) -> list[Any]:
    """Run ``action(i)`` for ``calls`` values of i, all released at the same moment."""
    barrier = threading.Barrier(calls)

    def run(i: int) -> Any:
        barrier.wait()
        return action(i)

    with ThreadPoolExecutor(max_workers=calls) as pool:
        return list(pool.map(run, range(calls)))


# --- the contract ------------------------------------------------------------------------------


def test_adapter_satisfies_the_protocol(store: EphemeralStore) -> None:
    assert isinstance(store, EphemeralStore)


def test_put_then_get_returns_the_value(store: EphemeralStore) -> None:
    store.put("session:{s1}", '{"sub": "u1"}', 60)

    assert store.get("session:{s1}") == '{"sub": "u1"}'
    assert store.get("session:{s2}") is None


def test_put_replaces_the_value(store: EphemeralStore) -> None:
    store.put("k", "first", 60)
    store.put("k", "second", 60)

    assert store.get("k") == "second"


def test_values_round_trip_unchanged(store: EphemeralStore) -> None:
    values = {
        "zh": "因公出国(境)培训项目管理系统 — 自然人登录",
        "emoji": "🔐 ok",
        "empty": "",
        "spaces": "  leading and trailing  \n\t",
        "large": "x" * 200_000,
    }
    for name, value in values.items():
        store.put(f"value:{name}", value, 60)

    assert {name: store.get(f"value:{name}") for name in values} == values


def test_keys_that_look_alike_stay_distinct(store: EphemeralStore) -> None:
    keys = [
        "a",
        "A",
        "a:",
        "code:{abc}",
        "code:{ABC}",
        "code:abc",
        "x' OR '1'='1",
        "100%_*?[]",
        "自然人:{张三}",
        "k" * MAX_KEY_LENGTH,
    ]
    for i, key in enumerate(keys):
        store.put(key, str(i), 60)

    assert [store.get(key) for key in keys] == [str(i) for i in range(len(keys))]


@pytest.mark.parametrize(
    "key",
    ["", "k" * (MAX_KEY_LENGTH + 1), "nul\0key", "line\nbreak", "lone \ud800 surrogate"],
    ids=["empty", "too-long", "nul", "newline", "surrogate"],
)
def test_unstorable_keys_are_absent_on_read_and_refused_on_write(store: EphemeralStore, key: str) -> None:
    # Reads built from hostile input must answer "absent", never fail.
    assert store.get(key) is None
    assert store.consume(key) is None
    store.delete(key)

    with pytest.raises(ValueError):
        store.put(key, "v", 60)
    with pytest.raises(ValueError):
        store.add(key, "v", 60)
    with pytest.raises(ValueError):
        store.incr(key, 60)


@pytest.mark.parametrize("value", ["nul\0value", "lone \udfff surrogate"], ids=["nul", "surrogate"])
def test_values_that_are_not_text_are_refused(store: EphemeralStore, value: str) -> None:
    with pytest.raises(ValueError):
        store.put("k", value, 60)
    with pytest.raises(ValueError):
        store.add("k", value, 60)

    assert store.get("k") is None


@pytest.mark.parametrize(
    "ttl", [0, -1, 1.5, True, MAX_TTL + 1], ids=["zero", "negative", "float", "bool", "huge"]
)
def test_ttls_and_windows_outside_the_range_are_refused(store: EphemeralStore, ttl: Any) -> None:
    with pytest.raises(ValueError):
        store.put("k", "v", ttl)
    with pytest.raises(ValueError):
        store.add("k", "v", ttl)
    with pytest.raises(ValueError):
        store.incr("counter", ttl)

    assert store.get("k") is None


def test_entries_expire_after_their_ttl(store: EphemeralStore) -> None:
    store.put("short", "v", 1)
    store.put("renewed", "v", 1)
    store.put("renewed", "v2", 60)  # a put replaces the TTL as well as the value
    store.put("long", "v", 60)

    time.sleep(1.2)

    assert store.get("short") is None
    assert store.consume("short") is None
    assert store.get("renewed") == "v2"
    assert store.get("long") == "v"


def test_add_stores_only_when_absent(store: EphemeralStore) -> None:
    assert store.add("nonce:{n1}", "first", 60) is True
    assert store.add("nonce:{n1}", "second", 60) is False
    assert store.get("nonce:{n1}") == "first"

    store.delete("nonce:{n1}")

    assert store.add("nonce:{n1}", "third", 60) is True
    assert store.get("nonce:{n1}") == "third"


def test_add_takes_over_an_expired_key(store: EphemeralStore) -> None:
    store.put("captcha:{c1}", "old", 1)

    time.sleep(1.2)

    assert store.add("captcha:{c1}", "new", 60) is True
    assert store.get("captcha:{c1}") == "new"


def test_consume_returns_the_value_once(store: EphemeralStore) -> None:
    store.put("code:{c1}", "grant", 60)

    assert store.consume("code:{c1}") == "grant"
    assert store.consume("code:{c1}") is None
    assert store.get("code:{c1}") is None
    assert store.consume("code:{never}") is None


def test_delete_removes_and_ignores_missing_keys(store: EphemeralStore) -> None:
    store.put("k", "v", 60)

    store.delete("k")
    store.delete("k")
    store.delete("never-stored")

    assert store.get("k") is None


def test_incr_counts_from_one(store: EphemeralStore) -> None:
    assert [store.incr("fail:{u1}", 60) for _ in range(3)] == [1, 2, 3]
    assert store.incr("fail:{u2}", 60) == 1

    store.delete("fail:{u1}")

    assert store.incr("fail:{u1}", 60) == 1


def test_incr_window_runs_from_the_first_increment(store: EphemeralStore) -> None:
    assert store.incr("fail:{w}", 2) == 1
    time.sleep(1.1)
    # This increment falls inside the window and must not extend it.
    assert store.incr("fail:{w}", 2) == 2
    time.sleep(1.1)

    assert store.incr("fail:{w}", 2) == 1
    assert store.incr("fail:{w}", 2) == 2


def test_ping_answers_when_the_backend_is_up(store: EphemeralStore) -> None:
    store.ping()
    store.put("after-ping", "v", 60)

    assert store.get("after-ping") == "v"


# --- concurrency -------------------------------------------------------------------------------


def test_consume_is_exactly_once_across_50_threads(store: EphemeralStore) -> None:
    for round_number in range(3):
        key = f"code:{{race{round_number}}}"
        store.put(key, f"grant-{round_number}", 60)

        results = in_parallel(50, lambda _i: store.consume(key))  # noqa: B023 - joined before the next round

        winners = [r for r in results if r is not None]
        assert winners == [f"grant-{round_number}"]


def test_add_is_exactly_once_across_50_threads(store: EphemeralStore) -> None:
    results = in_parallel(50, lambda i: store.add("nonce:{race}", f"caller-{i}", 60))

    assert results.count(True) == 1
    assert store.get("nonce:{race}") == f"caller-{results.index(True)}"


def test_incr_counts_100_parallel_increments(store: EphemeralStore) -> None:
    results = in_parallel(100, lambda _i: store.incr("fail:{parallel}", 60))

    assert sorted(results) == list(range(1, 101))
    assert store.incr("fail:{parallel}", 60) == 101


PROCESSES = 8
KEYS_PER_PROCESS_RACE = 10
INCREMENTS_PER_PROCESS = 25


def race_in_process(recipe: Recipe, start: Any, results: Any) -> None:
    """Body of one racing OS process: consume every shared key, then count into one counter."""
    store = open_recipe(recipe)
    store.ping()  # connect before the start signal, so the race is on the operations
    start.wait(30)
    won = [i for i in range(KEYS_PER_PROCESS_RACE) if store.consume(f"code:{{proc{i}}}") is not None]
    counts = [store.incr("fail:{processes}", 300) for _ in range(INCREMENTS_PER_PROCESS)]
    results.put((won, counts))


def racing_processes() -> Any:
    """A multiprocessing context whose children are forked from a clean server process.

    Each child opens its own connections after the fork, like gunicorn workers; preloading the
    imports once in the server spares every child the start-up of a new interpreter.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return context


def collect(results: Any, workers: list[Any], deadline_seconds: float = 120) -> list[Any]:
    """One result per worker; fails early when a worker died without reporting."""
    outcomes: list[Any] = []
    deadline = time.monotonic() + deadline_seconds
    while len(outcomes) < len(workers):
        try:
            outcomes.append(results.get(timeout=0.5))
        except queue.Empty:
            crashed = [w.exitcode for w in workers if w.exitcode not in (None, 0)]
            if crashed or time.monotonic() > deadline:
                pytest.fail(f"racing processes failed: exit codes {crashed or 'none, but too slow'}")
    return outcomes


def test_consume_and_incr_are_atomic_across_8_processes(adapter: Adapter) -> None:
    store = adapter.store
    for i in range(KEYS_PER_PROCESS_RACE):
        store.put(f"code:{{proc{i}}}", f"grant-{i}", 300)
    context = racing_processes()
    start = context.Event()
    results = context.Queue()
    workers = [
        context.Process(target=race_in_process, args=(adapter.recipe, start, results))
        for _ in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    try:
        start.set()
        outcomes = collect(results, workers)
    finally:
        for worker in workers:
            worker.join(timeout=30)
            if worker.is_alive():
                worker.kill()

    wins = Counter(i for won, _ in outcomes for i in won)
    counts = sorted(c for _, cs in outcomes for c in cs)
    assert wins == Counter(range(KEYS_PER_PROCESS_RACE))  # every key consumed by exactly one process
    assert counts == list(range(1, PROCESSES * INCREMENTS_PER_PROCESS + 1))
    assert all(worker.exitcode == 0 for worker in workers)


# --- the embedded table ------------------------------------------------------------------------


def count_rows(database: Database) -> int:
    with database.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(EphemeralEntry)).scalar_one())


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_embedded_writes_purge_expired_rows(
    request: pytest.FixtureRequest, database_on: Callable[[str], Database], backend: str
) -> None:
    database = database_on(request.getfixturevalue(f"{backend}_database_url"))
    store = EmbeddedStore(database, purge_interval=0)
    for i in range(5):
        store.put(f"old{i}", "v", 1)
    time.sleep(1.2)

    store.put("fresh", "v", 60)

    assert count_rows(database) == 1
    assert store.get("fresh") == "v"


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_embedded_consume_of_an_expired_row_removes_it(
    request: pytest.FixtureRequest, database_on: Callable[[str], Database], backend: str
) -> None:
    database = database_on(request.getfixturevalue(f"{backend}_database_url"))
    store = EmbeddedStore(database, purge_interval=3600)
    store.put("code:{late}", "grant", 1)
    time.sleep(1.2)

    assert store.consume("code:{late}") is None
    assert count_rows(database) == 0


def test_open_store_picks_the_adapter_from_the_url(sqlite_database_url: str) -> None:
    database = Database(sqlite_database_url)
    try:
        assert isinstance(open_store("", database), EmbeddedStore)
        assert isinstance(open_store("redis://127.0.0.1:6379/15", database), RedisStore)
        assert isinstance(open_store("redis+sentinel://127.0.0.1:26379/m", database), RedisStore)
        assert isinstance(open_store("redis+cluster://127.0.0.1:7000", database), RedisStore)
    finally:
        database.engine.dispose()


# --- Redis URLs and keys -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:6379",
        "127.0.0.1:6379",
        "redis://127.0.0.1:99999/0",
        "redis://127.0.0.1/0?no_such_option=1",
        "redis+sentinel://127.0.0.1:26379",
        "redis+sentinel://127.0.0.1:26379/service/not-a-db",
        "redis+sentinel://127.0.0.1:26379/a/b/c",
        "redis+sentinel://127.0.0.1:port/service",
        "redis+sentinel://127.0.0.1:26379,,127.0.0.2/service",
        "redis+sentinel://127.0.0.1:26379/service?socket_timeout=9",
        "redis+cluster://127.0.0.1:7000/3",
        "redis+cluster://[::1/",
        "redis+cluster://127.0.0.1:0",
    ],
)
def test_redis_urls_that_cannot_work_are_refused_at_start(url: str) -> None:
    with pytest.raises(ConfigError):
        RedisStore.from_url(url)


def test_a_prefix_with_braces_is_refused() -> None:
    # Redis hashes the first {...} of a key: braces in the prefix would move every key's slot.
    with pytest.raises(ConfigError):
        RedisStore.from_url("redis://127.0.0.1:6379/15", prefix="{idp}:")


def test_the_prefix_keeps_the_hash_tag_so_a_flow_stays_on_one_slot() -> None:
    prefix = RedisStore.from_url("redis://127.0.0.1:6379/15").prefix
    names = [f"{prefix}code:{{abc}}", f"{prefix}session:{{abc}}", "{abc}"]

    assert len({key_slot(name.encode()) for name in names}) == 1


def test_cluster_runs_keys_of_many_slots(
    cluster_url: str, redis_store_on: Callable[[str], RedisStore]
) -> None:
    store = redis_store_on(cluster_url)
    keys = [f"code:{{flow{i}}}" for i in range(30)]
    assert len({key_slot(f"{store.prefix}{key}".encode()) for key in keys}) > 1

    for key in keys:
        store.put(key, key, 60)

    assert [store.consume(key) for key in keys] == keys
    assert [store.incr(key, 60) for key in keys] == [1] * len(keys)


# --- faults --------------------------------------------------------------------------------------


def every_operation() -> list[tuple[str, Callable[[EphemeralStore], object]]]:
    return [
        ("put", lambda s: s.put("k", "v", 60)),
        ("add", lambda s: s.add("k", "v", 60)),
        ("get", lambda s: s.get("k")),
        ("consume", lambda s: s.consume("k")),
        ("delete", lambda s: s.delete("k")),
        ("incr", lambda s: s.incr("k", 60)),
        ("ping", lambda s: s.ping()),
    ]


def assert_fails_closed_and_fast(store: EphemeralStore) -> None:
    for name, operation in every_operation():
        started = time.monotonic()
        with pytest.raises(StoreUnavailable) as caught:
            operation(store)
        elapsed = time.monotonic() - started
        assert elapsed < FAIL_FAST_SECONDS, f"{name} took {elapsed:.2f}s"
        assert caught.value.status_code == 503


@pytest.fixture()
def black_hole() -> Iterator[int]:
    """A port that accepts TCP connections and never answers: a hung Redis."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield int(listener.getsockname()[1])


@pytest.mark.parametrize("scheme", ["redis", "redis+sentinel", "redis+cluster"])
def test_redis_on_an_unused_port_fails_closed_and_fast(scheme: str) -> None:
    port = free_port()
    path = {"redis": "/0", "redis+sentinel": "/idpmaster/0", "redis+cluster": ""}[scheme]

    assert_fails_closed_and_fast(RedisStore.from_url(f"{scheme}://127.0.0.1:{port}{path}"))


@pytest.mark.parametrize("scheme", ["redis", "redis+sentinel", "redis+cluster"])
def test_redis_that_never_answers_fails_closed_and_fast(scheme: str, black_hole: int) -> None:
    path = {"redis": "/0", "redis+sentinel": "/idpmaster/0", "redis+cluster": ""}[scheme]

    assert_fails_closed_and_fast(RedisStore.from_url(f"{scheme}://127.0.0.1:{black_hole}{path}"))


def test_redis_store_recovers_by_itself_when_redis_returns(redis_server: RedisServer) -> None:
    store = RedisStore.from_url(f"redis://127.0.0.1:{redis_server.port}/0")
    store.put("session:{s}", "alive", 60)

    redis_server.stop()
    assert_fails_closed_and_fast(store)

    redis_server.start()
    # The loss budget: a restarted Redis without persistence lost the session, nothing else broke.
    assert store.get("session:{s}") is None
    store.put("session:{s}", "again", 60)
    assert store.get("session:{s}") == "again"
    store.close()


def test_embedded_store_on_unreachable_postgres_fails_closed() -> None:
    database = Database(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nowhere")
    try:
        assert_fails_closed_and_fast(EmbeddedStore(database))
    finally:
        database.engine.dispose()


def test_embedded_store_without_its_table_is_not_ready(tmp_path: Any) -> None:
    database = Database(f"sqlite:///{tmp_path / 'never-migrated.sqlite3'}")
    try:
        with pytest.raises(StoreUnavailable):
            EmbeddedStore(database).ping()
    finally:
        database.engine.dispose()


def test_unavailable_store_fails_every_call() -> None:
    store = UnavailableStore()

    for _, operation in every_operation():
        with pytest.raises(StoreUnavailable):
            operation(store)

    assert store.calls == [name for name, _ in every_operation()]
    assert isinstance(store, EphemeralStore)
