"""End to end in headless Chromium with the real IdP and the real RP, each a live process.

People are created at the IdP with its operator command and recorded at the RP with its services;
the browser signs in at the IdP's login form and lands wherever the RP's rules send it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from tests.support.live import free_port, running
from tests.training_rp.helpers import EXACT_REALNAME_MESSAGE, synthetic_id, unit_input
from training_rp.config import load_settings
from training_rp.crypto import IdNumberCipher
from training_rp.db import Database
from training_rp.migrations.runner import upgrade
from training_rp.models import Account, RpSession
from training_rp.services.accounts import AccountService, PersonInput

pytestmark = pytest.mark.browser

CLIENT_SECRET = "e2e-training-client-secret-0123456789"
PASSWORD = "Correct-Horse-Battery-42!"
IDP_MAIN = "import sys; from idp.cli import main; sys.exit(main())"


@dataclass(frozen=True)
class Person:
    username: str
    name: str
    status: str
    serial: int

    @property
    def id_number(self) -> str:
        return synthetic_id(self.serial)


UNVERIFIED = Person("e2e_unverified", "张未认", "unverified", 101)
PENDING = Person("e2e_pending", "李审核", "pending_review", 102)
RECORDED = Person("e2e_recorded", "王备案", "verified", 103)
UNRECORDED = Person("e2e_unrecorded", "赵申请", "verified", 104)
INVALID = Person("e2e_invalid", "钱无效", "verified", 105)
LOGOUT = Person("e2e_logout", "孙退出", "reviewed", 106)
PEOPLE = (UNVERIFIED, PENDING, RECORDED, UNRECORDED, INVALID, LOGOUT)


@dataclass(frozen=True)
class Platform:
    idp: str
    rp: str
    rp_database_url: str


def _idp(env: dict[str, str], log: Path, *args: str) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run(
        [sys.executable, "-c", IDP_MAIN, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    with log.open("a") as out:
        out.write(f"$ idp {' '.join(args[:3])}\n{completed.stdout}{completed.stderr}\n")
    return completed


def _must(completed: subprocess.CompletedProcess[str]) -> None:
    assert completed.returncode == 0, completed.stdout + completed.stderr


def _record_rp_accounts(database_url: str) -> None:
    upgrade(database_url)
    settings = load_settings({}, overrides={"database_url": database_url})
    db = Database(database_url)
    try:
        accounts = AccountService(db, IdNumberCipher(settings.all_data_keys(), settings.data_key_id))
        admin = accounts.add_ministry_admin(LOGOUT.name, LOGOUT.id_number)
        department = accounts.add_department_user(
            admin, PersonInput(RECORDED.name, "北京市科学技术委员会", RECORDED.id_number)
        )
        accounts.add_organizing_unit(
            department, unit_input(INVALID.serial, active=False, contact=INVALID.name)
        )
    finally:
        db.engine.dispose()


def _client_registration(rp_url: str) -> list[str]:
    """``idp client add`` for this RP, as README.md documents it."""
    return [
        *("client", "add", "--client-id", "training", "--secret", CLIENT_SECRET),
        *("--redirect-uri", f"{rp_url}/callback", "--first-party", "--allow-idcard"),
        *("--post-logout-redirect-uri", f"{rp_url}/"),
        *("--backchannel-logout-uri", f"{rp_url}/backchannel-logout"),
    ]


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    work = tmp_path_factory.mktemp("e2e")
    idp_port, rp_port = free_port(), free_port()
    idp_url, rp_url = f"http://127.0.0.1:{idp_port}", f"http://127.0.0.1:{rp_port}"
    idp_env = {
        **os.environ,
        "IDP_DATABASE_URL": f"sqlite:///{work / 'idp.sqlite3'}",
        "IDP_ISSUER": idp_url,
        "IDP_CAPTCHA": "off",
        "IDP_INSTANCE_DIR": str(work / "idp-instance"),
    }
    log = work / "idp-setup.log"
    _must(_idp(idp_env, log, "db", "upgrade"))
    _must(_idp(idp_env, log, "demo", "seed"))
    # The demo seed may already have registered "training" for the default port; register it for ours.
    _idp(idp_env, log, "client", "remove", "training")
    _must(_idp(idp_env, log, *_client_registration(rp_url)))
    for person in PEOPLE:
        _must(
            _idp(
                idp_env,
                log,
                "user",
                "add",
                "--username",
                person.username,
                "--password",
                PASSWORD,
                "--name",
                person.name,
            )
        )
        if person.status != "unverified":
            realname = ("--status", person.status, "--id-number", person.id_number, "--name", person.name)
            _must(_idp(idp_env, log, "user", "set-realname", person.username, *realname))

    rp_database_url = f"sqlite:///{work / 'rp.sqlite3'}"
    _record_rp_accounts(rp_database_url)
    rp_env = {
        "RP_ISSUER": idp_url,
        "RP_CLIENT_ID": "training",
        "RP_CLIENT_SECRET": CLIENT_SECRET,
        "RP_BASE_URL": rp_url,
        "RP_DATABASE_URL": rp_database_url,
    }
    idp_command = [sys.executable, "-c", IDP_MAIN, "serve", "--port", str(idp_port), "--workers", "1"]
    rp_command = [sys.executable, "-m", "training_rp", "serve", "--port", str(rp_port), "--workers", "1"]
    discovery = f"{idp_url}/.well-known/openid-configuration"
    with running(idp_command, idp_env, discovery, work / "idp.log", timeout=90):
        with running(rp_command, rp_env, f"{rp_url}/healthz", work / "rp.log", timeout=60):
            yield Platform(idp_url, rp_url, rp_database_url)


def sign_in_at_the_idp(page: Any, platform: Platform, person: Person) -> None:
    page.goto(platform.rp + "/login")
    page.wait_for_selector("input[name=username]")
    page.fill("input[name=username]", person.username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form:has(input[name=username]) [type=submit]").first.click()
    page.wait_for_url(platform.rp + "/**")
    page.wait_for_load_state("domcontentloaded")


def rp_sessions_of(platform: Platform, person: Person) -> int:
    db = Database(platform.rp_database_url)
    try:
        with db.transaction() as tx:
            query = select(RpSession.id_hash).join(Account, RpSession.account_id == Account.id)
            return len(tx.scalars(query.where(Account.name == person.name)).all())
    finally:
        db.engine.dispose()


def bound_subject(platform: Platform, person: Person) -> str | None:
    db = Database(platform.rp_database_url)
    try:
        with db.transaction() as tx:
            return tx.scalar(select(Account.sub).where(Account.name == person.name))
    finally:
        db.engine.dispose()


def test_an_unverified_user_is_turned_away_with_the_exact_message(platform: Platform, page: Any) -> None:
    sign_in_at_the_idp(page, platform, UNVERIFIED)
    assert page.inner_text("#message") == EXACT_REALNAME_MESSAGE
    assert page.get_attribute("#account-link", "href") == platform.idp + "/me"
    assert "010-58884232" in page.inner_text("body")
    assert page.locator("#logout").count() == 0


def test_a_user_under_review_gets_the_review_wording(platform: Platform, page: Any) -> None:
    sign_in_at_the_idp(page, platform, PENDING)
    message = page.inner_text("#message")
    assert "审核中" in message and message != EXACT_REALNAME_MESSAGE
    assert page.locator("#logout").count() == 0


def test_a_verified_user_with_a_recorded_account_gets_in_and_is_bound(platform: Platform, page: Any) -> None:
    assert bound_subject(platform, RECORDED) is None
    sign_in_at_the_idp(page, platform, RECORDED)
    assert page.inner_text("#role") == "出国(境)培训归口管理部门用户"
    assert page.inner_text("#unit") == "北京市科学技术委员会"
    for entry in ("#entry-projects", "#entry-matchmaking", "#entry-exams"):
        assert page.locator(entry).count() == 1
    assert bound_subject(platform, RECORDED)
    assert RECORDED.id_number not in page.content()


def test_a_verified_user_without_an_account_sees_how_to_apply(platform: Platform, page: Any) -> None:
    sign_in_at_the_idp(page, platform, UNRECORDED)
    assert "尚未开通本系统账号" in page.inner_text("#message")
    procedure = page.inner_text("#procedure")
    assert "引智司" in procedure and "组团单位" in procedure
    assert page.locator("#logout").count() == 0


def test_an_account_marked_invalid_is_refused(platform: Platform, page: Any) -> None:
    sign_in_at_the_idp(page, platform, INVALID)
    assert "无效" in page.inner_text("#message")
    assert page.locator("#logout").count() == 0
    assert bound_subject(platform, INVALID) is None


def test_logout_at_the_idp_ends_the_rp_session_over_the_back_channel(platform: Platform, page: Any) -> None:
    sign_in_at_the_idp(page, platform, LOGOUT)
    assert page.inner_text("#role") == "引智司管理员"
    assert rp_sessions_of(platform, LOGOUT) == 1

    # Log out at the IdP itself (not through the RP's button, which would end the RP session locally).
    end_session = json.loads(
        requests.get(f"{platform.idp}/.well-known/openid-configuration", timeout=5).text
    )["end_session_endpoint"]
    page.goto(end_session)
    # The IdP may ask to confirm (RP-Initiated Logout 1.0, section 2: no id_token_hint was sent).
    confirm = page.locator(
        f"form[action^='{end_session}'] [type=submit], form[action*='end'] button[name=confirm]"
    )
    if confirm.count():
        confirm.first.click()
        page.wait_for_load_state("domcontentloaded")

    deadline = time.monotonic() + 15
    while rp_sessions_of(platform, LOGOUT) and time.monotonic() < deadline:
        time.sleep(0.25)
    assert rp_sessions_of(platform, LOGOUT) == 0, "the IdP's logout token ended the RP session"
    page.goto(platform.rp + "/")
    assert page.locator("#logout").count() == 0
    assert page.locator("#login").count() == 1
