"""Fixtures of the training system's tests: a migrated database, the app, the forging issuer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.training_rp.forging_issuer import CLIENT_SECRET, ForgingIssuer
from training_rp import create_app
from training_rp.migrations.runner import upgrade


@pytest.fixture(scope="session")
def issuer_server() -> Iterator[ForgingIssuer]:
    server = ForgingIssuer().start()
    yield server
    server.stop()


@pytest.fixture()
def issuer(issuer_server: ForgingIssuer) -> ForgingIssuer:
    issuer_server.reset()
    return issuer_server


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file; each test gets a copy (migrating per test would be slow)."""
    path = tmp_path_factory.mktemp("rp-template") / "rp.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture()
def database_url(tmp_path: Path, migrated_template: Path) -> str:
    target = tmp_path / "rp.sqlite3"
    target.write_bytes(migrated_template.read_bytes())
    return f"sqlite:///{target}"


def rp_overrides(issuer: ForgingIssuer, database_url: str, **extra: Any) -> dict[str, Any]:
    return {"issuer": issuer.url, "client_secret": CLIENT_SECRET, "database_url": database_url, **extra}


@pytest.fixture()
def app(issuer: ForgingIssuer, database_url: str) -> Iterator[Flask]:
    application = create_app(rp_overrides(issuer, database_url))
    application.config["TESTING"] = True
    yield application
    application.extensions["training_rp"].db.engine.dispose()


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()
