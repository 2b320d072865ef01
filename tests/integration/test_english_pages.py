"""The IdP's pages in English: no Chinese left on them except data, and Chinese still the default.

Every main page is rendered with ``?lang=en`` (then remembered in the ``lang`` cookie, so form
posts answer in English too) on both storage set-ups. The visible text of a page (text nodes,
``placeholder``, ``alt``, ``aria-label``, ``title`` and button values) must hold no Han character
once the page's own data values (names of people, units and matters, notice titles, typed
addresses) and the language switch label 中文 are taken out. A new Chinese text that is not marked
for translation, or a marked one without an English entry in the catalog, fails here. The same
pages without a language choice render in Chinese.

The catalog itself is checked too: every message id of a fresh extraction has an English text
with the same placeholders, nothing is fuzzy, and the compiled ``.mo`` matches the ``.po``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient

from idp.accounts.password_policy import MESSAGES, PasswordProblem
from idp.catalogue.models import NoticeKind
from idp.catalogue.notices import NoticeService
from idp.context import Services
from idp.web.i18n import translate
from tests.integration import test_me_pages
from tests.integration.oidc import conftest as oidc
from tests.integration.oidc.conftest import PUBLIC_REDIRECT, csrf_of, pkce_pair
from tests.integration.orgs_world import PASSWORD as ORG_PASSWORD
from tests.integration.orgs_world import TRAINING, UNIT_PASSWORD, World, sign_in
from tests.integration.realname.conftest import source_url  # noqa: F401 - fixture
from tests.integration.test_catalogue_pages import TRAINING_URLS, add_matter, add_other_matters
from tests.integration.test_me_pages import (  # noqa: F401 - fixtures
    ZHANG,
    anon_fixture,
    app_fixture,
    owner,
    save_profile,
    svc_fixture,
    upload,
)
from tests.integration.test_review_pages import applies, person_client, request_ids

pytest_plugins = ("tests.integration.orgs_fixtures",)

# Fixtures of the OIDC suite: the real app per test on both storage set-ups, a person, browsers.
idp_app = oidc.idp_app
services = oidc.services
person = oidc.person
public_rp = oidc.public_rp
browser_client = oidc.browser_client
signed_in = oidc.signed_in
#: ``owner``'s signed-in browser on the app that checks real names against the simulator.
owner_browser = test_me_pages.client

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "idp" / "translations"
HAN = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")
#: Deliberate Chinese on every page: the language switch names its language in that language.
SWITCH = ("中文",)
#: Attributes whose text a person reads (or hears from a screen reader).
READ_ATTRIBUTES = ("placeholder", "alt", "aria-label", "title")
#: The catalogue of the pages below, as stored data (tests/integration/test_catalogue_pages.py).
CATALOGUE_DATA = (
    "因公出国(境)培训",
    "引进国外智力管理司",
    "外国专家项目管理信息系统",
    "外国专家服务司",
    "众筹科技“十四五”",
    "战略规划司",
    "办理入口",
    "在政务服务平台注册并通过实名认证。",
    "1. 登录平台",
    "2. 点击办理入口",
    "因公出国(境)培训项目的申报与管理。",
    *TRAINING_URLS,
)
NOTICE_TITLES = ("关于开展2026年度因公出国(境)培训项目申报工作的通知", "2026年度培训项目评审结果")
#: The legal-person world (tests/integration/orgs_world.py) and the people added below.
ORG_DATA = (
    "北京示例国际交流中心",
    "王老师",
    "因公出国(境)培训项目管理系统",
    "国家科技经费预算申报管理",
    "因公出国(境)培训",
    "引进国外智力管理司",
    "项目管理",
    "用于组团出访培训",
    "李四",
)
#: What ZHANG's profile form posts (tests/integration/test_me_pages.py), with the failing name.
PROFILE_DATA = ("张伟伟", ZHANG.name, "工程师", "北京市海淀区")


# --- reading a page ------------------------------------------------------------------------------


class _VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        values = dict(attrs)
        self.parts += [values[name] or "" for name in READ_ATTRIBUTES if values.get(name)]
        if tag in ("input", "button") and values.get("type") in ("submit", "button"):
            self.parts.append(values.get("value") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    return "\n".join(parser.parts)


def untranslated(html: str, data: Iterable[str]) -> list[str]:
    """Lines of the page's visible text that still hold Chinese once ``data`` is taken out."""
    text = visible_text(html)
    for value in sorted({*data, *SWITCH}, key=len, reverse=True):
        text = text.replace(value, " ")
    return [line.strip() for line in text.splitlines() if HAN.search(line)]


