"""The platform's own pages around sign-in: home, my information, and pages still to come."""

from __future__ import annotations

from flask import Blueprint, Response, render_template
from flask_babel import gettext

from idp.web import account, catalogue, me

bp = Blueprint("portal", __name__)


def _page(template: str, status: int = 200, **context: object) -> Response:
    return Response(render_template(template, **context), status=status, mimetype="text/html")


# The home page, 在线办事 and 结果公示 are the service catalogue's pages; their endpoint names stay
# here because every page's navigation links to portal.home, portal.online_services, portal.results.
bp.add_url_rule("/", "home", catalogue.home)
bp.add_url_rule("/services", "online_services", catalogue.services_list)
bp.add_url_rule("/results", "results", catalogue.results)
# 我的信息 is idp.web.me's page; its endpoint name stays portal.me for the same reason.
bp.add_url_rule("/me", "me", me.profile)


def _coming_soon(title: str, active: str | None = None) -> Response:
    return _page("portal/coming_soon.html", title=title, active=active)


# Registration and password reset are the account pages' views; their endpoint names stay here
# because every page's navigation and the login box link to portal.register, portal.forgot_password.
bp.add_url_rule("/register", "register", account.register, methods=["GET", "POST"])
bp.add_url_rule("/forgot-password", "forgot_password", account.forgot_password, methods=["GET", "POST"])


@bp.get("/national-login")
def national_login() -> Response:
    return _coming_soon(gettext("国家政务服务平台账号登录"))
