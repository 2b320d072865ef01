"""End to end in a real Chromium: an old URL of the training system, the notice, the 登录 button, and
the platform's login page for the training system, with the IdP, the training system's relying
party and the legacy host each running as its own server process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support.live import ROOT, free_port, running

pytestmark = pytest.mark.browser


def console(script_module: str, *args: str) -> list[str]:
    """What the console script ``script_module:main`` runs, without needing it installed."""
    code = f"import sys; from {script_module} import main; sys.exit(main())"
    return [sys.executable, "-c", code, *args]


def run_once(args: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(
        args, env={**os.environ, **env}, cwd=ROOT, capture_output=True, text=True, timeout=180, check=False
    )
    assert result.returncode == 0, f"{args[3:]} failed: {result.stderr[-2000:]}"
    return result.stdout


@dataclass(frozen=True)
class Chain:
    legacy: str
    training: str
    issuer: str


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    work = tmp_path_factory.mktemp("login-chain")
    idp_port, rp_port, legacy_port = free_port(), free_port(), free_port()
    issuer = f"http://127.0.0.1:{idp_port}"
    training = f"http://127.0.0.1:{rp_port}"
    legacy = f"http://127.0.0.1:{legacy_port}"

    idp_env = {
        "IDP_DATABASE_URL": f"sqlite:///{work / 'idp.sqlite3'}",
        "IDP_ISSUER": issuer,
        "IDP_INSTANCE_DIR": str(work / "idp"),
        "IDP_OUTBOX_DIR": str(work / "idp" / "outbox"),
    }
    run_once(console("idp.cli", "db", "upgrade"), idp_env)
    seeded = run_once(console("idp.cli", "demo", "seed", "--rp-base-url", training), idp_env)
    secret = re.search(r"client training \(secret (\S+)\)", seeded)
    assert secret, "the demo seed did not report the training client's secret"

    rp_env = {
        "RP_ISSUER": issuer,
        "RP_BASE_URL": training,
        "RP_CLIENT_ID": "training",
        "RP_CLIENT_SECRET": secret.group(1),
        "RP_DATABASE_URL": f"sqlite:///{work / 'training.sqlite3'}",
    }
    run_once(console("training_rp.cli", "db", "upgrade"), rp_env)
    legacy_env = {
        "LEGACY_PUBLIC_URL": legacy,
        "LEGACY_LOGIN_URL": f"{training}/login",
        "LEGACY_PLATFORM_URL": issuer,
    }
    with ExitStack() as stack:
        stack.enter_context(
            running(
                console("idp.cli", "serve", "--host", "127.0.0.1", "--port", str(idp_port), "--workers", "1"),
                idp_env,
                f"{issuer}/healthz",
                work / "idp.log",
                timeout=60,
            )
        )
        stack.enter_context(
            running(
                console("training_rp.cli", "serve", "--port", str(rp_port), "--workers", "1"),
                rp_env,
                f"{training}/healthz",
                work / "training.log",
                timeout=60,
            )
        )
        stack.enter_context(
            running(
                [
                    sys.executable,
                    "-m",
                    "legacy_redirect",
                    "serve",
                    "--port",
                    str(legacy_port),
                    "--workers",
                    "1",
                ],
                legacy_env,
                f"{legacy}/healthz",
                work / "legacy.log",
            )
        )
        yield Chain(legacy=legacy, training=training, issuer=issuer)


def test_old_url_notice_login_button_reaches_the_platform_login_for_training(page: Any, chain: Chain) -> None:
    authorize_requests: list[str] = []
    page.on("request", lambda r: authorize_requests.append(r.url) if "/authorize" in r.url else None)

    page.goto(chain.legacy + "/index.jsp")  # an old bookmark: 301 to the notice
    assert page.url == chain.legacy + "/"
    assert "您正在进入" in page.locator("h1").inner_text()

    page.get_by_role("link", name="登录", exact=True).click()
    page.wait_for_url(re.compile(re.escape(chain.issuer) + r"/login\b.*"))
    assert "自然人登录" in page.locator("body").inner_text()

    assert authorize_requests, "the relying party did not start an authorization request"
    started = urlsplit(authorize_requests[0])
    assert f"{started.scheme}://{started.netloc}" == chain.issuer
    query = parse_qs(started.query)
    assert query["client_id"] == ["training"]
    assert query["redirect_uri"] == [chain.training + "/callback"]


def test_old_login_page_goes_straight_to_the_platform_login(page: Any, chain: Chain) -> None:
    page.goto(chain.legacy + "/login.jsp")
    page.wait_for_url(re.compile(re.escape(chain.issuer) + r"/login\b.*"))
    assert "自然人登录" in page.locator("body").inner_text()
