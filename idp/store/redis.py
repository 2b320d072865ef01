"""The Redis short-lived store: standalone, Sentinel or Cluster, chosen by the URL.

=================================================  ===========================================
URL                                                deployment
=================================================  ===========================================
``redis://[:pw@]host:port/db``                     one server (``rediss://`` for TLS, and
                                                   ``unix://`` and query options as redis-py)
``redis+sentinel://[:pw@]h:p,h:p/service[/db]``    master found through Sentinel; the password
                                                   is the master's (``rediss+sentinel`` for TLS)
``redis+cluster://[:pw@]h:p[,h:p]``                Redis Cluster (``rediss+cluster`` for TLS)
=================================================  ===========================================

Every operation is one Redis command or Lua script, so it is atomic on the server. A dead or hung
Redis fails within about a second and a half (short socket timeouts, no retry loop) so sign-in
answers its 503 quickly; the next call tries again, which is how service comes back by itself.
Keys get a prefix in front and keep their ``{hash tag}``, so one flow's keys share a Cluster slot.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import SplitResult, unquote, urlsplit

import redis
from redis.backoff import NoBackoff
from redis.cluster import ClusterNode, RedisCluster
from redis.exceptions import RedisClusterException, RedisError
from redis.retry import Retry
from redis.sentinel import Sentinel

from idp.errors import ConfigError, StoreUnavailable
from idp.store.protocol import is_storable_key, require_key, require_ttl, require_value

# The ``type: ignore[no-untyped-call]`` below: redis-py leaves Sentinel, master_for and ClusterNode
# unannotated.

RedisClient = redis.Redis | RedisCluster

#: Prefix of every key, so the IdP can share a Redis database with other software.
DEFAULT_PREFIX = "idp:"
#: Seconds to open a TCP connection, and to wait for an answer, before the store is unavailable.
CONNECT_TIMEOUT = 0.5
READ_TIMEOUT = 1.0
DEFAULT_SENTINEL_PORT = 26379
DEFAULT_PORT = 6379

# The window starts at the first increment: EXPIRE only when the key has no TTL yet, which also
# repairs a counter that lost its TTL. One script, so INCR and EXPIRE cannot be separated.
_INCR_IN_WINDOW = """
local count = redis.call('INCR', KEYS[1])
if redis.call('TTL', KEYS[1]) < 0 then
    redis.call('EXPIRE', KEYS[1], ARGV[1])
