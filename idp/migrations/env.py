"""Alembic environment: the URL comes from the caller (``idp db upgrade``) or ``IDP_DATABASE_URL``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import pool

from idp.config import load_settings
from idp.db import Base, make_engine
from idp.models import import_all_models

import_all_models()
config = context.config
url = config.get_main_option("sqlalchemy.url") or load_settings().database_url


def run_migrations_offline() -> None:
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        context.configure(connection=connectable, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(url)
    engine.pool = pool.NullPool(engine.pool._creator)  # one-off connection, nothing kept open
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
