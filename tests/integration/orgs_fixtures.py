"""Fixtures of the legal-person tests, loaded by them with ``pytest_plugins``.

``world``: one matter (the training system's client) and two more clients, one active unit holding
an approved permission for the training matter, on both storage set-ups (``database`` and ``store``
of tests/integration/conftest.py). ``org_app`` is the real IdP on the test's database and store;
``app_world`` the same world inside it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from flask import Flask

from idp import create_app
from idp.accounts.services import AccountService
from idp.config import load_settings
from idp.context import Services
from idp.db import Database
from idp.store import EphemeralStore
from tests.integration.orgs_world import FAST, World, build_world
from tests.support.services import redis_url


@pytest.fixture()
def world(database: Database, store: EphemeralStore) -> World:
    return build_world(database, store, load_settings(environ={}))


# --- the real app on the same storage ----------------------------------------------------------------


@pytest.fixture()
def org_app(
    backend_name: str, database_url: str, database_on: Callable[[str], Database], tmp_path: Any
) -> Iterator[Flask]:
    """The IdP over this test's database (and Redis under a private prefix); captcha off."""
    database_on(database_url)  # empties every table after the test
    prefix = f"torg{uuid.uuid4().hex[:12]}:"
    overrides: dict[str, Any] = {
        "database_url": database_url,
        "issuer": "http://idp.test",
        "captcha": "off",
        "outbox_dir": str(tmp_path / "outbox"),
        "redis_url": redis_url() if backend_name == "postgres" else "",
        "redis_prefix": prefix,
    }
    app = create_app(overrides)
    app.config["TESTING"] = True
    svc: Services = app.extensions["idp"]
    # Cheap hashing: these tests are about units and grants, not about argon2's cost.
    svc.extras["accounts"] = AccountService(svc.db, svc.store, svc.settings, password_params=FAST)
    yield app
    if backend_name == "postgres":
        client = redis.Redis.from_url(redis_url())
        for key in client.scan_iter(match=f"{prefix}*", count=500):
            client.delete(key)
        client.close()


@pytest.fixture()
def app_world(org_app: Flask) -> World:
    svc: Services = org_app.extensions["idp"]
    return build_world(svc.db, svc.store, svc.settings)
