"""Public pages: home, 在线办事 (the catalogue), matters, notices, 站内搜索, 我的事项, 我的关注.

Thin views over :mod:`idp.catalogue`. The home page, ``/services`` and ``/results`` keep their
endpoint names in the ``portal`` blueprint (every page's navigation links to them); this module
supplies their views (:func:`home`, :func:`services_list`, :func:`results`).
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Response, redirect, render_template, request, url_for
from werkzeug.wrappers.response import Response as BaseResponse

from idp.accounts.models import User
from idp.catalogue.models import NoticeKind
from idp.catalogue.notices import MAX_PAGE, NoticeService
from idp.catalogue.schema import TAB_KEYS
from idp.catalogue.search import MAX_QUERY, SearchQueryInvalid, SearchResult, SiteSearch
from idp.catalogue.services import (
    CatalogueService,
    FollowService,
    MyMattersService,
    unit_grants_source,
)
from idp.context import services
from idp.web import session as sso
from idp.web.auth import accounts
from idp.web.i18n import translate
from idp.web.security import safe_next

bp = Blueprint("catalogue", __name__)

#: Longest department name accepted as a filter; longer ones cannot match any matter.
MAX_DEPARTMENT_FILTER = 60


def _catalogue() -> CatalogueService:
    return CatalogueService(services().db)


def _notices() -> NoticeService:
    return NoticeService(services().db)


def _follows() -> FollowService:
    return FollowService(services().db, _catalogue())


def _page(template: str, status: int = 200, **context: object) -> Response:
    return Response(render_template(template, **context), status=status, mimetype="text/html")


def _to_login(next_path: str) -> BaseResponse:
    return redirect(url_for("auth.login") + "?" + urlencode({"next": next_path}))


def _person() -> User | None:
    """The signed-in, enabled person, or None; the store being down is a 503 (fail closed)."""
    current = sso.current_session()
    if current is None:
        return None
    user = accounts().get(current.user_id)
    if user is None or user.disabled:
        sso.end_session()
        return None
    return user


def _viewer_id() -> str | None:
    """Who looks at a public page, only to mark followed matters: with the store down, nobody.

    The catalogue is public information and stays readable while sessions cannot be checked.
    """
    user_id = sso.current_user_id_or_none()
    if user_id is None:
        return None
    user = accounts().get(user_id)
    return None if user is None or user.disabled else user.id


def _page_number() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 4 and 1 <= int(raw) <= MAX_PAGE else 1


# --- pages behind the portal's endpoints -------------------------------------------------------


def home() -> Response:
    catalogue = _catalogue()
    return _page(
        "catalogue/home.html",
        notices=_notices().latest(NoticeKind.NOTICE),
        results=_notices().latest(NoticeKind.RESULT, limit=4),
        hot=catalogue.hot(),
        max_query=MAX_QUERY,
    )


def services_list() -> Response:
    catalogue = _catalogue()
    department = request.args.get("department", "")[: MAX_DEPARTMENT_FILTER + 1]
    departments = catalogue.departments()
    selected = department if department in departments else ""
    viewer = _viewer_id()
    return _page(
        "catalogue/services.html",
        matters=catalogue.matters(selected or None),
        departments=departments,
        department=selected,
        followed=_follows().followed_ids(viewer) if viewer else set(),
        max_query=MAX_QUERY,
    )


def results() -> Response:
    return _notice_list(NoticeKind.RESULT)


# --- the catalogue's own routes ----------------------------------------------------------------


@bp.get("/services/<matter_id>")
def matter(matter_id: str) -> Response:
    found = _catalogue().get(matter_id)
    tab = request.args.get("tab", "")
    viewer = _viewer_id()
    following = viewer is not None and found.client_id in _follows().followed_ids(viewer)
    return _page(
        "catalogue/matter.html",
        matter=found,
        tab=tab if tab in TAB_KEYS else TAB_KEYS[0],
        tab_keys=TAB_KEYS,
        following=following,
    )


@bp.post("/services/<matter_id>/follow")
def follow(matter_id: str) -> BaseResponse:
    # CSRFProtect has checked the form's token before this view runs.
    back = safe_next(request.form.get("next"), url_for("catalogue.matter", matter_id=matter_id))
    person = _person()
    if person is None:
        return _to_login(back)
    _follows().follow(person.id, matter_id)
    return redirect(back, code=303)


@bp.post("/services/<matter_id>/unfollow")
def unfollow(matter_id: str) -> BaseResponse:
    back = safe_next(request.form.get("next"), url_for("catalogue.matter", matter_id=matter_id))
    person = _person()
    if person is None:
        return _to_login(back)
    _follows().unfollow(person.id, matter_id)
    return redirect(back, code=303)


@bp.get("/search")
def search() -> Response:
    raw = request.args.get("q", "")
    searcher = SiteSearch(_catalogue(), _notices())
    try:
        result = searcher.search(raw)
    except SearchQueryInvalid as exc:
        return _page(
            "catalogue/search.html",
            status=400,
            query=raw[:MAX_QUERY],
            result=SearchResult(()),
            error=translate(exc.public),
            max_query=MAX_QUERY,
        )
    return _page("catalogue/search.html", query=raw, result=result, error=None, max_query=MAX_QUERY)


@bp.get("/notices")
def notices() -> Response:
    return _notice_list(NoticeKind.NOTICE)


@bp.get("/notices/<int(max=2147483647):notice_id>")
def notice(notice_id: int) -> Response:
    found = _notices().get(notice_id)
    return _page("catalogue/notice.html", notice=found)


def _notice_list(kind: NoticeKind) -> Response:
    listing = _notices().page(kind, _page_number())
    return _page("catalogue/notices.html", kind=kind.value, listing=listing)


@bp.get("/my/matters")
def my_matters() -> BaseResponse:
    person = _person()
    if person is None:
        return _to_login(request.path)
    mine = MyMattersService(services().db, _catalogue(), unit_grants_source()).of_person(person.id)
    return _page("catalogue/my_matters.html", mine=mine, menu="matters")


@bp.get("/my/follows")
def my_follows() -> BaseResponse:
    person = _person()
    if person is None:
        return _to_login(request.path)
    return _page("catalogue/my_follows.html", matters=_follows().follows_of(person.id), menu="follows")