end
return count
"""


def _client_options() -> dict[str, Any]:
    # No retries: a retry loop with backoff would hold a sign-in for seconds on a dead Redis,
    # and a stale pooled connection is already replaced when it is taken from the pool.
    return {
        "decode_responses": True,
        "socket_connect_timeout": CONNECT_TIMEOUT,
        "socket_timeout": READ_TIMEOUT,
        "retry": Retry(NoBackoff(), 0),
    }


class RedisStore:
    """:class:`idp.store.protocol.EphemeralStore` on Redis; build it with :meth:`from_url`."""

    def __init__(self, connect: Callable[[], RedisClient], prefix: str = DEFAULT_PREFIX) -> None:
        """``connect`` makes the client on first use (a Cluster client contacts its nodes then)."""
        if "{" in prefix or "}" in prefix:
            raise ConfigError("the Redis key prefix must not contain braces: they would replace the hash tag")
        self._connect = connect
        self._prefix = prefix
        self._client: RedisClient | None = None
        self._incr_script: Any = None
        self._lock = threading.Lock()

    @property
    def prefix(self) -> str:
        """What this store puts in front of every key."""
        return self._prefix

    @classmethod
    def from_url(cls, url: str, prefix: str = DEFAULT_PREFIX) -> RedisStore:
        """The store for a ``redis://``, ``rediss://``, ``unix://``, ``redis+sentinel://`` or
        ``redis+cluster://`` URL; ConfigError for a URL that cannot work. Nothing is contacted yet."""
        scheme = url.split("://", 1)[0].lower() if "://" in url else ""
        if scheme in ("redis", "rediss", "unix"):
            client = _standalone(url)
            return cls(lambda: client, prefix)
        if scheme in ("redis+sentinel", "rediss+sentinel"):
            client = _sentinel(url, tls=scheme.startswith("rediss"))
            return cls(lambda: client, prefix)
        if scheme in ("redis+cluster", "rediss+cluster"):
            return cls(_cluster(url, tls=scheme.startswith("rediss")), prefix)
        raise ConfigError(
            "the Redis URL must start with redis://, rediss://, unix://, redis+sentinel:// or redis+cluster://"
        )

    def put(self, key: str, value: str, ttl: int) -> None:
        name = self._name(key)
        require_value(value)
        require_ttl(ttl)
        with self._calling() as client:
            client.set(name, value, ex=ttl)

    def add(self, key: str, value: str, ttl: int) -> bool:
        name = self._name(key)
        require_value(value)
        require_ttl(ttl)
        with self._calling() as client:
            return bool(client.set(name, value, ex=ttl, nx=True))

    def get(self, key: str) -> str | None:
        if not is_storable_key(key):
            return None
        with self._calling() as client:
            return _text(client.get(self._prefix + key))

    def consume(self, key: str) -> str | None:
        if not is_storable_key(key):
            return None
        # GETDEL (Redis 6.2+) reads and deletes in one command: exactly one caller gets the value.
        with self._calling() as client:
            return _text(client.getdel(self._prefix + key))

    def delete(self, key: str) -> None:
        if not is_storable_key(key):
            return
        with self._calling() as client:
            client.delete(self._prefix + key)

    def incr(self, key: str, window: int) -> int:
        name = self._name(key)
        require_ttl(window)
        with self._calling():
            return int(self._incr_script(keys=[name], args=[window]))

    def ping(self) -> None:
        with self._calling() as client:
            client.ping()

    def close(self) -> None:
        """Release the connections; the store reconnects if used again."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def _name(self, key: str) -> str:
        return self._prefix + require_key(key)

    @contextmanager
    def _calling(self) -> Iterator[RedisClient]:
        """The client, with every Redis failure turned into StoreUnavailable (fail closed)."""
        try:
            yield self._ensure_client()
        except (RedisError, RedisClusterException) as exc:
            # redis-py messages name the server and the failure, never keys or values.
            raise StoreUnavailable(f"redis: {exc.__class__.__name__}: {str(exc)[:200]}") from exc

    def _ensure_client(self) -> RedisClient:
        with self._lock:
            if self._client is None:
                client = self._connect()
                self._incr_script = client.register_script(_INCR_IN_WINDOW)
                self._client = client
            return self._client


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _standalone(url: str) -> redis.Redis:
    try:
        client = redis.Redis.from_url(url, **_client_options())
        # Make (without connecting) one connection now, so a misspelt query option is a
        # start-up error rather than a failure of the first sign-in.
        pool = client.connection_pool
        pool.connection_class(**pool.connection_kwargs)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"the Redis URL is not valid: {exc}") from exc
    return client


def _sentinel(url: str, tls: bool) -> redis.Redis:
    parts = _split(url)
    if parts.query or parts.fragment:
        raise ConfigError("redis+sentinel URLs take no query options")
    username, password, nodes = _netloc(parts.netloc, DEFAULT_SENTINEL_PORT, "redis+sentinel")
    path = [unquote(p) for p in parts.path.split("/") if p]
    if not 1 <= len(path) <= 2:
        raise ConfigError(
            "a redis+sentinel URL names the service: redis+sentinel://host:port,host:port/service/db"
        )
    db = _db_number(path[1]) if len(path) == 2 else 0
    options = _client_options()
    # Sentinels are asked in turn until one knows the master; the short read timeout keeps a
    # list of hung sentinels within the fail-fast budget.
    sentinel_options = {**options, "socket_timeout": CONNECT_TIMEOUT}
    del sentinel_options["decode_responses"]
    sentinel = Sentinel(  # type: ignore[no-untyped-call]
        nodes, sentinel_kwargs=sentinel_options
    )
    client: redis.Redis = sentinel.master_for(  # type: ignore[no-untyped-call]
        path[0], redis_class=redis.Redis, db=db, username=username, password=password, ssl=tls, **options
    )
    return client


def _cluster(url: str, tls: bool) -> Callable[[], RedisClient]:
    parts = _split(url)
    if parts.query or parts.fragment:
        raise ConfigError("redis+cluster URLs take no query options")
    if parts.path.strip("/") not in ("", "0"):
        raise ConfigError("Redis Cluster has only database 0; a redis+cluster URL has no other path")
    username, password, nodes = _netloc(parts.netloc, DEFAULT_PORT, "redis+cluster")
    options = _client_options()

    def connect() -> RedisClient:
        return RedisCluster(
            startup_nodes=[ClusterNode(host, port) for host, port in nodes],  # type: ignore[no-untyped-call]
            username=username,
            password=password,
            ssl=tls,
            **options,
        )

    return connect


def _split(url: str) -> SplitResult:
    try:
        return urlsplit(url)
    except ValueError as exc:
        raise ConfigError(f"the Redis URL is not valid: {exc}") from exc


def _netloc(
    netloc: str, default_port: int, scheme: str
) -> tuple[str | None, str | None, list[tuple[str, int]]]:
    """``user:password@host:port,host:port`` split into credentials and addresses."""
    userinfo, _, hosts = netloc.rpartition("@")
    username = password = None
    if userinfo:
        user, has_password, secret = userinfo.partition(":")
        username = unquote(user) or None
        password = unquote(secret) if has_password else None
    nodes = [_address(item.strip(), default_port, scheme) for item in hosts.split(",")]
    return username, password, nodes


def _address(item: str, default_port: int, scheme: str) -> tuple[str, int]:
    if item.startswith("["):
        host, _, rest = item[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else rest
    else:
        host, _, port_text = item.partition(":")
    if not host:
        raise ConfigError(f"a {scheme} URL lists host:port pairs separated by commas; one host is empty")
    if not port_text:
        return host, default_port
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ConfigError(f"a {scheme} URL has an invalid port: {port_text[:20]!r}")
    return host, int(port_text)


def _db_number(text: str) -> int:
    if not text.isdigit():
        raise ConfigError("the Redis database in the URL must be a number")
    return int(text)
