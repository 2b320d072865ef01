"""Every Alembic branch goes up, down to nothing and up again, on SQLite and PostgreSQL.

Generic over the branches: whatever revisions exist, ``upgrade heads`` must create every table
and column of the models, ``downgrade base`` must remove them all, and a second ``upgrade heads``
must rebuild them. Data written between the steps shows what survives: everything across a repeated
upgrade, nothing across a downgrade to base.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, pool, text
from sqlalchemy.engine import Engine

from idp.db import Base
from idp.migrations.runner import downgrade, upgrade
from idp.models import import_all_models
from tests.support.services import scratch_postgres_database


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of this test's own: migrations are destructive, so no shared one."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    with scratch_postgres_database() as url:
        yield url


@pytest.fixture()
def inspect_engine(empty_database_url: str) -> Iterator[Engine]:
    # No pooled connection may outlive the test: the scratch database is dropped afterwards.
    engine = create_engine(empty_database_url, poolclass=pool.NullPool)
    yield engine
    engine.dispose()


def model_columns() -> dict[str, set[str]]:
    import_all_models()
    return {table.name: {column.name for column in table.columns} for table in Base.metadata.sorted_tables}


def database_columns(engine: Engine) -> dict[str, set[str]]:
    inspector = inspect(engine)
    return {
        name: {column["name"] for column in inspector.get_columns(name)}
        for name in inspector.get_table_names()
    }


def applied_revisions(engine: Engine) -> set[str]:
    if "alembic_version" not in inspect(engine).get_table_names():
        return set()
    with engine.connect() as conn:
        return {row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))}


def test_heads_create_every_model_column(empty_database_url: str, inspect_engine: Engine) -> None:
    upgrade(empty_database_url)

    found = database_columns(inspect_engine)
    missing = {
        table: sorted(columns - found.get(table, set()))
        for table, columns in model_columns().items()
        if columns - found.get(table, set())
    }
    assert missing == {}, f"models without a migration: {missing}"
    assert applied_revisions(inspect_engine), "no revision recorded in alembic_version"


def test_up_down_up_keeps_and_drops_data_where_it_should(
    empty_database_url: str, inspect_engine: Engine
) -> None:
    upgrade(empty_database_url)
    with inspect_engine.begin() as conn:
        conn.execute(
            text("INSERT INTO ephemeral_entries (key, value, expires_at) VALUES ('code:{m}', 'kept', 4.0e9)")
        )

    upgrade(empty_database_url)  # already at heads: nothing to do, nothing lost
    with inspect_engine.connect() as conn:
        assert conn.execute(text("SELECT value FROM ephemeral_entries")).scalars().all() == ["kept"]

    downgrade(empty_database_url)
    assert set(database_columns(inspect_engine)) <= {"alembic_version"}, "tables left after downgrade"
    assert applied_revisions(inspect_engine) == set()

    upgrade(empty_database_url)
    assert set(model_columns()) <= set(database_columns(inspect_engine))
    with inspect_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM ephemeral_entries")).scalar_one() == 0
