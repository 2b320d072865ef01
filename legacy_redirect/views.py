"""The legacy host's pages: notice for every path, 301 for known deep links, and the small rest.

Views stay thin: the deep-link map, referrer labels and metrics are plain objects on the app.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

from flask import Blueprint, current_app, make_response, redirect, render_template, request
from flask_babel import get_locale
from werkzeug.wrappers import Response

from legacy_redirect.language import COOKIE_MAX_AGE, COOKIE_NAME, switch_choice
from legacy_redirect.metrics import may_read_metrics
from legacy_redirect.security import DOWNLOAD_CONTENT_SECURITY_POLICY
from legacy_redirect.state import LegacyHost

EXTENSION_KEY = "legacy_redirect"
DOWNLOAD_NAMES = {
    "zh": "登录及实名认证操作说明.html",
    "en": "login-and-real-name-verification-instructions.html",
}
ROBOTS_TXT = """\
# The training system has moved to the ministry's government-services platform.
# Crawlers may follow the permanent redirects; the notice pages are not for indexing.
User-agent: *
Disallow: /metrics
Disallow: /healthz
Disallow: /readyz
"""

blueprint = Blueprint("legacy", __name__)


def state() -> LegacyHost:
    host: LegacyHost = current_app.extensions[EXTENSION_KEY]
    return host


def query_args() -> Mapping[str, str]:
    """The query parameters, or none when the query is not UTF-8 (raw bytes from a hostile client)."""
    try:
        return request.args
    except UnicodeDecodeError:
        return {}


def locale_code() -> str:
    return str(get_locale() or "zh")


def count_visit(host: LegacyHost, path_group: str) -> None:
    # HEAD comes from link checkers and monitors, not from people with old bookmarks.
    if request.method == "GET":
        host.metrics.visit(path_group, host.referrers.label(request.headers.get("Referer")))


def localised(response: Response, max_age: int) -> Response:
    """Cache headers for a page whose language depends on the request, and the switch's cookie."""
    chosen = switch_choice(query_args())
    response.vary.update(("Accept-Language", "Cookie"))
    if chosen:
        response.set_cookie(
            COOKIE_NAME,
            chosen,
            max_age=COOKIE_MAX_AGE,
            secure=request.is_secure,
            httponly=True,
            samesite="Lax",
        )
        response.headers["Cache-Control"] = "private, no-cache"
    else:
        response.headers["Cache-Control"] = f"public, max-age={max_age}"
    return response


def render_notice(host: LegacyHost, status: int) -> Response:
    s = host.settings
    download = s.instructions_url or "/instructions/download"
    body = render_template(
        "notice.html",
        login_url=s.login_url,
        download_url=download,
        read_url=s.instructions_url or "/instructions",
        canonical=s.public_url + "/",
    )
    response = localised(make_response(body, status), s.notice_max_age)
    if request.path != "/":
        response.headers["X-Robots-Tag"] = "noindex"
    return response


@blueprint.get("/healthz")
@blueprint.get("/readyz")
def healthz() -> Response:
    """Liveness and readiness are the same here: the app depends on nothing outside itself."""
    response = make_response("ok\n", 200)
    response.mimetype = "text/plain"
    return response


@blueprint.get("/robots.txt")
def robots() -> Response:
    response = make_response(ROBOTS_TXT, 200)
    response.mimetype = "text/plain"
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@blueprint.get("/favicon.ico")
def favicon() -> Response:
    return current_app.send_static_file("favicon.ico")


@blueprint.get("/metrics")
def metrics() -> Response:
    host = state()
    if not may_read_metrics(request.environ, host.settings.metrics_networks):
        return render_notice(host, 404)
    data, content_type = host.metrics.exposition()
    return Response(data, 200, content_type=content_type, headers={"Cache-Control": "no-store"})


@blueprint.get("/instructions")
def instructions() -> Response:
    host = state()
    count_visit(host, "instructions")
    body = render_template("instructions_page.html", document=f"instructions/{locale_code()}.html")
    return localised(make_response(body, 200), host.settings.notice_max_age)


@blueprint.get("/instructions/download")
def instructions_download() -> Response:
    host = state()
    count_visit(host, "instructions")
    code = locale_code()
    body = render_template("instructions_download.html", document=f"instructions/{code}.html")
    response = localised(make_response(body, 200), host.settings.notice_max_age)
    name = DOWNLOAD_NAMES.get(code, DOWNLOAD_NAMES["en"])
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{DOWNLOAD_NAMES['en']}\"; filename*=UTF-8''{quote(name)}"
    )
    response.headers["Content-Security-Policy"] = DOWNLOAD_CONTENT_SECURITY_POLICY
    return response


@blueprint.get("/<anypath:subpath>")
def any_path(subpath: str) -> Response:
    """Known old deep links answer 301 to their configured home; every other path shows the notice."""
    host = state()
    found = host.redirects.lookup(request.path)
    if found is not None:
        count_visit(host, "deep_link")
        if request.method == "GET":
            host.metrics.deep_link(found.old_path)
        response = redirect(found.location, code=301)
        response.headers["Cache-Control"] = f"public, max-age={host.settings.redirect_max_age}"
        return response
    count_visit(host, "root" if request.path == "/" else "other")
    return render_notice(host, 200)
