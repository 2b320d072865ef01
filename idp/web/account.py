"""立即注册账号, 忘记密码, 修改密码 and 更改联系方式: thin views over the account self-service services.

Each multi-step flow keeps its ticket in the browser's signed session cookie (``flask.session``);
the state lives in the short-lived store (see :class:`idp.accounts.codes.FlowTickets`). A step
reached without its ticket sends the browser back to the first step with a note. Domain errors
become form messages with their status; a store outage propagates to the 503 page (fail closed).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask import session as cookie
from flask_babel import gettext

from idp.accounts import N_
from idp.accounts.captcha import CaptchaService
from idp.accounts.codes import OneTimeCodes
from idp.accounts.contact import ContactChangeService, contacts_of
from idp.accounts.models import User
from idp.accounts.password_policy import WeakPassword
from idp.accounts.recovery import RecoveryService, ResetStep
from idp.accounts.registration import RegistrationService
from idp.accounts.services import Client
from idp.context import services
from idp.errors import DomainError, StoreUnavailable
from idp.notify import Sender, build_sender
from idp.observability import client_ip, request_id
from idp.web import session as sso
from idp.web.account_forms import (
    ChangeContactForm,
    ChangePasswordForm,
    CodeForm,
    ForgotForm,
    NewPasswordForm,
    RegisterAccountForm,
    RegisterContactForm,
)
from idp.web.auth import accounts
from idp.web.i18n import translate
from idp.web.security import safe_next

bp = Blueprint("account", __name__)

REGISTER_TICKET = "register_ticket"
REGISTER_NEXT = "register_next"
REGISTERED = "registered"
RESET_TICKET = "reset_ticket"
CONTACT_TICKET = "contact_ticket"
NOTICE = "account_notice"
DONE = "account_done"
#: The captcha of each form is bound to the form's name (:mod:`idp.accounts.captcha`).
REGISTER_FORM = "register"
FORGOT_FORM = "forgot"
ME_PATH = "/me"


# --- wiring --------------------------------------------------------------------------------------------


def sender() -> Sender:
    svc = services()
    found: Sender | None = svc.extras.get("sender")
    if found is None:
        found = svc.extras["sender"] = build_sender(svc.settings)
    return found


def codes() -> OneTimeCodes:
    svc = services()
    return OneTimeCodes(svc.store, svc.settings.secret_key)


def registration() -> RegistrationService:
    return RegistrationService(accounts(), codes(), sender())


def recovery() -> RecoveryService:
    return RecoveryService(accounts(), codes(), sender(), sso.end_sessions_of)


def contact_changes() -> ContactChangeService:
    return ContactChangeService(accounts(), codes(), sender())


def _client() -> Client:
    return Client(ip=client_ip(), request_id=request_id())


# --- page helpers --------------------------------------------------------------------------------------


def _page(template: str, status: int = 200, **context: Any) -> Response:
    notice = cookie.pop(NOTICE, None)
    body = render_template(
        template, notice=translate(notice) if isinstance(notice, str) else None, me_url=ME_PATH, **context
    )
    return Response(body, status=status, mimetype="text/html")


def _back_to(endpoint: str, note: str) -> Response:
    """Send the browser to the first step of a flow, with ``note`` (a message id) shown there."""
    cookie[NOTICE] = note
    return redirect(url_for(endpoint), code=303)  # type: ignore[return-value]


def _finished(title: str, message: str, link_url: str, link_text: str) -> Response:
    """Redirect to the outcome page (so reloading it submits nothing twice)."""
    cookie[DONE] = {"title": title, "message": message, "link_url": link_url, "link_text": link_text}
    return redirect(url_for("account.done"), code=303)  # type: ignore[return-value]


@bp.get("/account/done")
def done() -> Response:
    outcome = cookie.pop(DONE, None)
    if not isinstance(outcome, dict) or not all(isinstance(v, str) for v in outcome.values()):
        return redirect("/", code=303)  # type: ignore[return-value]
    link_url = safe_next(outcome.get("link_url"), "/")
    return _page(
        "account/done.html",
        title=outcome.get("title", ""),
        message=outcome.get("message", ""),
        link_url=link_url,
        link_text=outcome.get("link_text", ""),
    )


def _form_errors(form: Any) -> list[str]:
    return [str(message) for messages in form.errors.values() for message in messages]


def _messages(exc: DomainError) -> list[str]:
    if isinstance(exc, WeakPassword):
        return [translate(issue.message) for issue in exc.issues]
    return [translate(exc.public)]


def _captcha_needed() -> bool:
    """Whether a code-sending form carries an image captcha (``IDP_CAPTCHA``, like sign-in)."""
    settings = services().settings
    if settings.captcha == "always":
        return True
    if settings.captcha == "off":
        return False
    return codes().sent_from(client_ip()) >= settings.captcha_after


def _new_captcha(form: Any, form_name: str) -> str | None:
    form.captcha.data = ""
    if not _captcha_needed():
        form.captcha_id.data = ""
        return None
    captcha_id, _ = CaptchaService(services().store).new(form_name)
    form.captcha_id.data = captcha_id
    return captcha_id


def _captcha_solved(form: Any, form_name: str) -> bool:
    if not _captcha_needed():
        return True
    return CaptchaService(services().store).verify(
        form.captcha_id.data or "", form_name, form.captcha.data or ""
    )


def _signed_in_user() -> User | Response:
    """The signed-in person, or the redirect to sign-in that the view should return."""
    current = sso.current_session()
    user = accounts().get(current.user_id) if current is not None else None
    if user is None or user.disabled:
        if current is not None:
            sso.end_session()
        return redirect("/login?" + urlencode({"next": request.path}), code=303)  # type: ignore[return-value]
    return user


# --- 立即注册账号 ----------------------------------------------------------------------------------------


def _register_page(form: RegisterContactForm, errors: list[str] | None = None, status: int = 200) -> Response:
    captcha_id = _new_captcha(form, REGISTER_FORM)
    return _page("account/register.html", status, form=form, errors=errors or [], captcha_id=captcha_id)


def register() -> Response:
    """Step 1 of registration (served as ``portal.register``, the endpoint every page links to)."""
    form = RegisterContactForm()
    if request.method == "GET":
        services().store.ping()  # no code can be sent without the store: say so before the form is filled
        # Where to go after signing in with the new account (say, back to a relying party's
        # authorization request): a local path only, like the login page's ``next``.
        target = safe_next(request.args.get("next"), "")
        if target:
            cookie[REGISTER_NEXT] = target
        return _register_page(form)
    if not form.validate_on_submit():
        return _register_page(form, _form_errors(form), 400)
    if not _captcha_solved(form, REGISTER_FORM):
        return _register_page(form, [gettext("图形验证码错误或已过期,请重新输入。")], 400)
    try:
        ticket = registration().request_code(form.contact.data or "", _client())
    except StoreUnavailable:
        raise
    except DomainError as exc:
        return _register_page(form, _messages(exc), exc.status_code)
    registration().tickets.drop(cookie.get(REGISTER_TICKET))
    cookie[REGISTER_TICKET] = ticket
    return redirect(url_for("account.register_account"), code=303)  # type: ignore[return-value]


@bp.route("/register/account", methods=["GET", "POST"])
def register_account() -> Response:
    service = registration()
    ticket = cookie.get(REGISTER_TICKET)
    pending = service.pending(ticket)
    if pending is None or not isinstance(ticket, str):
        return _back_to("portal.register", N_("注册已过期,请重新获取验证码。"))
    form = RegisterAccountForm()

    def page(errors: list[str] | None = None, status: int = 200) -> Response:
        form.code.data = ""
        return _page(
            "account/register_account.html",
            status,
            form=form,
            errors=errors or [],
            contact=pending.contact.masked(),
        )

    if request.method == "GET":
        return page()
    valid = form.validate_on_submit()
    # The login name and password rules are listed together with the form's own problems.
    problems = [
        translate(text) for text in service.field_problems(form.username.data or "", form.password.data or "")
    ]
    if not valid or problems:
        return page([*_form_errors(form), *problems], 400)
    try:
        user = service.complete(
            ticket, form.username.data or "", form.password.data or "", form.code.data or "", _client()
        )
    except StoreUnavailable:
        raise
    except DomainError as exc:
        return page(_messages(exc), exc.status_code)
    cookie.pop(REGISTER_TICKET, None)
    cookie[REGISTERED] = user.username
    return redirect(url_for("account.register_done"), code=303)  # type: ignore[return-value]


@bp.get("/register/done")
def register_done() -> Response:
    username = cookie.pop(REGISTERED, None)
    target = cookie.pop(REGISTER_NEXT, None)
    if not isinstance(username, str):
        return redirect(url_for("auth.login"), code=303)  # type: ignore[return-value]
    args = {"login_hint": username}
    if isinstance(target, str) and safe_next(target, "") == target:
        args["next"] = target
    return _page("account/register_done.html", username=username, login_url="/login?" + urlencode(args))


# --- 忘记密码 -------------------------------------------------------------------------------------------


def _forgot_page(form: ForgotForm, errors: list[str] | None = None, status: int = 200) -> Response:
    captcha_id = _new_captcha(form, FORGOT_FORM)
    return _page("account/forgot.html", status, form=form, errors=errors or [], captcha_id=captcha_id)


def forgot_password() -> Response:
    """Step 1 of a reset (served as ``portal.forgot_password``, the endpoint the login box links to)."""
    form = ForgotForm()
    if request.method == "GET":
        services().store.ping()
        return _forgot_page(form)
    if not form.validate_on_submit():
        return _forgot_page(form, _form_errors(form), 400)
    if not _captcha_solved(form, FORGOT_FORM):
        return _forgot_page(form, [gettext("图形验证码错误或已过期,请重新输入。")], 400)
    service = recovery()
    try:
        ticket = service.start(form.username.data or "", form.contact.data or "", _client())
    except StoreUnavailable:
        raise
    except DomainError as exc:
        return _forgot_page(form, _messages(exc), exc.status_code)
    service.tickets.drop(cookie.get(RESET_TICKET))
    cookie[RESET_TICKET] = ticket
    return redirect(url_for("account.forgot_code"), code=303)  # type: ignore[return-value]


def _reset_ticket(step: ResetStep) -> str | None:
    ticket = cookie.get(RESET_TICKET)
    if not isinstance(ticket, str) or recovery().step(ticket) != step:
        return None
    return ticket


@bp.route("/forgot-password/code", methods=["GET", "POST"])
def forgot_code() -> Response:
    ticket = _reset_ticket(ResetStep.CODE_SENT)
    if ticket is None:
        return _back_to("portal.forgot_password", N_("重置密码的操作已过期或步骤不正确,请重新开始。"))
    service = recovery()
    form = CodeForm()

    def page(errors: list[str] | None = None, status: int = 200) -> Response:
        form.code.data = ""
        contact = service.contact(ticket)
        return _page(
            "account/forgot_code.html",
            status,
            form=form,
            errors=errors or [],
            contact=contact.masked() if contact else "",
        )

    if request.method == "GET":
        return page()
    if not form.validate_on_submit():
        return page(_form_errors(form), 400)
    try:
        service.confirm_code(ticket, form.code.data or "", _client())
    except StoreUnavailable:
        raise
    except DomainError as exc:
        return page(_messages(exc), exc.status_code)
    return redirect(url_for("account.forgot_new"), code=303)  # type: ignore[return-value]


@bp.route("/forgot-password/new", methods=["GET", "POST"])
def forgot_new() -> Response:
    ticket = _reset_ticket(ResetStep.CODE_CONFIRMED)
    if ticket is None:
        return _back_to("portal.forgot_password", N_("重置密码的操作已过期或步骤不正确,请重新开始。"))
    form = NewPasswordForm()

    def page(errors: list[str] | None = None, status: int = 200) -> Response:
        return _page("account/forgot_new.html", status, form=form, errors=errors or [])

    if request.method == "GET":
        return page()
    if not form.validate_on_submit():
        return page(_form_errors(form), 400)
    try:
        user = recovery().set_password(ticket, form.password.data or "", _client())
    except StoreUnavailable:
        raise
    except DomainError as exc:
        return page(_messages(exc), exc.status_code)
    cookie.pop(RESET_TICKET, None)
    # This browser's own session (if any) ended with all the others.
    sso.end_session()
    return _finished(
        gettext("密码已重置"),
        gettext("密码已重置,该账号在所有设备上的登录均已退出。请使用新密码登录。"),
        "/login?" + urlencode({"login_hint": user.username}),
        gettext("立即登录"),
    )


# --- 修改密码 -------------------------------------------------------------------------------------------


@bp.route("/me/password", methods=["GET", "POST"])
def change_password() -> Response:
    user = _signed_in_user()
    if isinstance(user, Response):
        return user
    form = ChangePasswordForm()

    def page(errors: list[str] | None = None, status: int = 200) -> Response:
        return _page("account/password.html", status, form=form, errors=errors or [], user=user)

    if request.method == "GET":
        return page()
    if not form.validate_on_submit():
        return page(_form_errors(form), 400)
    client = _client()
    service = accounts()
    try:
        service.confirm_password(user.id, form.current_password.data or "", client)
        if form.password.data == form.current_password.data:
            return page([gettext("新密码不能与当前密码相同。")], 400)
        service.set_password(user.id, form.password.data or "", event="password.changed", client=client)
    except StoreUnavailable:
        raise
    except DomainError as exc:
        return page(_messages(exc), exc.status_code)
    current = sso.current_session()
    # Every other session ends; this browser continues under a new session id (no fixation).
    sso.end_sessions_of(user.id)
    sso.start_session(user.id, current.amr if current is not None else ["pwd"])
    return _finished(
        gettext("密码已修改"),
        gettext("密码已修改。您在其他设备或浏览器上的登录均已退出。"),
        ME_PATH,
        gettext("返回我的信息"),
    )


# --- 更改联系方式 ----------------------------------------------------------------------------------------


@bp.route("/me/contact", methods=["GET", "POST"])
def change_contact() -> Response:
    user = _signed_in_user()
    if isinstance(user, Response):
        return user
    form = ChangeContactForm()

    def page(errors: list[str] | None = None, status: int = 200) -> Response:
        return _page(
            "account/contact.html",
            status,
            form=form,
            errors=errors or [],
            user=user,
            contacts=contacts_of(user, confirmed_only=False),
        )

    if request.method == "GET":
        return page()
    if not form.validate_on_submit():
        return page(_form_errors(form), 400)
    service = contact_changes()
    try:
        ticket = service.request_code(
            user.id, form.current_password.data or "", form.contact.data or "", _client()
        )
    except StoreUnavailable:
        raise
    except DomainError as exc:
        return page(_messages(exc), exc.status_code)
    service.tickets.drop(cookie.get(CONTACT_TICKET))
    cookie[CONTACT_TICKET] = ticket
    return redirect(url_for("account.contact_code"), code=303)  # type: ignore[return-value]


@bp.route("/me/contact/code", methods=["GET", "POST"])
def contact_code() -> Response:
    user = _signed_in_user()
    if isinstance(user, Response):
        return user
    service = contact_changes()
    ticket = cookie.get(CONTACT_TICKET)
    pending = service.pending(ticket if isinstance(ticket, str) else None, user.id)
    if pending is None or not isinstance(ticket, str):
        return _back_to("account.change_contact", N_("操作已过期,请重新开始。"))
    form = CodeForm()

    def page(errors: list[str] | None = None, status: int = 200) -> Response:
        form.code.data = ""
        return _page(
            "account/contact_code.html", status, form=form, errors=errors or [], contact=pending.masked()
        )

    if request.method == "GET":
        return page()
    if not form.validate_on_submit():
        return page(_form_errors(form), 400)
    try:
        changed = service.confirm(ticket, user.id, form.code.data or "", _client())
    except StoreUnavailable:
        raise
    except DomainError as exc:
        return page(_messages(exc), exc.status_code)
    cookie.pop(CONTACT_TICKET, None)
    contact = changed.contact
    kind = gettext("电子邮箱") if contact.channel == "email" else gettext("手机号码")
    message = gettext("%(kind)s已更改为 %(value)s。", kind=kind, value=contact.masked())
    if changed.told:
        message += gettext("原联系方式将收到一条通知。")
    return _finished(
        gettext("联系方式已更改"),
        message,
        ME_PATH,
        gettext("返回我的信息"),
    )
