"""The training system's own Alembic chain: up, down and up again with data, on SQLite and
PostgreSQL, and the migrated schema equals the models."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from tests.support.services import scratch_postgres_database
from tests.training_rp.helpers import synthetic_id
from training_rp import models  # noqa: F401 - registers the tables
from training_rp.crypto import IdNumberCipher
from training_rp.db import Base, Database
from training_rp.migrations.runner import VERSION_TABLE, downgrade, is_current, upgrade
from training_rp.services.accounts import AccountService

TABLES = {"rp_account", "rp_session", "rp_login_state", "rp_seen_logout_token"}


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'rp.sqlite3'}"
        return
    # Skips locally without TEST_DATABASE_URL, fails in CI.
    with scratch_postgres_database() as url:
        yield url


def test_the_chain_goes_up_down_and_up_with_data(empty_database: str) -> None:
    url = empty_database
    upgrade(url)
    db = Database(url)
    try:
        assert TABLES <= set(inspect(db.engine).get_table_names())
        assert is_current(url, db.engine)
        accounts = AccountService(db, IdNumberCipher({"k1": b"\2" * 32}, "k1"))
        accounts.add_ministry_admin("王管理", synthetic_id(1))

        with db.engine.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}), Base.metadata
            )
        assert diff == [], f"models and migrations differ: {diff}"

        downgrade(url)
        assert not TABLES & set(inspect(db.engine).get_table_names())
        upgrade(url)
        assert accounts.list_all() == []
        accounts.add_ministry_admin("王管理", synthetic_id(1))
        assert len(accounts.list_all()) == 1
    finally:
        db.engine.dispose()


def test_an_unmigrated_database_is_not_current(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    db = Database(url)
    try:
        assert not is_current(url, db.engine)
    finally:
        db.engine.dispose()
