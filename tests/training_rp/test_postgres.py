"""The training system on PostgreSQL: uniqueness, single-use sign-in states and binding hold
under concurrent requests, and a full sign-in works."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text

from tests.support.services import scratch_postgres_database
from tests.training_rp.conftest import rp_overrides
from tests.training_rp.forging_issuer import ForgingIssuer
from tests.training_rp.helpers import (
    add_admin,
    add_department_user,
    is_signed_in,
    services_of,
    sign_in,
    synthetic_id,
    unit_input,
)
from training_rp import create_app
from training_rp.errors import Conflict
from training_rp.migrations.runner import upgrade
from training_rp.models import Role
from training_rp.oidc.identity import VerifiedLogin
from training_rp.services.signin import Outcome

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    with scratch_postgres_database() as url:
        upgrade(url)
        yield url


@pytest.fixture()
def pg_app(pg_url: str, issuer: ForgingIssuer) -> Iterator[Flask]:
    app = create_app(rp_overrides(issuer, pg_url))
    db = services_of(app).db
    with db.transaction() as tx:
        tables = "rp_session, rp_login_state, rp_seen_logout_token, rp_account"
        tx.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield app
    db.engine.dispose()


def race(n: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work`` in ``n`` threads released at the same moment; returns results or exceptions."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - the test inspects what each thread got
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_a_full_sign_in_on_postgresql(pg_app: Flask, issuer: ForgingIssuer) -> None:
    add_department_user(pg_app, serial=2)
    issuer.person.id_number = synthetic_id(2)
    client = pg_app.test_client()
    assert sign_in(client).status_code == 302
    assert is_signed_in(client)


def test_one_id_number_is_recorded_once_even_when_submitted_concurrently(pg_app: Flask) -> None:
    department = add_department_user(pg_app, serial=2)
    accounts = services_of(pg_app).accounts
    results = race(
        8, lambda i: accounts.add_organizing_unit(department, unit_input(30, username=f"racer{i}"))
    )
    created = [r for r in results if not isinstance(r, Exception)]
    assert len(created) == 1
    assert all(isinstance(r, Conflict) for r in results if isinstance(r, Exception))
    assert len(accounts.list_all(Role.ORGANIZING_UNIT)) == 1


def test_a_sign_in_state_is_consumed_exactly_once_under_concurrency(pg_app: Flask) -> None:
    states = services_of(pg_app).login_states
    states.set("_state_platform_abc", '{"data": {"nonce": "n"}}', 600)
    results = race(10, lambda i: states.get("_state_platform_abc"))
    assert [r for r in results if r is not None] == ['{"data": {"nonce": "n"}}']


def test_concurrent_first_sign_ins_bind_the_account_to_one_subject(pg_app: Flask) -> None:
    add_admin(pg_app, serial=1)
    signin = services_of(pg_app).signin

    def attempt(i: int) -> Outcome:
        login = VerifiedLogin(
            sub=f"subject-{i}",
            sid=None,
            id_token="x",
            claims={"realname_status": "verified", "id_number": synthetic_id(1)},
        )
        return signin.decide(login).outcome

    outcomes = race(6, attempt)
    assert outcomes.count(Outcome.SIGNED_IN) == 1
    assert outcomes.count(Outcome.BOUND_ELSEWHERE) == 5


def test_a_replayed_logout_token_is_caught_under_concurrency(pg_app: Flask) -> None:
    sessions = services_of(pg_app).sessions
    results = race(6, lambda i: sessions.remember_logout_token("f" * 64, timedelta(minutes=5)))
    assert results.count(True) == 1 and results.count(False) == 5
