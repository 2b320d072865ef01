"""The catalogue's pages over HTTP on the real app (both storage set-ups): home, 在线办事, matters, notices,
我的事项; anonymous and signed in; hostile paths and stored data that must never reach a page."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from datetime import date
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import update

from idp import create_app
from idp.catalogue.models import NoticeKind
from idp.catalogue.notices import PER_PAGE, NoticeService
from idp.catalogue.services import CatalogueService
from idp.db import Database
from idp.oidc.clients import ClientService, ClientSpec
from idp.oidc.models import OAuthClient
from tests.integration.oidc import conftest as oidc
from tests.integration.oidc.conftest import authorize, exchange
from tests.support.live import free_port

# Fixtures of the OIDC suite: the real app per test on both storage set-ups, a person, a signed-in browser.
idp_app = oidc.idp_app
services = oidc.services
person = oidc.person
browser_client = oidc.browser_client
signed_in = oidc.signed_in
rp = oidc.rp

TRAINING_URLS = {
    "项目管理": "https://train.example.cn/projects",
    "对接洽谈": "https://train.example.cn/matchmaking",
    "学员考试": "https://train.example.cn/exams",
}


def catalogue_json(**changes: Any) -> str:
    document: dict[str, Any] = {
        "matter": "因公出国(境)培训",
        "department": "引进国外智力管理司",
        "code": "11100000000013127Y4000117056001",
        "entries": [{"name": name, "url": url} for name, url in TRAINING_URLS.items()],
        "hot": True,
        "order": 10,
        "tabs": {
            "conditions": "在政务服务平台注册并通过实名认证。",
            "process": "1. 登录平台\n2. 点击办理入口",
            "description": "因公出国(境)培训项目的申报与管理。",
        },
    }
    document.update(changes)
    return json.dumps(document, ensure_ascii=False)


def add_matter(services: Any, client_id: str = "training", **changes: Any) -> str:
    """Register a first-party client that carries a catalogue document; returns its id."""
    ClientService(services.db, services.settings).add(
        ClientSpec(
            client_id=client_id,
            secret="matter-secret-0123456789",
            redirect_uris=[f"https://{client_id}.example.cn/callback"],
            first_party=True,
            catalogue=catalogue_json(**changes),
        )
    )
    return client_id


def add_other_matters(services: Any) -> None:
    add_matter(
        services,
        "foreign-experts",
        matter="外国专家项目管理信息系统",
        department="外国专家服务司",
        code="111-002",
        entries=[{"name": "办理入口", "url": "https://experts.example.cn/"}],
        order=20,
        tabs={},
    )
    add_matter(
        services,
        "crowd-plan",
        matter="众筹科技“十四五”",
        department="战略规划司",
        code="111-003",
        entries=[{"name": "办理入口", "url": "https://plan.example.cn/"}],
        hot=False,
        order=30,
        tabs={"conditions": "在政务服务平台注册并通过实名认证。"},
    )


def text_of(response: Any) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def hrefs(response: Any) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="([^"]*)"', response.get_data(as_text=True))]


# --- home -----------------------------------------------------------------------------------------


def test_home_shows_notices_newest_first_with_dates_and_hot_services(
    browser_client: FlaskClient, services: Any
) -> None:
    notices = NoticeService(services.db)
    notices.add("较早的通知", "", date(2026, 9, 8))
    notices.add("最新的通知", "", date(2026, 9, 22))
    notices.add("同日较晚发布", "", date(2026, 9, 8))
    notices.add("评审结果", "", date(2026, 9, 30), NoticeKind.RESULT)
    add_matter(services)
    add_other_matters(services)

    page = browser_client.get("/")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    shown = text_of(page)
    assert "通知通告" in shown and "热点服务" in shown and "结果公示" in shown
    # Newest first; on the same date the later one first; each with its date.
    positions = [body.index(t) for t in ("最新的通知", "同日较晚发布", "较早的通知")]
    assert positions == sorted(positions)
    assert '<time datetime="2026-09-22">2026-09-22</time>' in body
    # Hot services: only matters flagged hot, in their order; 更多 leads to the full list.
    hot = body[body.index("热点服务") :]
    assert hot.index("因公出国(境)培训") < hot.index("外国专家项目管理信息系统")
    assert "众筹科技“十四五”" not in hot.split("结果公示")[0]
    assert "/services" in hrefs(page)
    assert "/services/training" in hrefs(page)
    # The search box is on the page, bounded.
    assert re.search(r'<form class="site-search"[^>]*action="/search"', body)
    assert 'maxlength="50"' in body


def test_home_works_with_an_empty_catalogue(browser_client: FlaskClient) -> None:
    page = browser_client.get("/")
    assert page.status_code == 200
    assert "暂无通知通告" in text_of(page)
    assert "暂无热点服务" in text_of(page)


def test_home_in_english_renders(browser_client: FlaskClient, services: Any) -> None:
    add_matter(services)
    page = browser_client.get("/?lang=en")
    assert page.status_code == 200
    assert '<html lang="en">' in page.get_data(as_text=True)


# --- 在线办事 and matter pages ---------------------------------------------------------------------


def test_the_full_list_shows_department_code_entries_and_tabs(
    browser_client: FlaskClient, services: Any
) -> None:
    add_matter(services)
    add_other_matters(services)

    page = browser_client.get("/services")
    assert page.status_code == 200
    shown = text_of(page)
    for expected in (
        "因公出国(境)培训",
        "主办单位:引进国外智力管理司",
        "事项编码:11100000000013127Y4000117056001",
        "外国专家服务司",
        "众筹科技“十四五”",
        "战略规划司",
    ):
        assert expected in shown
    links = hrefs(page)
    for url in TRAINING_URLS.values():
        assert url in links
    for tab in ("conditions", "process", "description", "documents"):
        assert f"/services/training?tab={tab}" in links
    for label in ("申请条件", "办理流程", "事项说明", "相关文件"):
        assert label in shown
    # Not signed in: no follow buttons.
    assert "/follow" not in page.get_data(as_text=True)


def test_the_list_filters_by_host_department(browser_client: FlaskClient, services: Any) -> None:
    add_matter(services)
    add_other_matters(services)
    filtered = text_of(browser_client.get("/services?department=战略规划司"))
    assert "众筹科技“十四五”" in filtered and "因公出国(境)培训" not in filtered
    # An unknown or hostile department is no filter at all, never an error.
    for value in ("不存在的司", "%", "x" * 5000, "\x00"):
        page = browser_client.get("/services", query_string={"department": value})
        assert page.status_code == 200
        assert "因公出国(境)培训" in text_of(page)


def test_a_matter_page_shows_its_entries_and_tabs(browser_client: FlaskClient, services: Any) -> None:
    add_matter(services)
    page = browser_client.get("/services/training")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    for name, url in TRAINING_URLS.items():
        assert f'<a class="entry" href="{url}" rel="noopener">{name}</a>' in body
    assert 'aria-selected="true"' in body and "在政务服务平台注册并通过实名认证。" in text_of(page)

    process = browser_client.get("/services/training?tab=process")
    assert "<p>1. 登录平台</p><p>2. 点击办理入口</p>" in process.get_data(as_text=True)
    empty = browser_client.get("/services/training?tab=documents")
    assert "暂无内容" in text_of(empty)
    # An unknown tab shows the first one.
    assert "在政务服务平台注册" in text_of(browser_client.get("/services/training?tab=<script>"))


def test_unknown_and_malformed_matters_are_404_pages(browser_client: FlaskClient, services: Any) -> None:
    add_matter(services)
    ClientService(services.db, services.settings).add(
        ClientSpec(client_id="plain", redirect_uris=["https://plain.example.cn/cb"], secret="x" * 20)
    )
    for path in (
        "/services/nope",
        "/services/plain",  # a client without catalogue data is no matter
        "/services/%00",
        "/services/" + "a" * 3000,
        "/services/%E4%B8%AD",
    ):
        page = browser_client.get(path)
        assert page.status_code == 404, path
        assert "该事项不存在或已下线" in text_of(page)
    # An encoded slash is no matter id at all: the router's own 404.
    assert browser_client.get("/services/..%2F..%2Fetc").status_code == 404


def test_a_tampered_stored_document_never_reaches_a_page(browser_client: FlaskClient, services: Any) -> None:
    add_matter(services)
    add_matter(services, "second", matter="第二个事项", code="222")
    hostile = catalogue_json(entries=[{"name": "项目管理", "url": "javascript:alert(1)"}])
    with services.db.transaction() as session:
        session.execute(
            update(OAuthClient).where(OAuthClient.client_id == "training").values(catalogue_json=hostile)
        )
    listing = browser_client.get("/services")
    assert listing.status_code == 200
    assert "javascript:" not in listing.get_data(as_text=True)
    assert "第二个事项" in text_of(listing)
    assert browser_client.get("/services/training").status_code == 404
    assert [m.client_id for m in CatalogueService(services.db).matters()] == ["second"]


def test_markup_in_catalogue_text_is_escaped(browser_client: FlaskClient, services: Any) -> None:
    add_matter(
        services,
        matter='<img src=x onerror="alert(1)">',
        tabs={"conditions": "<script>alert(2)</script>"},
    )
    for path in ("/services", "/services/training", "/"):
        body = browser_client.get(path).get_data(as_text=True)
        assert "<img src=x" not in body and "<script>alert" not in body
        assert "&lt;img src=x" in body


# --- notices -------------------------------------------------------------------------------------


def test_notice_lists_page_and_show_each_kind_in_its_place(
    browser_client: FlaskClient, services: Any
) -> None:
    notices = NoticeService(services.db)
    for day in range(1, PER_PAGE + 3):
        notices.add(f"通知{day:02d}", "", date(2026, 10, day))
    result = notices.add("评审结果公示", "第一行\n<b>第二行</b>", date(2026, 11, 1), NoticeKind.RESULT)

    first = browser_client.get("/notices")
    assert first.status_code == 200
    assert "通知22" in text_of(first) and "通知01" not in text_of(first)
    assert "评审结果公示" not in text_of(first)
    second = browser_client.get("/notices?page=2")
    assert "通知01" in text_of(second) and "通知22" not in text_of(second)
    # Hostile or out-of-range page numbers fall back to a real page.
    for value in ("0", "-1", "99999999999999999999", "²", "abc", "1e3", ""):
        assert browser_client.get("/notices", query_string={"page": value}).status_code == 200

    results = browser_client.get("/results")
    assert "评审结果公示" in text_of(results) and "通知22" not in text_of(results)
    detail = browser_client.get(f"/notices/{result.id}")
    assert detail.status_code == 200
    assert "<p>第一行</p><p>&lt;b&gt;第二行&lt;/b&gt;</p>" in detail.get_data(as_text=True)
    assert '发布日期:<time datetime="2026-11-01">2026-11-01</time>' in detail.get_data(as_text=True)


def test_missing_and_out_of_range_notices_are_404(browser_client: FlaskClient) -> None:
    for path in (
        "/notices/1",
        "/notices/0",
        "/notices/2147483648",
        "/notices/99999999999999999999",
        "/notices/-1",
    ):
        assert browser_client.get(path).status_code == 404, path


# --- 我的事项 ------------------------------------------------------------------------------------


def test_my_pages_send_anonymous_visitors_to_sign_in(browser_client: FlaskClient) -> None:
    for path in ("/my/matters", "/my/follows"):
        page = browser_client.get(path)
        assert page.status_code == 302
        assert page.headers["Location"] == "/login?next=" + path.replace("/", "%2F")


def test_my_matters_lists_the_matters_the_person_used(signed_in: FlaskClient, services: Any, rp: str) -> None:
    add_other_matters(services)
    CatalogueService(services.db).set_document(rp, catalogue_json(matter="用过的事项"), actor="test")
    before = signed_in.get("/my/matters")
    assert before.status_code == 200
    assert "您还没有办理过事项" in text_of(before)

    tokens = exchange(signed_in, authorize(signed_in))
    assert tokens.status_code == 200

    after = text_of(signed_in.get("/my/matters"))
    assert "用过的事项" in after and "已办理" in after
    assert "外国专家项目管理信息系统" not in after


def test_my_matters_shows_unit_grants(signed_in: FlaskClient, services: Any, person: Any) -> None:
    from idp.catalogue.services import MyMattersService, unit_grants_source

    grants = unit_grants_source()
    assert grants is not None, "idp.orgs.grants.grants_of_person is installed"
    add_matter(services)
    granted = _grant_handler_role(services, person.id, "training")

    mine = MyMattersService(services.db, CatalogueService(services.db), grants).of_person(person.id)
    assert [(m.matter.client_id, m.used) for m in mine] == [("training", False)]
    assert mine[0].grants[0].unit_name == granted
    page = text_of(signed_in.get("/my/matters"))
    assert f"法人授权:{granted} · 事项办理员" in page


def _grant_handler_role(services: Any, user_id: str, client_id: str) -> str:
    """Through the organisations domain: a unit gets the matter and grants the person the handler role."""
    import random

    from idp.orgs.actors import CONSOLE_ACTOR, Actor
    from idp.orgs.creditcode import generate_credit_code
    from idp.orgs.delegation import DelegationService
    from idp.orgs.permissions import PermissionService
    from idp.orgs.services import UnitInput, UnitService

    unit_name = "测试科技有限公司"
    code = generate_credit_code(random.Random(7))
    unit = UnitService(services.db).add(
        UnitInput(credit_code=code, name=unit_name), "unitadmin", "Unit-Admin-Passw0rd", CONSOLE_ACTOR
    )
    admin = Actor(user_id=unit.admin_user_id)
    permissions = PermissionService(services.db)
    permissions.approve(CONSOLE_ACTOR, permissions.apply(admin, client_id).id)
    DelegationService(services.db).grant(admin, unit.id, client_id, user_id, "matter_handler")
    return unit_name


# --- faults ---------------------------------------------------------------------------------------


def test_public_pages_stay_readable_while_the_store_is_down(
    database_url: str, database_on: Callable[[str], Database]
) -> None:
    database_on(database_url)  # empties the tables afterwards
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    app = create_app(
        {"database_url": database_url, "issuer": oidc.ISSUER, "captcha": "off", "redis_url": dead_redis}
    )
    app.config["TESTING"] = True
    add_matter(app.extensions["idp"])
    client = app.test_client()
    # A browser that holds a session cookie: the session cannot be checked while the store is down.
    client.set_cookie("idp_sid", "A" * 43)

    for path in ("/", "/services", "/services/training", "/search?q=培训", "/notices"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert "用户登录" in text_of(page), "shown as signed out"
    # What needs the session fails closed, with the 503 page.
    assert client.get("/my/matters").status_code == 503
