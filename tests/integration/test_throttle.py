"""Failed sign-ins counted atomically per account and per IP; growing locks; fail closed without a store."""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from idp.accounts.passwords import Argon2Params
from idp.accounts.services import AccountService, LoginFailed, LoginThrottled
from idp.accounts.throttle import MAX_LOCK_SECONDS, LoginThrottle, ip_tag
from idp.audit.services import details_of, events
from idp.config import Settings, load_settings
from idp.db import Database
from idp.errors import StoreUnavailable
from idp.store import EphemeralStore
from idp.store.fake import UnavailableStore

FAST = Argon2Params(time_cost=1, memory_cost=8 * 1024, parallelism=1)
PASSWORD = "Dongfeng-Yehua-88"


def settings(**overrides: Any) -> Settings:
    base: dict[str, Any] = {"captcha": "off", "lock_after": 5, "lock_seconds": 60, "ip_limit": 1000}
    base.update(overrides)
    return load_settings(environ={}, overrides=base)


def service(database: Database, store: EphemeralStore, **overrides: Any) -> AccountService:
    return AccountService(database, store, settings(**overrides), password_params=FAST)


def fail(accounts: AccountService, username: str, password: str, ip: str = "198.51.100.1") -> LoginFailed:
    with pytest.raises(LoginFailed) as caught:
        accounts.authenticate(username, password, "natural", ip)
    return caught.value


def run_in_parallel(count: int, attempt: Any) -> list[BaseException | None]:
    """``count`` calls released at the same moment; what each raised (None when it returned)."""
    barrier = threading.Barrier(count)

    def one(index: int) -> BaseException | None:
        barrier.wait()
        try:
            attempt(index)
        except Exception as exc:  # noqa: BLE001 - the outcome of each call is what the test inspects
            return exc
        return None

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))


def test_100_parallel_wrong_passwords_count_100(database: Database, store: EphemeralStore) -> None:
    accounts = service(database, store, lock_after=1000)
    accounts.create_user("target_acct", PASSWORD)
    outcomes = run_in_parallel(
        100, lambda i: accounts.authenticate("target_acct", f"wrong-{i}", "natural", "198.51.100.7")
    )
    assert all(isinstance(o, LoginFailed) for o in outcomes), Counter(type(o).__name__ for o in outcomes)
    assert accounts.throttle.failures("target_acct") == 100
    assert accounts.throttle.ip_failures("198.51.100.7") == 100
    with database.transaction() as session:
        assert len(events(session, event="login.failure", limit=1000)) == 100


def test_parallel_guesses_cannot_outrun_the_lock(database: Database, store: EphemeralStore) -> None:
    accounts = service(database, store, lock_after=5)
    accounts.create_user("racer_acct", PASSWORD)
    run_in_parallel(
        60, lambda i: accounts.authenticate("racer_acct", f"guess-{i}", "natural", "198.51.100.8")
    )
    with database.transaction() as session:
        reasons = Counter(details_of(e)["reason"] for e in events(session, event="login.failure", limit=1000))
    # At most lock_after passwords were really checked; every other attempt met the lock.
    assert 1 <= reasons["bad_password"] <= 5
    assert reasons["bad_password"] + reasons["locked"] == 60
    assert accounts.throttle.failures("racer_acct") == 60


def test_lock_engages_after_lock_after_failures_and_lifts_after_the_cool_down(
    database: Database, store: EphemeralStore
) -> None:
    accounts = service(database, store, lock_after=3, lock_seconds=1)
    user = accounts.create_user("cooldown_acct", PASSWORD)
    for i in range(3):
        fail(accounts, "cooldown_acct", f"wrong-{i}")
    assert accounts.throttle.locked("cooldown_acct")
    assert fail(accounts, "cooldown_acct", PASSWORD).detail == "locked"
    time.sleep(1.5)
    assert accounts.authenticate("cooldown_acct", PASSWORD, "natural", "198.51.100.1").id == user.id
    assert accounts.throttle.failures("cooldown_acct") == 0, "a success resets the account counter"
    with database.transaction() as session:
        locks = events(session, event="login.locked")
    assert [details_of(e)["seconds"] for e in locks] == [1]
    assert locks[0].target == user.id


