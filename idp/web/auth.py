"""Sign-in, sign-out and the captcha image: thin views over the accounts services."""

from __future__ import annotations

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_babel import gettext

from idp.accounts.captcha import CaptchaService
from idp.accounts.services import AccountService, LoginFailed, LoginThrottled
from idp.audit.services import record_event
from idp.context import services
from idp.observability import client_ip, request_id
from idp.web import session as sso
from idp.web.forms import ACCOUNT_TYPES, LoginForm, LogoutForm
from idp.web.i18n import translate
from idp.web.security import DEFAULT_NEXT, safe_next

bp = Blueprint("auth", __name__)

#: The name the login form's captchas are bound to; a captcha shown elsewhere does not count here.
LOGIN_FORM = "login"
MAX_HINT_LENGTH = 64


def accounts() -> AccountService:
    svc = services()
    found = svc.extras.get("accounts")
    if not isinstance(found, AccountService):
        found = svc.extras["accounts"] = AccountService(svc.db, svc.store, svc.settings)
    return found


def captchas() -> CaptchaService:
    return CaptchaService(services().store)


def _tab(value: str | None) -> str:
    return value if value in ACCOUNT_TYPES else ACCOUNT_TYPES[0]


def _login_page(
    form: LoginForm, tab: str, next_url: str, error: str | None = None, status: int = 200
) -> Response:
    username = form.username.data or ""
    captcha_id = None
    if accounts().needs_captcha(username, client_ip(), tab):
        captcha_id, _ = captchas().new(LOGIN_FORM)
    form.captcha.data = ""
    form.captcha_id.data = captcha_id or ""
    body = render_template(
        "auth/login.html",
        form=form,
        tab=tab,
        error=error,
        captcha_id=captcha_id,
        next_arg=None if next_url == DEFAULT_NEXT else next_url,
    )
    return Response(body, status=status, mimetype="text/html")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response:
    next_url = safe_next(request.args.get("next"))
    form = LoginForm()
    if request.method == "GET":
        # Sign-in cannot work without its counters: say so now (503), not after the form is filled.
        services().store.ping()
        tab = _tab(request.args.get("type"))
        hint = request.args.get("login_hint", "")
        if hint and len(hint) <= MAX_HINT_LENGTH and hint.isprintable():
            form.username.data = hint.strip()
        return _login_page(form, tab, next_url)

    tab = _tab(form.account_type.data)
    if not form.validate_on_submit():
        first_error = next((errors[0] for errors in form.errors.values() if errors), None)
        return _login_page(form, tab, next_url, str(first_error or gettext("请求无效")), 400)
    username = form.username.data or ""
    ip = client_ip()
    if accounts().needs_captcha(username, ip, tab):
        solved = captchas().verify(form.captcha_id.data or "", LOGIN_FORM, form.captcha.data or "")
        if not solved:
            return _login_page(form, tab, next_url, gettext("验证码错误或已过期,请重新输入。"), 400)
    try:
        user = accounts().authenticate(username, form.password.data or "", tab, ip, request_id=request_id())
    except (LoginFailed, LoginThrottled) as exc:
        return _login_page(form, tab, next_url, translate(exc.public), exc.status_code)
    previous = sso.current_session()
    if previous is not None and previous.user_id != user.id:
        # Someone else signs in on this browser: the previous person's session ends everywhere.
        _end_platform_session()
    sso.start_session(user.id, ["pwd"])
    if user.account_type == "legal" and next_url == DEFAULT_NEXT:
        # A unit admin's home is the unit console; 我的信息 is a natural person's page.
        next_url = url_for("orgs.console")
    return redirect(next_url, code=303)  # type: ignore[return-value]


def _end_platform_session() -> sso.SSOSession | None:
    """End the SSO session; the OIDC side, when installed, also notifies the session's clients."""
    hook = services().extras.get("end_sso_session")
    current = sso.current_session()
    if callable(hook):
        hook()
    else:
        sso.end_session()
    return current


@bp.post("/logout")
def logout() -> Response:
    # CSRFProtect has checked the token before this view runs; the form object is for symmetry only.
    LogoutForm()
    ended = _end_platform_session()
    if ended is not None:
        record_event(
            services().db,
            event="logout",
            actor=ended.user_id,
            ip=client_ip(),
            request_id=request_id(),
            target=ended.user_id,
            clients=len(ended.clients),
        )
    return redirect(url_for("portal.home"), code=303)  # type: ignore[return-value]


@bp.get("/captcha/<captcha_id>.png")
def captcha_image(captcha_id: str) -> Response:
    png = captchas().image(captcha_id)
    if png is None:
        abort(404)
    return Response(png, mimetype="image/png", headers={"Cache-Control": "no-store"})
