"""Fixtures of the interoperability tests: openid-client installed, and a live IdP per storage set-up."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.interop.live_idp import LiveIdP, live_idp
from tests.interop.openid_client import OpenIDClient, install
from tests.support.services import redis_url, scratch_postgres_database


@pytest.fixture(scope="session")
def openid_client() -> OpenIDClient:
    return install()


@pytest.fixture(
    scope="module",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.services)],
)
def idp(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveIdP]:
    """``sqlite``: SQLite file and embedded store; ``postgres``: a scratch PostgreSQL database and Redis."""
    work = tmp_path_factory.mktemp(f"idp-{request.param}")
    if request.param == "sqlite":
        with live_idp(work) as server:
            yield server
        return
    store_url = redis_url()
    with scratch_postgres_database() as database_url, live_idp(work, database_url, store_url) as server:
        yield server