def assert_english(response: Any, data: Iterable[str] = (), status: int = 200) -> str:
    html: str = response.get_data(as_text=True)
    assert response.status_code == status, (response.status_code, html[:300])
    assert '<html lang="en">' in html
    left = untranslated(html, data)
    assert not left, f"Chinese left on the English page {response.request.path}: {left}"
    return html


def assert_chinese(response: Any, status: int = 200) -> None:
    html: str = response.get_data(as_text=True)
    assert response.status_code == status, (response.status_code, html[:300])
    assert '<html lang="zh-CN">' in html and "科学技术部政务服务平台" in html
    assert untranslated(html, ()), "the Chinese page shows Chinese texts"


def in_language(browser: FlaskClient, path: str, lang: str) -> Any:
    """GET ``path`` choosing ``lang``; the choice is remembered for the browser's later requests."""
    return browser.get(path + ("&" if "?" in path else "?") + urlencode({"lang": lang}))


def both_languages(browser: FlaskClient, paths: Iterable[str], data: Iterable[str] = ()) -> None:
    values = tuple(data)
    for path in paths:
        assert_english(in_language(browser, path, "en"), values)
        assert_chinese(in_language(browser, path, "zh"))
    in_language(browser, "/", "en")


def authorize_query(client_id: str, redirect_uri: str, scope: str = "openid profile") -> str:
    _, challenge = pkce_pair()
    return "/authorize?" + urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": scope,
            "state": "st",
            "nonce": "nn",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )


# --- the catalog ---------------------------------------------------------------------------------


def _catalog(path: Path) -> Any:
    with path.open("rb") as handle:
        return read_mo(handle) if path.suffix == ".mo" else read_po(handle)


