"""The platform home and the service catalogue in a real headless Chromium, as the walkthrough tells it.

A live ``idp serve`` seeded by ``idp demo seed`` exactly as ``make run`` does, and a small HTTP server
standing in for the training system: its entries (/projects, /matchmaking, /exams) start the
system's own sign-in by redirecting to the IdP's /authorize, and its /callback records what arrives.
The person goes: home -> 热点服务 更多 -> 因公出国(境)培训 -> its three entries -> 项目管理 -> the
platform login -> back at the training system; then follows the matter and searches for it.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.interop.live_idp import LiveIdP, live_idp
from tests.support.live import free_port

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

DEMO_USER = "demo"
DEMO_PASSWORD = "Training2026go"  # the demo seed's person (idp/demo.py)
ENTRY_PATHS = {"项目管理": "/projects", "对接洽谈": "/matchmaking", "学员考试": "/exams"}


class TrainingSystem:
    """Stands in for the relying party: entries redirect to the IdP's authorization endpoint."""

    def __init__(self) -> None:
        self.issuer = ""
        self.visits: list[str] = []
        self.callbacks: list[dict[str, list[str]]] = []
        self._lock = threading.Lock()
        system = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
                target = urlsplit(self.path)
                with system._lock:
                    system.visits.append(target.path)
                if target.path in ENTRY_PATHS.values():
                    self.send_response(302)
                    self.send_header("Location", system.authorization_url())
                    self.end_headers()
                    return
                if target.path == "/callback":
                    with system._lock:
                        system.callbacks.append(parse_qs(target.query))
                    body = "<!doctype html><title>培训系统</title><p>已进入因公出国(境)培训项目管理系统</p>"
                    data = body.encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                self.send_error(404)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature of the base class
                """Quiet: query strings hold authorization codes."""

        self._server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self._server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="training-stub", daemon=True)

    def authorization_url(self) -> str:
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        return f"{self.issuer}/authorize?" + urlencode(
            {
                "response_type": "code",
                "client_id": "training",
                "redirect_uri": f"{self.base}/callback",
                "scope": "openid profile",
                "state": secrets.token_urlsafe(12),
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )

    def __enter__(self) -> TrainingSystem:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@dataclass(frozen=True)
class Setup:
    idp: LiveIdP
    training: TrainingSystem


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    with TrainingSystem() as training, live_idp(tmp_path_factory.mktemp("idp-portal")) as idp:
        training.issuer = idp.issuer
        seeded = idp.cli("demo", "seed", "--rp-base-url", training.base)
        assert "client training" in seeded
        yield Setup(idp, training)


def shot(page: Any, path: Path) -> None:
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000, f"{path.name} is (nearly) empty"


def test_from_the_home_page_to_the_training_entries_and_into_the_system(
    page: Any, setup: Setup, tmp_path: Path
) -> None:
    issuer = setup.idp.issuer
    page.goto(f"{issuer}/")
    notices = page.locator(".notices-panel")
    assert "通知通告" in notices.inner_text()
    first_notice = notices.locator(".dated-list li").first
    assert "关于因公出国(境)培训项目管理系统迁移至政务服务平台的通知" in first_notice.inner_text()
    assert first_notice.locator("time").inner_text() == "2026-11-20"
    for tab in ("在线办事", "结果公示", "用户登录", "用户注册"):
        assert page.get_by_role("navigation", name="主导航").get_by_role("link", name=tab).is_visible()
    shot(page, tmp_path / "home.png")

    # 热点服务 -> 更多: the full list of matters.
    page.locator(".hot-panel").get_by_role("link", name=re.compile("更多")).click()
    page.wait_for_url(f"{issuer}/services")
    training = page.locator("article.matter", has_text="因公出国(境)培训")
    assert "主办单位:引进国外智力管理司" in training.inner_text()
    assert "事项编码:11100000000013127Y4000117056001" in training.inner_text()
    entries = training.get_by_role("list", name="办理入口").get_by_role("link")
    assert entries.all_inner_texts() == list(ENTRY_PATHS)
    assert [entries.nth(i).get_attribute("href") for i in range(3)] == [
        setup.training.base + path for path in ENTRY_PATHS.values()
    ]
    for department in ("外国专家服务司", "战略规划司", "办公厅", "资源配置与管理司"):
        assert page.locator("article.matter", has_text=department).count() >= 1
    shot(page, tmp_path / "services.png")

    # The matter's own page with its tabs.
    training.get_by_role("link", name="因公出国(境)培训").click()
    page.wait_for_url(f"{issuer}/services/training")
    assert page.get_by_role("tab", name="申请条件").get_attribute("aria-selected") == "true"
    page.get_by_role("tab", name="办理流程").click()
    page.wait_for_url(f"{issuer}/services/training?tab=process")
    assert "热点服务" in page.get_by_role("tabpanel").inner_text()
    shot(page, tmp_path / "matter.png")

    # An entry opens the training system, which starts its sign-in at the platform.
    page.get_by_role("link", name="项目管理").click()
    page.wait_for_url(re.compile(re.escape(issuer) + r"/login\?"))
    assert "/projects" in setup.training.visits
    assert page.get_by_role("tab", name="自然人登录").get_attribute("aria-selected") == "true"
    page.locator("#username").fill(DEMO_USER)
    page.locator("#password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="用户登录").click()
    page.wait_for_url(re.compile(re.escape(setup.training.base) + r"/callback\?"))
    assert "已进入因公出国(境)培训项目管理系统" in page.locator("body").inner_text()
    assert setup.training.callbacks[-1]["code"][0]


def test_signed_in_people_follow_a_matter_and_find_it_by_search(
    page: Any, setup: Setup, tmp_path: Path
) -> None:
    issuer = setup.idp.issuer
    page.goto(f"{issuer}/login?next=/services/training")
    page.locator("#username").fill(DEMO_USER)
    page.locator("#password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="用户登录").click()
    page.wait_for_url(f"{issuer}/services/training")

    page.get_by_role("button", name="关注").click()
    page.wait_for_url(f"{issuer}/services/training?tab=conditions")
    assert page.get_by_role("button", name="取消关注").is_visible()
    page.goto(f"{issuer}/my/follows")
    assert page.get_by_role("heading", name="因公出国(境)培训").is_visible()
    shot(page, tmp_path / "my-follows.png")

    page.goto(f"{issuer}/")
    page.get_by_role("searchbox", name="站内搜索").fill("培训")
    page.get_by_role("searchbox", name="站内搜索").press("Enter")
    page.wait_for_url(re.compile(re.escape(issuer) + r"/search\?q="))
    results = page.locator(".matter-list")
    assert results.get_by_role("link", name="因公出国(境)培训").is_visible()
    assert (
        "关于因公出国(境)培训项目管理系统迁移至政务服务平台的通知" in page.locator(".dated-list").inner_text()
    )
    shot(page, tmp_path / "search.png")

    # Markup typed into the search box stays text.
    page.get_by_role("searchbox", name="站内搜索").fill('<img src=x onerror="window.__x=1">')
    page.get_by_role("searchbox", name="站内搜索").press("Enter")
    page.wait_for_url(re.compile(re.escape(issuer) + r"/search\?q="))
    assert page.evaluate("() => window.__x === undefined")
    assert page.locator("img[src=x]").count() == 0