def test_each_further_lock_lasts_twice_as_long(database: Database, store: EphemeralStore) -> None:
    accounts = service(database, store, lock_after=2, lock_seconds=1)
    accounts.create_user("doubling_acct", PASSWORD)
    fail(accounts, "doubling_acct", "wrong-1")
    fail(accounts, "doubling_acct", "wrong-2")  # first lock: 1 s
    time.sleep(1.5)
    fail(accounts, "doubling_acct", "wrong-3")  # second lock: 2 s
    time.sleep(1.5)
    assert fail(accounts, "doubling_acct", PASSWORD).detail == "locked", "still inside the doubled lock"
    time.sleep(1.5)
    accounts.authenticate("doubling_acct", PASSWORD, "natural", "198.51.100.1")
    with database.transaction() as session:
        seconds = [details_of(e)["seconds"] for e in reversed(events(session, event="login.locked"))]
    assert seconds == [1, 2]


def test_lock_duration_doubles_up_to_a_cap(store: EphemeralStore) -> None:
    throttle = LoginThrottle(store, settings(lock_seconds=60))
    assert [throttle.lock_duration(g) for g in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert throttle.lock_duration(10_000) == MAX_LOCK_SECONDS


def test_unknown_login_names_are_counted_and_locked_like_real_ones(
    database: Database, store: EphemeralStore
) -> None:
    accounts = service(database, store, lock_after=2, lock_seconds=60)
    fail(accounts, "ghost_account", "x")
    fail(accounts, "ghost_account", "y")
    assert accounts.throttle.locked("GHOST_ACCOUNT")
    assert fail(accounts, "ghost_account", "z").detail == "locked"


def test_client_ip_limit(database: Database, store: EphemeralStore) -> None:
    accounts = service(database, store, ip_limit=3, lock_after=100)
    accounts.create_user("ip_victim", PASSWORD)
    for name in ("spray_a", "spray_b", "spray_c"):
        fail(accounts, name, "Password1", ip="203.0.113.50")
    with pytest.raises(LoginThrottled) as caught:
        accounts.authenticate("ip_victim", PASSWORD, "natural", "203.0.113.50")
    assert caught.value.status_code == 429
    # Other addresses are not affected, and the account itself was never counted.
    assert accounts.authenticate("ip_victim", PASSWORD, "natural", "203.0.113.51").username == "ip_victim"
    with database.transaction() as session:
        assert len(events(session, event="login.throttled")) == 1


def test_ipv6_clients_are_counted_per_64(database: Database, store: EphemeralStore) -> None:
    assert ip_tag("2001:db8:1:2:aaaa::1") == ip_tag("2001:db8:1:2:bbbb::2") == "2001:db8:1:2::/64"
    assert ip_tag("2001:db8:1:3::1") != ip_tag("2001:db8:1:2::1")
    accounts = service(database, store, ip_limit=2, lock_after=100)
    fail(accounts, "v6_a", "x", ip="2001:db8:1:2::10")
    fail(accounts, "v6_b", "x", ip="2001:db8:1:2::20")
    with pytest.raises(LoginThrottled):
        accounts.authenticate("v6_c", "x", "natural", "2001:db8:1:2::30")


def test_no_password_is_checked_without_the_store(database: Database) -> None:
    down = UnavailableStore()
    accounts = AccountService(database, down, settings(captcha="after-failures"), password_params=FAST)
    with pytest.raises(StoreUnavailable):
        accounts.authenticate("anyone_here", PASSWORD, "natural", "198.51.100.1")
    with pytest.raises(StoreUnavailable):
        accounts.needs_captcha("anyone_here", "198.51.100.1")
    assert down.calls[0] == "get", "the counters are consulted before anything else"
    with database.transaction() as session:
        assert not events(session), "nothing was checked, so nothing was audited"
