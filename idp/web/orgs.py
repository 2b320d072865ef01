"""Unit pages: registration, the unit admin console, the matter manager console, the operator page.

* ``/org/register``: a unit registers (unit data and its admin login); pending until approved;
* ``/org``, ``/org/matters``, ``/org/users``: the unit admin (a ``legal`` account) keeps the unit's
  information, applies for matters and follows the requests, finds people and grants or revokes
  事项管理员 / 事项办理员;
* ``/org/manage``: a matter manager grants and revokes 事项办理员 for the matters they manage;
* ``/org/operator``: accounts with the ``operator`` role decide registrations and requests.

Views parse the form, call one service of :mod:`idp.orgs`, and render or redirect; the services
decide who may do what. Searches are POSTed, so an ID number never appears in a URL or access log.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from idp.accounts.captcha import CaptchaService
from idp.accounts.models import AccountType, User
from idp.context import services
from idp.errors import DomainError, StoreUnavailable
from idp.observability import client_ip, request_id
from idp.orgs.actors import OPERATOR_ROLE, Actor
from idp.orgs.delegation import DelegationService, ManagedMatter
from idp.orgs.models import Unit
from idp.orgs.permissions import PermissionService
from idp.orgs.search import PersonMatch, PersonSearch
from idp.orgs.services import UnitService
from idp.realname.identity import IdentityCodec
from idp.web import session as sso
from idp.web.auth import accounts
from idp.web.i18n import translate
from idp.web.orgs_forms import (
    UNIT_TYPE_LABELS,
    ActionForm,
    ApplyForm,
    DecisionForm,
    GrantForm,
    RegisterForm,
    SearchForm,
    UnitInfoForm,
)

bp = Blueprint("orgs", __name__, url_prefix="/org")

REGISTER_FORM = "org-register"


# --- plumbing ----------------------------------------------------------------------------------------


def _page(template: str, status: int = 200, **context: Any) -> Response:
    context.setdefault("unit_types", UNIT_TYPE_LABELS)
    return Response(render_template(template, **context), status=status, mimetype="text/html")


def _back(endpoint: str, **values: Any) -> Response:
    return redirect(url_for(endpoint, **values), code=303)  # type: ignore[return-value]


def _signed_in_user() -> User | None:
    current = sso.current_session()
    if current is None:
        return None
    user = accounts().get(current.user_id)
    return None if user is None or user.disabled else user


def _to_login(tab: str) -> Response:
    query = urlencode({"type": tab, "next": request.path})
    return redirect(f"{url_for('auth.login')}?{query}")  # type: ignore[return-value]


def _actor(user: User) -> Actor:
    return Actor(user_id=user.id, ip=client_ip(), request_id=request_id())


def _fail(exc: DomainError) -> None:
    if isinstance(exc, StoreUnavailable):
        raise exc
    flash(translate(exc.public), "error")


def _units() -> UnitService:
    return UnitService(services().db)


def _permissions() -> PermissionService:
    return PermissionService(services().db)


def _delegation() -> DelegationService:
    return DelegationService(services().db)


def _search() -> PersonSearch:
    svc = services()
    codec = svc.extras.get("identity_codec")
    if not isinstance(codec, IdentityCodec):
        codec = svc.extras["identity_codec"] = IdentityCodec(svc.settings)
    return PersonSearch(svc.db, svc.store, codec)


def _admin() -> tuple[User, Unit] | Response:
    """The signed-in unit admin and their unit, or where such a visitor should go instead."""
    user = _signed_in_user()
    if user is None:
        return _to_login(AccountType.LEGAL.value)
    if user.account_type != AccountType.LEGAL.value:
        if user.has_role(OPERATOR_ROLE):
            return _back("orgs.operator")
        return _back("orgs.manage")
    return user, _units().unit_of(_actor(user))


# --- registration ------------------------------------------------------------------------------------


def _captcha_needed() -> bool:
    return services().settings.captcha != "off"


def _register_page(form: RegisterForm, error: str | None = None, status: int = 200) -> Response:
    captcha_id = CaptchaService(services().store).new(REGISTER_FORM)[0] if _captcha_needed() else None
    form.captcha.data = ""
    form.password.data = ""
    form.password_confirm.data = ""
    return _page("orgs/register.html", status, form=form, error=error, captcha_id=captcha_id)


@bp.route("/register", methods=["GET", "POST"])
def register() -> Response:
    form = RegisterForm()
    if request.method == "GET":
        return _register_page(form)
    if not form.validate_on_submit():
        first = next((errors[0] for errors in form.errors.values() if errors), gettext("请求无效"))
        return _register_page(form, str(first), 400)
    if _captcha_needed():
        solved = CaptchaService(services().store).verify(
            form.captcha_id.data or "", REGISTER_FORM, form.captcha.data or ""
        )
        if not solved:
            return _register_page(form, gettext("验证码错误或已过期,请重新输入。"), 400)
    # Self-registration is anonymous; the audit rows still carry the IP and request id.
    visitor = Actor(user_id=None, ip=client_ip(), request_id=request_id())
    try:
        unit = _units().register(
            form.unit_input(form.credit_code.data or ""),
            form.admin_username.data or "",
            form.password.data or "",
            visitor,
        )
    except StoreUnavailable:
        raise
    except DomainError as exc:
        return _register_page(form, translate(exc.public), exc.status_code)
    return _page("orgs/registered.html", unit=unit)


# --- unit admin console ------------------------------------------------------------------------------


@bp.get("")
def console() -> Response:
    found = _admin()
    if isinstance(found, Response):
        return found
    _user, unit = found
    form = UnitInfoForm(obj=unit)
    return _page("orgs/info.html", section="info", unit=unit, form=form)


@bp.post("/info")
def update_info() -> Response:
    found = _admin()
    if isinstance(found, Response):
        return found
    user, unit = found
    form = UnitInfoForm()
    if not form.validate_on_submit():
        first = next((errors[0] for errors in form.errors.values() if errors), gettext("请求无效"))
        flash(str(first), "error")
        return _page("orgs/info.html", 400, section="info", unit=unit, form=form)
    try:
        _units().update(_actor(user), form.unit_input())
    except DomainError as exc:
        _fail(exc)
        return _page("orgs/info.html", exc.status_code, section="info", unit=unit, form=form)
    flash(gettext("单位信息已保存。"), "ok")
    return _back("orgs.console")


@bp.get("/matters")
def matters() -> Response:
    found = _admin()
    if isinstance(found, Response):
        return found
    user, unit = found
    return _matters_page(user, unit, ApplyForm())


def _matters_page(user: User, unit: Unit, form: ApplyForm, status: int = 200) -> Response:
    service = _permissions()
    return _page(
        "orgs/matters.html",
        status,
        section="matters",
        unit=unit,
        form=form,
        choices=service.matters(),
        requests=service.of_unit(_actor(user)),
    )


@bp.post("/matters")
def apply() -> Response:
    found = _admin()
    if isinstance(found, Response):
        return found
    user, unit = found
    form = ApplyForm()
    if not form.validate_on_submit():
        first = next((errors[0] for errors in form.errors.values() if errors), gettext("请求无效"))
        flash(str(first), "error")
        return _matters_page(user, unit, form, 400)
    try:
        _permissions().apply(_actor(user), form.client_id.data or "", form.note.data or "")
    except DomainError as exc:
        _fail(exc)
        return _matters_page(user, unit, form, exc.status_code)
    flash(gettext("申请已提交,请等待事项主管部门审核。"), "ok")
    return _back("orgs.matters")


def _users_page(
    user: User, unit: Unit, results: list[PersonMatch] | None = None, status: int = 200, **extra: Any
) -> Response:
    delegation = _delegation()
    matters = [(f"{unit.id}:{cid}", name) for cid, name in delegation.held_matters(unit.id)]
    return _page(
        "orgs/users.html",
        status,
        section="users",
        unit=unit,
        grant_form=GrantForm(formdata=None),
        action_form=ActionForm(),
        matters=matters,
        roles=("matter_manager", "matter_handler"),
        results=results,
        grants=delegation.of_unit(unit.id),
        search_action=url_for("orgs.users_search"),
        grant_action=url_for("orgs.users_grant"),
        back="users",
        **extra,
    )


@bp.get("/users")
def users() -> Response:
    found = _admin()
    if isinstance(found, Response):
        return found
    return _users_page(*found)


@bp.post("/users/search")
def users_search() -> Response:
    found = _admin()
    if isinstance(found, Response):
        return found
    user, unit = found
    results, status = _run_search(user)
    return _users_page(user, unit, results, status)


def _run_search(user: User) -> tuple[list[PersonMatch] | None, int]:
    form = SearchForm()
    if not form.validate_on_submit():
        first = next((errors[0] for errors in form.errors.values() if errors), gettext("请求无效"))
        flash(str(first), "error")
        return None, 400
    try:
        return _search().find(_actor(user), form.query.data or ""), 200
    except DomainError as exc:
        _fail(exc)
        return None, exc.status_code


def _grant_from_form(user: User) -> None:
    form = GrantForm()
    if not form.validate_on_submit():
        first = next((errors[0] for errors in form.errors.values() if errors), gettext("请求无效"))
        flash(str(first), "error")
        return
    unit_id, _, client_id = (form.matter.data or "").partition(":")
    try:
        _delegation().grant(_actor(user), unit_id, client_id, form.user_id.data or "", form.role.data or "")
    except DomainError as exc:
        _fail(exc)
        return
    flash(gettext("授权成功。"), "ok")


@bp.post("/users/grant")
def users_grant() -> Response:
    found = _admin()
    if isinstance(found, Response):
        return found
    _grant_from_form(found[0])
    return _back("orgs.users")


@bp.post("/grants/<int:grant_id>/revoke")
def revoke(grant_id: int) -> Response:
    user = _signed_in_user()
    if user is None:
        return _to_login(AccountType.NATURAL.value)
    ActionForm()  # the CSRF token was checked before the view ran
    try:
        _delegation().revoke(_actor(user), grant_id)
        flash(gettext("已撤销授权。"), "ok")
    except DomainError as exc:
        _fail(exc)
    if user.account_type == AccountType.LEGAL.value:
        return _back("orgs.users")
    return _back("orgs.manage")


# --- matter manager console --------------------------------------------------------------------------


def _manager() -> tuple[User, list[ManagedMatter]] | Response:
    user = _signed_in_user()
    if user is None:
        return _to_login(AccountType.NATURAL.value)
    if user.account_type == AccountType.LEGAL.value:
        return _back("orgs.users")
    return user, _delegation().managed_by(_actor(user))


def _manage_page(
    user: User,
    managed: list[ManagedMatter],
    results: list[PersonMatch] | None = None,
    status: int = 200,
) -> Response:
    if not managed:
        return _page("orgs/not_manager.html", 403, operator=user.has_role(OPERATOR_ROLE))
    delegation = _delegation()
    grants = []
    for unit_id in dict.fromkeys(m.unit_id for m in managed):
        clients = [m.client_id for m in managed if m.unit_id == unit_id]
        grants += [g for g in delegation.of_unit(unit_id, clients) if g.role == "matter_handler"]
    return _page(
        "orgs/manage.html",
        status,
        managed=managed,
        grant_form=GrantForm(formdata=None),
        action_form=ActionForm(),
        matters=[(f"{m.unit_id}:{m.client_id}", f"{m.unit_name} · {m.matter_name}") for m in managed],
        roles=("matter_handler",),
        results=results,
        grants=grants,
        search_action=url_for("orgs.manage_search"),
        grant_action=url_for("orgs.manage_grant"),
        back="manage",
    )


@bp.get("/manage")
def manage() -> Response:
    found = _manager()
    if isinstance(found, Response):
        return found
    return _manage_page(*found)


@bp.post("/manage/search")
def manage_search() -> Response:
    found = _manager()
    if isinstance(found, Response):
        return found
    user, managed = found
    if not managed:
        return _manage_page(user, managed)
    results, status = _run_search(user)
    return _manage_page(user, managed, results, status)


@bp.post("/manage/grant")
def manage_grant() -> Response:
    found = _manager()
    if isinstance(found, Response):
        return found
    _grant_from_form(found[0])
    return _back("orgs.manage")


# --- operator ----------------------------------------------------------------------------------------


def _operator() -> User | Response:
    user = _signed_in_user()
    if user is None:
        return _to_login(AccountType.NATURAL.value)
    if not user.has_role(OPERATOR_ROLE):
        return _page("orgs/not_manager.html", 403, operator=False)
    return user


@bp.get("/operator")
def operator() -> Response:
    user = _operator()
    if isinstance(user, Response):
        return user
    actor = _actor(user)
    return _page(
        "orgs/operator.html",
        units=_units().pending_units(actor),
        requests=_permissions().pending(actor),
        form=DecisionForm(formdata=None),
    )


@bp.post("/operator/units/<credit_code>")
def decide_unit(credit_code: str) -> Response:
    user = _operator()
    if isinstance(user, Response):
        return user
    form = DecisionForm()
    if not form.validate_on_submit():
        flash(gettext("请求无效"), "error")
        return _back("orgs.operator")
    try:
        if form.decision.data == "approve":
            _units().approve(credit_code, _actor(user))
        else:
            _units().reject(credit_code, form.reason.data or "", _actor(user))
        flash(gettext("已处理单位注册申请。"), "ok")
    except DomainError as exc:
        _fail(exc)
    return _back("orgs.operator")


@bp.post("/operator/requests/<int:permission_id>")
def decide_request(permission_id: int) -> Response:
    user = _operator()
    if isinstance(user, Response):
        return user
    form = DecisionForm()
    if not form.validate_on_submit():
        flash(gettext("请求无效"), "error")
        return _back("orgs.operator")
    try:
        if form.decision.data == "approve":
            _permissions().approve(_actor(user), permission_id)
        else:
            _permissions().reject(_actor(user), permission_id, form.reason.data or "")
        flash(gettext("已处理事项权限申请。"), "ok")
    except DomainError as exc:
        _fail(exc)
    return _back("orgs.operator")
