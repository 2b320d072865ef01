"""站内搜索 over matters and notices: what it finds, and hostile queries on both storage set-ups."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from flask.testing import FlaskClient

from idp.catalogue.models import NoticeKind
from idp.catalogue.notices import NoticeService
from idp.catalogue.search import MAX_QUERY, SearchQueryInvalid, SiteSearch, search_terms
from idp.catalogue.services import CatalogueService
from tests.integration.oidc import conftest as oidc
from tests.integration.test_catalogue_pages import add_matter, add_other_matters, text_of

idp_app = oidc.idp_app
services = oidc.services
browser_client = oidc.browser_client


@pytest.fixture()
def searcher(services: Any) -> SiteSearch:
    add_matter(services)
    add_other_matters(services)
    notices = NoticeService(services.db)
    notices.add("关于培训系统迁移的通知", "请使用原账号登录。", date(2026, 11, 20))
    notices.add("年度完成率100%的通报", "", date(2026, 11, 1))
    notices.add("字段 a_b 的说明", "", date(2026, 10, 1))
    notices.add("Platform Notice", "Upper and lower CASE", date(2026, 9, 1), NoticeKind.RESULT)
    return SiteSearch(CatalogueService(services.db), notices)


def matter_ids(searcher: SiteSearch, query: str) -> list[str]:
    return [m.client_id for m in searcher.search(query).matters]


def notice_titles(searcher: SiteSearch, query: str) -> list[str]:
    return [n.title for n in searcher.search(query).notices]


def test_matters_are_found_by_name_department_code_entry_and_tab_text(searcher: SiteSearch) -> None:
    assert matter_ids(searcher, "培训") == ["training"]
    assert matter_ids(searcher, "战略规划司") == ["crowd-plan"]
    assert matter_ids(searcher, "111-002") == ["foreign-experts"]
    assert matter_ids(searcher, "学员考试") == ["training"]
    assert matter_ids(searcher, "实名认证") == ["training", "crowd-plan"]  # tab text, catalogue order
    assert matter_ids(searcher, "不存在的事项") == []


def test_every_word_must_match(searcher: SiteSearch) -> None:
    assert matter_ids(searcher, "培训 引进国外智力管理司") == ["training"]
    assert matter_ids(searcher, "培训 战略规划司") == []
    assert notice_titles(searcher, "  迁移   原账号 ") == ["关于培训系统迁移的通知"]


def test_notices_are_found_case_insensitively_newest_first(searcher: SiteSearch) -> None:
    assert notice_titles(searcher, "platform") == ["Platform Notice"]
    assert notice_titles(searcher, "case") == ["Platform Notice"]
    assert notice_titles(searcher, "通") == ["关于培训系统迁移的通知", "年度完成率100%的通报"]


@pytest.mark.parametrize(
    ("query", "titles"),
    [
        ("%", ["年度完成率100%的通报"]),
        ("_", ["字段 a_b 的说明"]),
        ("a_b", ["字段 a_b 的说明"]),
        ("a%b", []),
        ("__", []),
        ("/", []),
        ("\\", []),
        ("'", []),
        ("' OR '1'='1", []),
        ("[a-z]", []),
    ],
)
def test_wildcards_and_quotes_are_taken_literally(
    searcher: SiteSearch, query: str, titles: list[str]
) -> None:
    assert notice_titles(searcher, query) == titles


def test_query_rules() -> None:
    assert search_terms(None) == ()
    assert search_terms("   ") == ()
    assert search_terms("培训\x00考试") == ("培训", "考试")
    assert search_terms("培训\u202e考试\u200b") == ("培训", "考试")
    assert search_terms("ABC abc") == ("abc",)
    assert search_terms("x" * MAX_QUERY) == ("x" * MAX_QUERY,)
    with pytest.raises(SearchQueryInvalid):
        search_terms("x" * (MAX_QUERY + 1))
    with pytest.raises(SearchQueryInvalid):
        search_terms("a b c d e f")


def test_the_search_page_shows_both_kinds_of_result(
    browser_client: FlaskClient, searcher: SiteSearch
) -> None:
    page = browser_client.get("/search", query_string={"q": "培训"})
    assert page.status_code == 200
    shown = text_of(page)
    assert "因公出国(境)培训" in shown and "关于培训系统迁移的通知" in shown
    assert "事项 1 项" in shown and "通知公告 1 条" in shown
    # The query is kept in the box.
    assert 'value="培训"' in page.get_data(as_text=True)

    empty = browser_client.get("/search")
    assert empty.status_code == 200 and "请输入" in text_of(empty)
    nothing = browser_client.get("/search", query_string={"q": "查无此项"})
    assert "没有找到相关事项" in text_of(nothing) and "没有找到相关通知公告" in text_of(nothing)


@pytest.mark.parametrize(
    "raw_query",
    [
        "q=%00",
        "q=%00%00%00培训",
        "q=%FF%FE",
        "q=%ED%A0%80",  # an encoded surrogate (invalid UTF-8)
        "q=%",
        "q=%%25",
        "q=%E4%B8",
        "q=a&q=b",
        "q=" + "%C3%A9" * 40,
        "q=%0D%0ASet-Cookie:%20x=1",
        "q=%F0%9F%98%80",
        "q=' OR 1=1 --",
    ],
)
def test_hostile_queries_get_a_page_not_an_error(
    browser_client: FlaskClient, searcher: SiteSearch, raw_query: str
) -> None:
    response = browser_client.get("/search?" + raw_query)
    assert response.status_code == 200, raw_query
    assert "Set-Cookie" not in str(response.headers).replace("Set-Cookie: lang", "")


@pytest.mark.parametrize("query", ["x" * (MAX_QUERY + 1), "长" * 10_000, "a b c d e f"])
def test_too_long_or_too_many_words_is_a_form_message(
    browser_client: FlaskClient, searcher: SiteSearch, query: str
) -> None:
    response = browser_client.get("/search", query_string={"q": query})
    assert response.status_code == 400
    message = text_of(response)
    assert "不能超过50个字符" in message or "搜索词最多5个" in message
    # The query is echoed into the box, cut to the box's size.
    assert f'value="{query[:MAX_QUERY]}" maxlength="{MAX_QUERY}"' in response.get_data(as_text=True)


def test_markup_in_the_query_is_escaped(browser_client: FlaskClient, searcher: SiteSearch) -> None:
    hostile = '"><script>alert(1)</script>'
    body = browser_client.get("/search", query_string={"q": hostile}).get_data(as_text=True)
    assert "<script>alert(1)" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert 'value="&#34;&gt;&lt;script&gt;' in body or 'value="&quot;&gt;&lt;script&gt;' in body
