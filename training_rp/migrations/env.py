"""Alembic environment: the URL comes from the caller (``training-rp db upgrade``) or ``RP_DATABASE_URL``."""

from __future__ import annotations

from typing import Any

from alembic import context

from training_rp import models  # noqa: F401 - registers the tables on Base.metadata
from training_rp.config import load_settings
from training_rp.db import Base, make_engine
from training_rp.migrations.runner import VERSION_TABLE

config = context.config
url = config.get_main_option("sqlalchemy.url") or load_settings().database_url
options: dict[str, Any] = {
    "target_metadata": Base.metadata,
    "render_as_batch": True,
    "version_table": VERSION_TABLE,
}


def run_migrations_offline() -> None:
    context.configure(url=url, literal_binds=True, **options)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        context.configure(connection=connectable, **options)
        with context.begin_transaction():
            context.run_migrations()
        return
    # The app's own engine settings (SQLite pragmas, timeouts); disposed below, so nothing stays open.
    # Its pool is kept: the dialect learns the server version on the pool's first connection, which
    # batch operations need when they reflect a table.
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, **options)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