def test_every_marked_text_has_an_english_translation() -> None:
    with (TRANSLATIONS / "babel.cfg").open() as cfg:
        # Babel ships no type information for its command-line helpers.
        method_map, options_map = parse_mapping_cfg(cfg)  # type: ignore[no-untyped-call]
    keywords = {**DEFAULT_KEYWORDS, "_l": None}  # the same keywords as the command in babel.cfg
    extracted = {
        found[2] if isinstance(found[2], str) else found[2][0]
        for found in extract_from_dir(str(ROOT / "idp"), method_map, options_map, keywords=keywords)
    }
    po = _catalog(TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po")
    translated = {m.id: m.string for m in po if m.id and m.string and not m.fuzzy}
    missing = sorted(str(msgid) for msgid in extracted if msgid not in translated)
    assert not missing, f"texts without English (re-run the commands in babel.cfg): {missing}"
    assert not [m.id for m in po if m.id and m.fuzzy], "fuzzy entries left in the catalog"
    assert not [m.id for m in po if m.id and HAN.search(str(m.string))], "Chinese in English texts"
    problems = [(m.id, [str(e) for e in errors]) for m, errors in po.check()]
    assert not problems, f"placeholders differ between Chinese and English: {problems}"
    mo = _catalog(TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.mo")
    compiled = {m.id: m.string for m in mo if m.id}
    assert compiled == translated, "messages.mo is out of date: pybabel compile -d idp/translations"


def test_service_messages_show_the_half_in_the_page_language(idp_app: Flask) -> None:
    weak = " ".join(MESSAGES[p] for p in (PasswordProblem.TOO_SHORT, PasswordProblem.COMMON))
    two_sentences = (
        "保存成功。请填写完整的必填信息以进行实名认证。 "
        "Saved. Fill in every required field to verify your real name."
    )
    with idp_app.test_request_context("/?lang=en"):
        assert translate(weak) == (
            "The password must have at least 8 characters. "
            "This password is too common and easy to guess; please choose another."
        )
        assert translate(two_sentences) == "Saved. Fill in every required field to verify your real name."
        assert translate("登录名或密码错误。连续多次错误后账号将被暂时锁定,请稍后再试。").startswith(
            "Wrong login name or password."
        )
        assert translate("client 'x' already exists") == "client 'x' already exists"
        assert translate("") == ""
    with idp_app.test_request_context("/?lang=zh"):
        assert translate(weak) == "密码至少需要 8 个字符。该密码过于常见,容易被猜中,请换一个。"
        assert translate(two_sentences) == "保存成功。请填写完整的必填信息以进行实名认证。"


def test_the_check_finds_chinese_that_is_not_data() -> None:
    page = (
        '<html lang="en"><head><title>Home</title><script>var s = "脚本";</script></head><body>'
        '<a href="/?lang=zh">中文</a><input placeholder="请输入"><p>Unit: 北京示例国际交流中心</p>'
        "<p>Host department：外交部</p></body></html>"
    )
    assert untranslated(page, ["北京示例国际交流中心"]) == ["请输入", "Host department：外交部"]
    assert untranslated(page, ["北京示例国际交流中心", "请输入", "外交部"]) == ["Host department："]


# --- anonymous pages -----------------------------------------------------------------------------


def test_public_pages_in_english(browser_client: FlaskClient, services: Services) -> None:
    add_matter(services)
    add_other_matters(services)
    notices = NoticeService(services.db)
    notice = notices.add(NOTICE_TITLES[0], "请各单位按时提交申报材料。")
    notices.add(NOTICE_TITLES[1], "", kind=NoticeKind.RESULT)
    data = (*CATALOGUE_DATA, *NOTICE_TITLES, "请各单位按时提交申报材料。", "培训")
    both_languages(
        browser_client,
        [
            "/login",
            "/login?type=legal",
            "/register",
            "/forgot-password",
            "/national-login",
            "/",
            "/services",
            "/services?department=外国专家服务司",
            "/services/training",
            "/services/training?tab=documents",
            "/notices",
            "/results",
            f"/notices/{notice.id}",
            "/search?q=培训",
            "/search",
            "/org/register",
        ],
        data,
    )


def test_form_messages_and_error_pages_in_english(browser_client: FlaskClient, person: oidc.Person) -> None:
    in_language(browser_client, "/", "en")
    token = csrf_of(browser_client.get("/login").get_data(as_text=True))
    form = {"csrf_token": token, "account_type": "natural", "username": person.username}
    wrong = browser_client.post("/login", data={**form, "password": "Wrong-Pass-1"})
    assert "Wrong login name or password" in assert_english(wrong, status=400)
    empty = browser_client.post("/login", data={"csrf_token": token, "username": "", "password": ""})
    assert "Please enter your login name." in assert_english(empty, status=400)

    token = csrf_of(browser_client.get("/register").get_data(as_text=True))
    refused = browser_client.post("/register", data={"csrf_token": token, "contact": "not a contact"})
    assert "Please enter a valid mobile number or email address." in assert_english(refused, status=400)
    token = csrf_of(browser_client.get("/org/register").get_data(as_text=True))
    unit = {"name": "测试单位", "unit_type": "enterprise", "admin_username": "testunit"}
    passwords = {"password": UNIT_PASSWORD, "password_confirm": UNIT_PASSWORD}
    bad_code = {"csrf_token": token, "credit_code": "91110000ABCDEFGHIJ", **unit, **passwords}
    bad_unit = browser_client.post("/org/register", data=bad_code)
    # A credit-code service message: its English half only.
    assert "other than I, O, S, V and Z" in assert_english(bad_unit, ["测试单位"], status=400)
    too_many = browser_client.get("/search?q=" + "+".join("abcdef"))
    assert "at most 5 search words" in assert_english(too_many, status=400)

    assert_english(browser_client.get("/no-such-page"), status=404)
    assert_english(browser_client.get("/services/no-such-matter"), status=404)
    assert_english(browser_client.post("/login", data={"username": "x"}), status=400)  # no CSRF token
    assert_english(browser_client.get("/authorize?client_id=a&client_id=b"), status=400)
    assert_english(browser_client.get(authorize_query("nobody", "https://x.example/cb")), status=400)
    assert_chinese(in_language(browser_client, "/no-such-page", "zh"), status=404)


# --- a signed-in person ----------------------------------------------------------------------------


def test_consent_and_end_session_in_english(signed_in: FlaskClient, public_rp: str) -> None:
    names = ("张三",)
    consent = authorize_query(public_rp, PUBLIC_REDIRECT, "openid profile email phone realname")
    both_languages(signed_in, [consent, "/end-session", "/me/password", "/me/contact"], names)
    scopes = assert_english(in_language(signed_in, consent, "en"), names)
    assert "Sign-in identifier" in scopes and "Real-name status, verified name and date of birth" in scopes
    both_languages(signed_in, ["/my/matters", "/my/follows", "/me/grants"], names)
    page = assert_english(in_language(signed_in, "/end-session", "en"), names)
    ended = signed_in.post("/end-session", data={"csrf_token": csrf_of(page), "confirm": "yes"})
    assert_english(ended)


def test_my_information_pages_in_english_after_a_failed_check(owner_browser: FlaskClient) -> None:
    client = owner_browser
    in_language(client, "/me", "en")
    saved = save_profile(client, ZHANG, name="张伟伟")
    assert saved.status_code == 303
    first = assert_english(client.get("/me"), PROFILE_DATA)
    assert "Verification failed; if your data are right" in first, "the service's English half"
    assert "Real-name verification failed" in first
    both_languages(client, ["/me", "/me/edit", "/me/realname/upload"], PROFILE_DATA)

    refused = upload(client, "front", b"GIF89a not an image")
    assert "Only JPEG or PNG images can be uploaded." in assert_english(refused, PROFILE_DATA, 400)
    invalid = save_profile(client, ZHANG, name="张伟伟", country="US", birth_date="1985-13-45")
    # The profile service names the field of a malformed date in Chinese in its English half too.
    fields = assert_english(invalid, (*PROFILE_DATA, "出生日期"), 400)
    assert "The country is not on the chosen continent." in fields and "use YYYY-MM-DD" in fields


def test_reviewer_console_in_english(app: Flask, svc: Services) -> None:
    applies(app, svc, "zhangwei", ZHANG, name="张伟伟")
    _, reviewer = person_client(app, svc, "checker", ("reviewer",))
    request_id = request_ids(svc)[0]
    both_languages(reviewer, ["/review", f"/review/{request_id}"], PROFILE_DATA)
    token = csrf_of(reviewer.get(f"/review/{request_id}").get_data(as_text=True))
    missing_reason = reviewer.post(
        f"/review/{request_id}/decision", data={"csrf_token": token, "decision": "reject", "reason": ""}
    )
    assert "Give a reason when rejecting." in assert_english(missing_reason, PROFILE_DATA, 400)


# --- units --------------------------------------------------------------------------------------------


def test_unit_pages_in_english(org_app: Flask, app_world: World) -> None:
    admin = org_app.test_client()
    assert sign_in(admin, "bjexchange", UNIT_PASSWORD, "legal").status_code == 303
    both_languages(admin, ["/org", "/org/matters", "/org/users"], ORG_DATA)

    lisi = app_world.person("lisi", name="李四")
    app_world.delegation.grant(app_world.admin_actor, app_world.unit.id, TRAINING, lisi.id, "matter_manager")
    manager = org_app.test_client()
    assert sign_in(manager, "lisi", ORG_PASSWORD, "natural").status_code == 303
    act = authorize_query(TRAINING, "https://training.example/callback")
    both_languages(manager, ["/org/manage", act, "/me/grants"], ORG_DATA)
    choice = assert_english(in_language(manager, act, "en"), ORG_DATA)
    assert "Act for myself" in choice and "Matter manager" in choice

    app_world.person("opsperson", roles=["operator"])
    operator = org_app.test_client()
    assert sign_in(operator, "opsperson", ORG_PASSWORD, "natural").status_code == 303
    both_languages(operator, ["/org/operator"], ORG_DATA)
    nobody = org_app.test_client()
    app_world.person("nobody")
    assert sign_in(nobody, "nobody", ORG_PASSWORD, "natural").status_code == 303
    assert_english(in_language(nobody, "/org/manage", "en"), ORG_DATA, status=403)
