"""Real processes for the end-to-end tests: the IdP (``idp serve``) and two instances of the
training system (``python -m training_rp serve``), each a subsystem with its own client id,
database, host and port, driven by headless Chromium.

The IdP listens on 127.0.0.1, the relying parties on 127.0.0.2 and 127.0.0.3: separate hosts, as
in production, so the browser keeps their cookies apart (cookies do not care about ports).
Everything is set up the way an operator does it, through the ``idp`` and ``training-rp``
commands; the tests then read the relying parties' own databases and logs to see what happened.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.interop.live_idp import LiveIdP, live_idp
from tests.support.live import ROOT, running
from tests.support.services import redis_url, scratch_postgres_database
from tests.training_rp.helpers import synthetic_id
from training_rp.config import load_settings
from training_rp.crypto import IdNumberCipher
from training_rp.db import Database
from training_rp.models import Account, RpSession
from training_rp.services.accounts import AccountService

RP_COMMAND = [sys.executable, "-m", "training_rp"]
PASSWORD = "Correct-Horse-Battery-42!"
UNIT_PASSWORD = "Unit-Admin-Seal-2026!"
#: How long the browser waits for a page or element.
PAGE_TIMEOUT_MS = 20_000
#: How long a test waits for something that happens in the background (a back-channel logout).
BACKGROUND_WAIT = 20.0
#: RP 1 refreshes after this many seconds, so a test can see a refresh happen on a page load.
RP1_REFRESH_AFTER = 4


@dataclass(frozen=True)
class Person:
    username: str
    name: str
    serial: int

    @property
    def id_number(self) -> str:
        return synthetic_id(self.serial, born="19850615", region="110108")


#: Verified people with an account at both relying parties; each test uses its own.
SSO = Person("e2e_sso", "赵单点", 201)
SLO_PLATFORM = Person("e2e_slo_platform", "钱退出", 202)
SLO_RP = Person("e2e_slo_rp", "孙退出", 203)
SLO_DOWN = Person("e2e_slo_down", "李宕机", 204)
REAUTH = Person("e2e_reauth", "周重登", 205)
HANDLER = Person("e2e_handler", "吴办理", 206)
SLO_REAUTH = Person("e2e_slo_reauth", "郑再登", 207)
PEOPLE = (SSO, SLO_PLATFORM, SLO_RP, SLO_DOWN, REAUTH, HANDLER, SLO_REAUTH)


@dataclass
class RelyingParty:
    """One instance of the training system as a separate process, with its own client id and database."""

    label: str
    client_id: str
    secret: str
    host: str
    port: int
    work: Path
    issuer: str
    refresh_after: int = 300
    _stack: ExitStack | None = None
    _starts: int = 0
    logs: list[Path] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.work / 'rp.sqlite3'}"

    @property
    def env(self) -> dict[str, str]:
        # Every setting is given, so a developer's own RP_* variables cannot leak in.
        return {
            "RP_ENV": "development",
            "RP_ISSUER": self.issuer,
            "RP_CLIENT_ID": self.client_id,
            "RP_CLIENT_SECRET": self.secret,
            "RP_BASE_URL": self.base_url,
            "RP_DATABASE_URL": self.database_url,
            "RP_INSTANCE_DIR": str(self.work),
            "RP_REFRESH_AFTER": str(self.refresh_after),
            "RP_WORKERS": "2",
        }

    def cli(self, *args: str) -> str:
        result = subprocess.run(
            [*RP_COMMAND, *args],
            env={**os.environ, **self.env},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, f"training-rp {args[0]} failed: {result.stderr[-2000:]}"
        return result.stdout

    def record_administrators(self, people: Iterable[Person]) -> None:
        """What ``training-rp admin add`` does, in this process: one command per person is slow."""
        settings = load_settings({}, overrides={"database_url": self.database_url})
        db = Database(self.database_url)
        try:
            accounts = AccountService(db, IdNumberCipher(settings.all_data_keys(), settings.data_key_id))
            for person in people:
                accounts.add_ministry_admin(person.name, person.id_number)
        finally:
            db.engine.dispose()

    def start(self) -> None:
        assert self._stack is None, f"{self.label} is already running"
        self._starts += 1
        log = self.work / f"{self.label}-{self._starts}.log"
        self.logs.append(log)
        command = [*RP_COMMAND, "serve", "--host", self.host, "--port", str(self.port)]
        stack = ExitStack()
        stack.enter_context(running(command, self.env, f"{self.base_url}/healthz", log, timeout=60))
        self._stack = stack

    def stop(self) -> None:
        if self._stack is not None:
            self._stack.close()
            self._stack = None

    def log_text(self) -> str:
        return "".join(path.read_text(errors="replace") for path in self.logs if path.exists())

    def signed_in_sessions(self, person: Person | None = None) -> int:
        """Signed-in sessions in this instance's own database (of ``person``'s account, or all)."""
        db = Database(self.database_url)
        try:
            with db.transaction() as tx:
                query = select(func.count()).select_from(RpSession).where(RpSession.sub.is_not(None))
                if person is not None:
                    query = query.where(RpSession.sub == self.subject_of(person))
                return int(tx.scalar(query) or 0)
        finally:
            db.engine.dispose()

    def subject_of(self, person: Person) -> str | None:
        db = Database(self.database_url)
        try:
            with db.transaction() as tx:
                return tx.scalar(select(Account.sub).where(Account.name == person.name))
        finally:
            db.engine.dispose()


@dataclass
class Platform:
    idp: LiveIdP
    rp1: RelyingParty
    rp2: RelyingParty

    @property
    def rps(self) -> tuple[RelyingParty, RelyingParty]:
        return self.rp1, self.rp2


def free_port_on(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def register(idp: LiveIdP, rp: RelyingParty, name: str) -> None:
    """``idp client add`` for one instance, as README.md documents it for the training system."""
    idp.cli(
        *("client", "add", "--client-id", rp.client_id, "--secret", rp.secret, "--name", name),
        *("--redirect-uri", f"{rp.base_url}/callback", "--first-party", "--allow-idcard"),
        *("--post-logout-redirect-uri", f"{rp.base_url}/"),
        *("--backchannel-logout-uri", f"{rp.base_url}/backchannel-logout"),
    )


def add_person(idp: LiveIdP, person: Person) -> None:
    idp.cli("user", "add", "--username", person.username, "--password", PASSWORD, "--name", person.name)
    idp.cli(
        *("user", "set-realname", person.username, "--status", "verified"),
        *("--id-number", person.id_number, "--name", person.name),
    )


def build_platform(work: Path, database_url: str | None = None, store_url: str = "") -> Iterator[Platform]:
    with live_idp(work / "idp", database_url, store_url) as idp:
        rp1 = RelyingParty(
            "rp1",
            "training",
            "e2e-training-secret-0123456789",
            "127.0.0.2",
            free_port_on("127.0.0.2"),
            work / "rp1",
            idp.issuer,
            refresh_after=RP1_REFRESH_AFTER,
        )
        rp2 = RelyingParty(
            "rp2",
            "training2",
            "e2e-training2-secret-0123456789",
            "127.0.0.3",
            free_port_on("127.0.0.3"),
            work / "rp2",
            idp.issuer,
        )
        register(idp, rp1, "因公出国(境)培训项目管理系统")
        register(idp, rp2, "因公出国(境)培训项目管理系统(第二子系统)")
        with ThreadPoolExecutor(max_workers=2) as pool:
            # Each person's two commands run in order; different people's commands side by side.
            list(pool.map(lambda person: add_person(idp, person), PEOPLE))
        for rp in (rp1, rp2):
            rp.work.mkdir(parents=True, exist_ok=True)
            rp.cli("db", "upgrade")
            rp.cli("admin", "add", "--name", PEOPLE[0].name, "--id-number", PEOPLE[0].id_number)
            rp.record_administrators(PEOPLE[1:])
        try:
            rp1.start()
            rp2.start()
            yield Platform(idp, rp1, rp2)
        finally:
            rp2.stop()
            rp1.stop()


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """The IdP on SQLite with its embedded store, and two relying parties."""
    yield from build_platform(tmp_path_factory.mktemp("e2e-sqlite"))


@pytest.fixture(scope="session")
def platform_on_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """The IdP on PostgreSQL and Redis (skipped locally without them, a failure in CI)."""
    store_url = redis_url()
    with scratch_postgres_database() as database_url:
        yield from build_platform(tmp_path_factory.mktemp("e2e-services"), database_url, store_url)


@pytest.fixture()
def new_page(browser: Any) -> Iterator[Callable[[], Any]]:
    """Pages in browser contexts of their own: each one is a separate browser with its own cookies."""
    contexts: list[Any] = []

    def make() -> Any:
        context = browser.new_context(locale="zh-CN")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        return page

    yield make
    for context in contexts:
        context.close()


# --- what a person does in the browser -------------------------------------------------------------


class Navigations:
    """Every URL the page's main frame loaded, to tell whether the IdP's login form was shown."""

    def __init__(self, page: Any) -> None:
        self.urls: list[str] = []
        page.on("framenavigated", self._navigated)

    def _navigated(self, frame: Any) -> None:
        if frame.parent_frame is None:
            self.urls.append(frame.url)

    def login_forms_of(self, idp: LiveIdP) -> list[str]:
        return [u for u in self.urls if u.startswith(idp.issuer + "/login")]


def fill_idp_login(page: Any, username: str, password: str) -> None:
    page.wait_for_selector("form.login-form input[name=username]")
    page.fill("form.login-form input[name=username]", username)
    page.fill("form.login-form input[name=password]", password)
    page.locator("form.login-form button[type=submit]").click()


def sign_in_at(page: Any, rp: RelyingParty, person: Person, query: str = "") -> None:
    """Open the RP's /login, sign in on the IdP's form, and land back at the RP."""
    page.goto(rp.base_url + "/login" + query)
    fill_idp_login(page, person.username, PASSWORD)
    page.wait_for_url(re.compile(re.escape(rp.base_url) + r"/.*"))
    page.wait_for_load_state("domcontentloaded")


def is_signed_in_at(page: Any, rp: RelyingParty) -> bool:
    page.goto(rp.base_url + "/")
    return bool(page.locator("#logout").count())


def wait_until(condition: Callable[[], bool], what: str, timeout: float = BACKGROUND_WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {what}")
        time.sleep(0.2)


def backchannel_logouts(rp: RelyingParty) -> list[int]:
    """Numbers of sessions each accepted logout token ended, from the RP's log."""
    return [int(n) for n in re.findall(r"backchannel logout: ended (\d+) session", rp.log_text())]


