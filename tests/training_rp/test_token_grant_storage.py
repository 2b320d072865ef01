"""RP_REFRESH_AFTER, and the migration that gives sessions their token columns, up and down with data."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from tests.support.services import scratch_postgres_database
from training_rp.config import load_settings
from training_rp.db import Database, utcnow
from training_rp.errors import ConfigError
from training_rp.migrations.runner import downgrade, upgrade
from training_rp.services.sessions import SessionStore, TokenGrant, token_hash

BEFORE = "7b52d0e9c4a1"
TOKEN_COLUMNS = {
    "refresh_key_id",
    "refresh_token_sealed",
    "tokens_obtained_at",
    "access_expires_at",
    "refresh_blocked_until",
}


def test_refresh_after_defaults_to_five_minutes_and_reads_the_environment() -> None:
    assert load_settings({}).refresh_after == 300
    assert load_settings({"RP_REFRESH_AFTER": "60"}).refresh_after == 60


@pytest.mark.parametrize("value", ["0", "-5", "soon", "1.5"])
def test_refresh_after_must_be_a_positive_number_of_seconds(value: str) -> None:
    with pytest.raises(ConfigError, match="RP_REFRESH_AFTER"):
        load_settings({"RP_REFRESH_AFTER": value})


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'rp.sqlite3'}"
        return
    with scratch_postgres_database() as url:
        yield url


def test_the_token_columns_go_down_and_up_and_sessions_survive(database_url: str) -> None:
    upgrade(database_url)
    db = Database(database_url)
    try:
        store = SessionStore(db, idle=1800, lifetime=43200, anonymous_ttl=600)
        now = utcnow()
        grant = TokenGrant("k1", b"sealed", obtained_at=now, access_expires_at=now + timedelta(seconds=300))
        token = store.save(None, {"sub": "s-1", "sid": "x", "auth_time": now.timestamp()}, grant=grant)
        assert TOKEN_COLUMNS <= _columns(db)

        downgrade(database_url, BEFORE)
        assert not TOKEN_COLUMNS & _columns(db)
        with db.engine.connect() as conn:
            sub = conn.execute(
                text("SELECT sub FROM rp_session WHERE id_hash = :h"), {"h": token_hash(token)}
            ).scalar()
        assert sub == "s-1", "the session itself outlives the downgrade"

        upgrade(database_url)
        loaded = store.load(token)
        assert loaded is not None and loaded.data["sub"] == "s-1"
        with db.engine.connect() as conn:
            sealed = conn.execute(
                text("SELECT refresh_token_sealed FROM rp_session WHERE id_hash = :h"),
                {"h": token_hash(token)},
            ).scalar()
        assert sealed is None, "a session from before the upgrade has no tokens to refresh"
    finally:
        db.engine.dispose()


def _columns(db: Database) -> set[str]:
    return {c["name"] for c in inspect(db.engine).get_columns("rp_session")}
