"""Accounts and password sign-in through AccountService, on SQLite + embedded store and PostgreSQL + Redis."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import bcrypt
import pytest
from sqlalchemy import select

from idp.accounts.captcha import TTL_SECONDS, CaptchaService
from idp.accounts.models import User
from idp.accounts.passwords import Argon2Params
from idp.accounts.services import AccountService, LoginFailed
from idp.config import Settings, load_settings
from idp.db import Database
from idp.errors import Conflict, InvalidInput
from idp.store import EphemeralStore

FAST = Argon2Params(time_cost=1, memory_cost=8 * 1024, parallelism=1)
GOOD_PASSWORD = "Tianqi-Qing-2024"


def make_settings(**overrides: Any) -> Settings:
    base: dict[str, Any] = {"captcha": "off", "lock_after": 5, "lock_seconds": 60, "ip_limit": 50}
    base.update(overrides)
    return load_settings(environ={}, overrides=base)


@pytest.fixture()
def accounts(database: Database, store: EphemeralStore) -> AccountService:
    return AccountService(database, store, make_settings(), password_params=FAST)


# --- creating accounts -------------------------------------------------------------------------------


def test_create_user_stores_an_argon2id_hash_and_a_uuid_subject(accounts: AccountService) -> None:
    user = accounts.create_user("ZhangSan_01", GOOD_PASSWORD, name="张三", email="zs@example.cn")
    assert len(user.id) == 32 and int(user.id, 16) >= 0
    stored = accounts.get(user.id)
    assert stored is not None
    assert stored.username == "ZhangSan_01" and stored.username_key == "zhangsan_01"
    assert stored.password_hash is not None and stored.password_hash.startswith("$argon2id$")
    assert GOOD_PASSWORD not in stored.password_hash
    assert (stored.account_type, stored.realname_status, stored.disabled) == ("natural", "unverified", False)
    assert stored.created_at.tzinfo is not None and stored.password_changed_at is not None


def test_login_names_are_unique_whatever_their_case(accounts: AccountService) -> None:
    accounts.create_user("wangwu", GOOD_PASSWORD)
    with pytest.raises(Conflict):
        accounts.create_user("WangWu", GOOD_PASSWORD)


@pytest.mark.parametrize(
    "username",
    [
        "abc",
        "a" * 33,
        "with space",
        "用户名称",
        "semi;colon",
        "dash-name",
        "",
        "tab\tname",
        "x\x00null",
        "ｆｕｌｌ",
    ],
)
def test_bad_login_names_are_refused(accounts: AccountService, username: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        accounts.create_user(username, GOOD_PASSWORD)
    assert "登录名" in caught.value.public


def test_weak_passwords_are_refused_with_a_reason(accounts: AccountService) -> None:
    with pytest.raises(InvalidInput) as caught:
        accounts.create_user("lisi_2024", "short1")
    assert "8" in caught.value.public
    with pytest.raises(InvalidInput):
        accounts.create_user("lisi_2024", "password123")


@pytest.mark.parametrize(
    "fields",
    [
        {"email": "not-an-email"},
        {"email": "a@b.cn\r\nBcc: x@y.cn"},
        {"phone_number": "call me"},
        {"name": "x" * 101},
    ],
)
def test_bad_profile_fields_are_refused(accounts: AccountService, fields: dict[str, str]) -> None:
    with pytest.raises(InvalidInput):
        accounts.create_user("zhaoliu", GOOD_PASSWORD, **fields)  # type: ignore[arg-type]
    assert accounts.find_by_username("zhaoliu") is None


# --- signing in ---------------------------------------------------------------------------------------


def test_right_password_signs_in_whatever_the_case_of_the_name(accounts: AccountService) -> None:
    created = accounts.create_user("Chen_Qi", GOOD_PASSWORD)
    user = accounts.authenticate("  chen_QI ", GOOD_PASSWORD, "natural", "192.0.2.10")
    assert user.id == created.id


def _failure(accounts: AccountService, username: str, password: str, ip: str = "192.0.2.20") -> LoginFailed:
    with pytest.raises(LoginFailed) as caught:
        accounts.authenticate(username, password, "natural", ip)
    return caught.value


def test_unknown_user_wrong_password_and_lock_look_the_same(
    database: Database, store: EphemeralStore
) -> None:
    accounts = AccountService(database, store, make_settings(lock_after=2), password_params=FAST)
    accounts.create_user("sunba", GOOD_PASSWORD)
    unknown = _failure(accounts, "nobody_here", GOOD_PASSWORD)
    wrong = _failure(accounts, "sunba", "Wrong-Password-1")
    _failure(accounts, "sunba", "Wrong-Password-2")
    locked = _failure(accounts, "sunba", GOOD_PASSWORD)  # right password, but the account is locked now
    assert unknown.public == wrong.public == locked.public
    assert unknown.status_code == wrong.status_code == locked.status_code
    assert (unknown.detail, wrong.detail, locked.detail) == ("unknown_user", "bad_password", "locked")


def test_other_account_type_or_disabled_or_passwordless_accounts_fail_alike(
    accounts: AccountService, database: Database
) -> None:
    accounts.create_user("unit_admin", GOOD_PASSWORD, account_type="legal")
    accounts.create_user("nopassword", None)
    accounts.create_user("disabled_one", GOOD_PASSWORD)
    with database.transaction() as session:
        row = session.scalar(select(User).where(User.username_key == "disabled_one"))
        assert row is not None
        row.disabled = True
    reference = _failure(accounts, "nobody_here", GOOD_PASSWORD)
    for name in ("unit_admin", "nopassword", "disabled_one"):
        failure = _failure(accounts, name, GOOD_PASSWORD)
        assert (failure.public, failure.status_code) == (reference.public, reference.status_code)
    assert accounts.authenticate("unit_admin", GOOD_PASSWORD, "legal", "192.0.2.30").account_type == "legal"


@pytest.mark.parametrize(
    ("username", "password"),
    [("", ""), ("x" * 10_000, "p"), ("name\r\nforged", "p"), ("\x00", "\x00"), ("🙂🙂🙂🙂", "p" * 5000)],
)
def test_hostile_credentials_are_a_plain_failure(
    accounts: AccountService, username: str, password: str
) -> None:
    failure = _failure(accounts, username, password)
    assert failure.detail == "unknown_user"


def test_unknown_account_type_is_invalid_input(accounts: AccountService) -> None:
    with pytest.raises(InvalidInput):
        accounts.authenticate("someone", "password", "robot", "192.0.2.1")


def test_legacy_hash_upgrades_to_argon2id_at_first_sign_in(
    accounts: AccountService, database: Database
) -> None:
    created = accounts.create_user("old_user", None)
    legacy = bcrypt.hashpw(b"old-password-9", bcrypt.gensalt(rounds=4)).decode()
    with database.transaction() as session:
        row = session.get(User, created.id)
        assert row is not None
        row.password_hash, row.legacy_hash_scheme = legacy, "bcrypt"
    _failure(accounts, "old_user", "not-the-old-one")
    user = accounts.authenticate("old_user", "old-password-9", "natural", "192.0.2.40")
    assert user.legacy_hash_scheme is None
    assert user.password_hash is not None and user.password_hash.startswith("$argon2id$")
    assert accounts.authenticate("old_user", "old-password-9", "natural", "192.0.2.40").id == created.id


def test_password_age_limit_only_when_configured(database: Database, store: EphemeralStore) -> None:
    plain = AccountService(database, store, make_settings(), password_params=FAST)
    user = plain.create_user("aging_user", GOOD_PASSWORD)
    assert not plain.password_expired(user)
    strict = AccountService(database, store, make_settings(password_max_age_days=1), password_params=FAST)
    assert not strict.password_expired(user)
    assert user.password_changed_at is not None
    user.password_changed_at -= timedelta(days=2)
    assert strict.password_expired(user)


# --- captcha -------------------------------------------------------------------------------------------


def test_captcha_modes(database: Database, store: EphemeralStore) -> None:
    always = AccountService(database, store, make_settings(captcha="always"), password_params=FAST)
    off = AccountService(database, store, make_settings(captcha="off"), password_params=FAST)
    after = AccountService(
        database, store, make_settings(captcha="after-failures", captcha_after=2), password_params=FAST
    )
    assert always.needs_captcha("", "192.0.2.50") and always.needs_captcha("anyone", "192.0.2.50")
    assert not after.needs_captcha("target_user", "192.0.2.50")
    _failure(after, "target_user", "wrong-1", ip="192.0.2.51")
    assert not after.needs_captcha("target_user", "192.0.2.50")
    _failure(after, "target_user", "wrong-2", ip="192.0.2.52")
    # Two failures of the account, from two addresses: the account now needs a captcha everywhere.
    assert after.needs_captcha("TARGET_USER", "192.0.2.99")
    assert not after.needs_captcha("other_user", "192.0.2.99")
    # Two failures from one address: that address needs a captcha for every account.
    _failure(after, "a_user", "wrong", ip="192.0.2.60")
    _failure(after, "b_user", "wrong", ip="192.0.2.60")
    assert after.needs_captcha("c_user", "192.0.2.60")
    assert not off.needs_captcha("target_user", "192.0.2.60")


def _answer(store: EphemeralStore, captcha_id: str) -> str:
    raw = store.get(f"captcha:{{{captcha_id}}}")
    assert raw is not None
    return raw.partition("|")[2]


def test_captcha_is_single_use_case_insensitive_and_form_bound(store: EphemeralStore) -> None:
    captchas = CaptchaService(store)
    captcha_id, png = captchas.new("login")
    assert png.startswith(b"\x89PNG") and captchas.image(captcha_id) == png
    answer = _answer(store, captcha_id)
    assert captchas.verify(captcha_id, "login", f" {answer.lower()} ")
    assert not captchas.verify(captcha_id, "login", answer), "a captcha answer works only once"
    assert captchas.image(captcha_id) is None

    other_id, _ = captchas.new("register")
    assert not captchas.verify(other_id, "login", _answer(store, other_id)), (
        "bound to the form it was shown on"
    )


def test_wrong_captcha_answer_discards_the_captcha(store: EphemeralStore) -> None:
    captchas = CaptchaService(store)
    captcha_id, _ = captchas.new("login")
    answer = _answer(store, captcha_id)
    assert not captchas.verify(captcha_id, "login", "WRONG")
    assert not captchas.verify(captcha_id, "login", answer)


@pytest.mark.parametrize("captcha_id", ["", "../../etc/passwd", "A" * 32, "0" * 31, "0" * 10_000, "{x}"])
def test_hostile_captcha_ids_are_simply_wrong(store: EphemeralStore, captcha_id: str) -> None:
    captchas = CaptchaService(store)
    assert not captchas.verify(captcha_id, "login", "ABCD")
    assert captchas.image(captcha_id) is None


def test_captcha_expires(store: EphemeralStore) -> None:
    assert TTL_SECONDS == 120, "about two minutes by default (SECURITY.md)"
    captchas = CaptchaService(store, ttl=1)
    captcha_id, _ = captchas.new("login")
    answer = _answer(store, captcha_id)
    time.sleep(2.1)
    assert captchas.image(captcha_id) is None
    assert not captchas.verify(captcha_id, "login", answer)
