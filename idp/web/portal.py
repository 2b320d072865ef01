"""The platform's own pages around sign-in: home, my information, and pages still to come."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Response, redirect, render_template, request
from flask_babel import gettext

from idp.web import session as sso
from idp.web.auth import accounts

bp = Blueprint("portal", __name__)


def realname_label(status: str) -> str:
    """The platform's wording of a real-name status (as shown on 我的信息)."""
    labels = {
        "unverified": gettext("未实名认证"),
        "verified": gettext("国家平台实名认证通过"),
        "failed": gettext("实名认证未通过"),
        "pending_review": gettext("人工审核中"),
        "reviewed": gettext("已审核认证"),
    }
    return str(labels.get(status, labels["unverified"]))


def _page(template: str, status: int = 200, **context: object) -> Response:
    return Response(render_template(template, **context), status=status, mimetype="text/html")


@bp.get("/")
def home() -> Response:
    return _page("portal/home.html")


@bp.get("/me")
def me() -> Response:
    current = sso.current_session()
    if current is None:
        return redirect("/login?" + urlencode({"next": request.path}))  # type: ignore[return-value]
    user = accounts().get(current.user_id)
    if user is None or user.disabled:
        sso.end_session()
        return redirect("/login?" + urlencode({"next": request.path}))  # type: ignore[return-value]
    return _page("portal/me.html", user=user, realname=realname_label(user.realname_status))


def _coming_soon(title: str, active: str | None = None) -> Response:
    return _page("portal/coming_soon.html", title=title, active=active)


@bp.get("/register")
def register() -> Response:
    return _coming_soon(gettext("用户注册"), "register")


@bp.get("/forgot-password")
def forgot_password() -> Response:
    return _coming_soon(gettext("忘记密码"))


@bp.get("/national-login")
def national_login() -> Response:
    return _coming_soon(gettext("国家政务服务平台账号登录"))


@bp.get("/services")
def online_services() -> Response:
    return _coming_soon(gettext("在线办事"), "services")


@bp.get("/results")
def results() -> Response:
    return _coming_soon(gettext("结果公示"), "results")
