"""Account management: 引智司 records competent-department users; those add organizing units."""

from __future__ import annotations

import logging

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_wtf import FlaskForm
from werkzeug.wrappers.response import Response as BaseResponse

from training_rp.errors import Conflict, InvalidInput
from training_rp.models import Role
from training_rp.services.accounts import AccountView
from training_rp.web.context import services
from training_rp.web.forms import PersonForm, UnitForm
from training_rp.web.guards import roles_required, signed_in

log = logging.getLogger(__name__)
bp = Blueprint("accounts", __name__, url_prefix="/accounts")

Page = str | tuple[str, int] | BaseResponse


@bp.get("")
@roles_required(Role.MINISTRY_ADMIN, Role.DEPARTMENT_USER)
def index() -> str:
    account = signed_in()
    managed = services().accounts.managed_by(account)
    return render_template(
        "accounts/index.html",
        account=account,
        departments=[a for a in managed if a.role is Role.DEPARTMENT_USER],
        units=[a for a in managed if a.role is Role.ORGANIZING_UNIT],
        roles=Role,
    )


@bp.route("/units/new", methods=["GET", "POST"])
@roles_required(Role.DEPARTMENT_USER)
def new_unit() -> Page:
    form = UnitForm()
    if form.validate_on_submit():
        try:
            created = services().accounts.add_organizing_unit(signed_in(), form.to_input())
        except (InvalidInput, Conflict) as exc:
            return _form_error(form, exc, "accounts/unit_form.html", None)
        _log_change("unit added", created)
        flash(gettext("组团单位账号已保存。"))
        return redirect(url_for("accounts.index"))
    return render_template(
        "accounts/unit_form.html", form=form, editing=None
    ), 200 if not form.errors else 400


@bp.route("/units/<int:account_id>", methods=["GET", "POST"])
@roles_required(Role.DEPARTMENT_USER)
def edit_unit(account_id: int) -> Page:
    svc, actor = services(), signed_in()
    existing = svc.accounts.editable(actor, account_id)
    form = UnitForm(editing=True, data=_unit_data(existing))
    if form.validate_on_submit():
        try:
            updated = svc.accounts.update_organizing_unit(actor, account_id, form.to_input())
        except (InvalidInput, Conflict) as exc:
            return _form_error(form, exc, "accounts/unit_form.html", existing)
        _log_change("unit updated", updated)
        flash(gettext("组团单位账号已保存。"))
        return redirect(url_for("accounts.index"))
    return render_template(
        "accounts/unit_form.html", form=form, editing=existing
    ), 200 if not form.errors else 400


@bp.route("/departments/new", methods=["GET", "POST"])
@roles_required(Role.MINISTRY_ADMIN)
def new_department_user() -> Page:
    form = PersonForm()
    if form.validate_on_submit():
        try:
            created = services().accounts.add_department_user(signed_in(), form.to_input())
        except (InvalidInput, Conflict) as exc:
            return _form_error(form, exc, "accounts/person_form.html", None)
        _log_change("department user added", created)
        flash(gettext("归口管理部门用户已备案。"))
        return redirect(url_for("accounts.index"))
    return render_template(
        "accounts/person_form.html", form=form, editing=None
    ), 200 if not form.errors else 400


@bp.route("/departments/<int:account_id>", methods=["GET", "POST"])
@roles_required(Role.MINISTRY_ADMIN)
def edit_department_user(account_id: int) -> Page:
    svc, actor = services(), signed_in()
    existing = svc.accounts.editable(actor, account_id)
    data = {
        "name": existing.name,
        "department": existing.department,
        "active": "1" if existing.active else "0",
    }
    form = PersonForm(editing=True, data=data)
    if form.validate_on_submit():
        try:
            updated = svc.accounts.update_department_user(actor, account_id, form.to_input())
        except (InvalidInput, Conflict) as exc:
            return _form_error(form, exc, "accounts/person_form.html", existing)
        _log_change("department user updated", updated)
        flash(gettext("归口管理部门用户已保存。"))
        return redirect(url_for("accounts.index"))
    return render_template(
        "accounts/person_form.html", form=form, editing=existing
    ), 200 if not form.errors else 400


def _unit_data(account: AccountView) -> dict[str, str]:
    return {
        "unit_name": account.unit_name or "",
        "username": account.username or "",
        "contact": account.name,
        "office_phone": account.office_phone or "",
        "mobile": account.mobile or "",
        "fax": account.fax or "",
        "email": account.email or "",
        "active": "1" if account.active else "0",
    }


def _form_error(
    form: FlaskForm, exc: InvalidInput | Conflict, template: str, editing: AccountView | None
) -> tuple[str, int]:
    field = getattr(form, exc.field, None) if exc.field else None
    message = gettext(exc.public)
    if field is not None:
        field.errors = [*field.errors, message]
    else:
        flash(message, "error")
    return render_template(template, form=form, editing=editing), 400 if isinstance(
        exc, InvalidInput
    ) else 409


def _log_change(what: str, account: AccountView) -> None:
    log.info("accounts: %s id=%s role=%s by=%s", what, account.id, account.role.value, signed_in().id)
