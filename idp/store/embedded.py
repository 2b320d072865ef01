"""The embedded short-lived store: one SQL table with expiry, shared by every worker process.

Each operation is a single SQL statement in its own transaction, so atomicity comes from the
database and holds across processes and machines: SQLite serialises writers on the file lock,
PostgreSQL on the row (``INSERT ... ON CONFLICT`` and ``DELETE ... RETURNING`` re-check the
latest committed row). Expiry is judged by the database clock, so every node agrees on it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Mapped, mapped_column

from idp.db import Base, Database
from idp.errors import ConfigError, StoreUnavailable
from idp.store.protocol import MAX_KEY_LENGTH, is_storable_key, require_key, require_ttl, require_value

#: Expired rows removed per purge statement, so one purge never holds the write lock for long.
PURGE_BATCH = 500
#: Seconds between two lazy purges started by writes of one store object.
PURGE_INTERVAL = 60.0


class EphemeralEntry(Base):
    """One short-lived value; a counter keeps its count as decimal text."""

    __tablename__ = "ephemeral_entries"

    key: Mapped[str] = mapped_column(sa.String(MAX_KEY_LENGTH), primary_key=True)
    value: Mapped[str] = mapped_column(sa.Text)
    #: Unix time in seconds (fractional) after which the entry no longer exists.
    expires_at: Mapped[float] = mapped_column(sa.Float, index=True)


_entries = cast(sa.Table, EphemeralEntry.__table__)


class EmbeddedStore:
    """:class:`idp.store.protocol.EphemeralStore` on the durable database (SQLite or PostgreSQL)."""

    def __init__(self, database: Database, purge_interval: float = PURGE_INTERVAL) -> None:
        dialect = database.engine.dialect.name
        if dialect not in ("sqlite", "postgresql"):
            raise ConfigError(f"the embedded store supports SQLite and PostgreSQL, not {dialect}")
        self._engine = database.engine
        self._postgres = dialect == "postgresql"
        self._purge_interval = purge_interval
        self._next_purge = time.monotonic()

    def put(self, key: str, value: str, ttl: int) -> None:
        insert = self._insert(key, value, ttl)
        statement = insert.on_conflict_do_update(
            index_elements=[_entries.c.key],
            set_={"value": insert.excluded.value, "expires_at": insert.excluded.expires_at},
        )
        with self._connection() as conn:
            conn.execute(statement)
        self._maybe_purge()

    def add(self, key: str, value: str, ttl: int) -> bool:
        insert = self._insert(key, value, ttl)
        # An expired row counts as absent: take it over, but leave a live one untouched.
        statement = insert.on_conflict_do_update(
            index_elements=[_entries.c.key],
            set_={"value": insert.excluded.value, "expires_at": insert.excluded.expires_at},
            where=_entries.c.expires_at <= self._now(),
        ).returning(_entries.c.key)
        with self._connection() as conn:
            stored = conn.execute(statement).first() is not None
        self._maybe_purge()
        return stored

    def get(self, key: str) -> str | None:
        if not is_storable_key(key):
            return None
        query = sa.select(_entries.c.value).where(_entries.c.key == key, _entries.c.expires_at > self._now())
        with self._connection() as conn:
            value: str | None = conn.execute(query).scalar_one_or_none()
        return value

    def consume(self, key: str) -> str | None:
        if not is_storable_key(key):
            return None
        # One DELETE ... RETURNING: of concurrent callers only the one whose statement removed
        # the row sees it. An expired row is removed too but yields nothing.
        statement = (
            sa.delete(_entries)
            .where(_entries.c.key == key)
            .returning(_entries.c.value, (_entries.c.expires_at > self._now()).label("live"))
        )
        with self._connection() as conn:
            row = conn.execute(statement).first()
        if row is None or not row.live:
            return None
        value: str = row.value
        return value

    def delete(self, key: str) -> None:
        if not is_storable_key(key):
            return
        with self._connection() as conn:
            conn.execute(sa.delete(_entries).where(_entries.c.key == key))

    def incr(self, key: str, window: int) -> int:
        require_ttl(window)
        now = self._now()
        expired = _entries.c.expires_at <= now
        insert = self._insert(key, "1", window)
        # The window starts at the first increment and is not extended by later ones; an
        # expired counter starts again at 1 with a new window.
        statement = insert.on_conflict_do_update(
            index_elements=[_entries.c.key],
            set_={
                "value": sa.case(
                    (expired, "1"), else_=sa.cast(sa.cast(_entries.c.value, sa.BigInteger) + 1, sa.Text)
                ),
                "expires_at": sa.case((expired, now + window), else_=_entries.c.expires_at),
            },
        ).returning(_entries.c.value)
        with self._connection() as conn:
            count = int(conn.execute(statement).scalar_one())
        self._maybe_purge()
        return count

    def ping(self) -> None:
        # Reading the table, not just SELECT 1: a database without the migration is not ready.
        with self._connection() as conn:
            conn.execute(sa.select(_entries.c.key).limit(1)).all()

    def purge_expired(self) -> int:
        """Remove up to :data:`PURGE_BATCH` expired rows; the number removed."""
        doomed = sa.select(_entries.c.key).where(_entries.c.expires_at <= self._now()).limit(PURGE_BATCH)
        with self._connection() as conn:
            return conn.execute(sa.delete(_entries).where(_entries.c.key.in_(doomed))).rowcount

    def _insert(self, key: str, value: str, ttl: int) -> Any:
        """A dialect ``INSERT`` (the ones with ``ON CONFLICT``) of a checked entry."""
        require_key(key)
        require_value(value)
        require_ttl(ttl)
        insert = postgresql.insert(_entries) if self._postgres else sqlite.insert(_entries)
        return insert.values(key=key, value=value, expires_at=self._now() + ttl)

    def _now(self) -> sa.ColumnElement[float]:
        """The database's current Unix time in seconds, fixed for the duration of one statement."""
        if self._postgres:
            return sa.cast(sa.extract("epoch", sa.func.statement_timestamp()), sa.Float)
        return (sa.func.julianday("now") - 2440587.5) * 86400.0

    def _maybe_purge(self) -> None:
        # Lazy purge keeps the table small without a separate job; expired rows are invisible
        # to every read anyway, so how often this runs only affects disk use.
        now = time.monotonic()
        if now < self._next_purge:
            return
        self._next_purge = now + self._purge_interval
        self.purge_expired()

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        """One transaction; driver and pool failures become StoreUnavailable (fail closed)."""
        try:
            with self._engine.begin() as conn:
                yield conn
        except (DBAPIError, PoolTimeoutError) as exc:
            # Only class names: the driver's message carries the statement and its parameters,
            # which may be codes or session ids that must stay out of logs.
            cause = exc.orig.__class__.__name__ if isinstance(exc, DBAPIError) else "pool"
            raise StoreUnavailable(f"embedded store: {exc.__class__.__name__} ({cause})") from exc