def rejected_logout_tokens(rp: RelyingParty) -> list[str]:
    return re.findall(r"backchannel logout rejected: reason=(\w+)", rp.log_text())


def signed_in_everywhere(platform: Platform, page: Any, person: Person) -> None:
    sign_in_at(page, platform.rp1, person)
    page.goto(platform.rp2.base_url + "/login")
    page.wait_for_url(platform.rp2.base_url + "/")
    for rp in platform.rps:
        assert rp.signed_in_sessions(person) == 1, f"{rp.label} has the person's session"


def log_out_on_the_platform(platform: Platform, page: Any) -> float:
    """Press the platform's own 退出登录 button; returns how long the logout page took."""
    page.goto(platform.idp.issuer + "/me")
    button = page.locator("form.nav-form button[type=submit]")
    started = time.monotonic()
    button.click()
    page.wait_for_load_state("load")
    return time.monotonic() - started


def assert_logged_out_by_the_back_channel(rp: RelyingParty, person: Person, before: int) -> None:
    wait_until(lambda: rp.signed_in_sessions(person) == 0, f"{rp.label} ends the session")
    wait_until(lambda: len(backchannel_logouts(rp)) > before, f"{rp.label} logs the logout token")
    assert rejected_logout_tokens(rp) == []


def idp_org_requests(idp: LiveIdP) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(idp.cli("org", "requests", "--json"))
    return rows
