"""Home page, the three entries (项目管理, 对接洽谈, 学员考试), the application procedure, language."""

from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request, session
from werkzeug.wrappers.response import Response as BaseResponse

from training_rp.errors import N_
from training_rp.models import Role
from training_rp.web.context import services
from training_rp.web.grants import acting_for
from training_rp.web.guards import current_account, login_required, safe_next, signed_in

bp = Blueprint("pages", __name__)

#: The three entries of the matter 因公出国(境)培训 in the platform's catalogue.
SECTIONS = {
    "projects": N_("项目管理"),
    "matchmaking": N_("对接洽谈"),
    "exams": N_("学员考试"),
}


@bp.get("/")
def home() -> str:
    return render_template(
        "pages/home.html", account=current_account(), acting=acting_for(), sections=SECTIONS
    )


@bp.get("/<any(projects, matchmaking, exams):section>")
@login_required
def section(section: str) -> str:
    account = signed_in()
    svc = services()
    if account.role is Role.ORGANIZING_UNIT:
        units = [account]
    else:
        units = [a for a in svc.accounts.managed_by(account) if a.role is Role.ORGANIZING_UNIT]
    return render_template(
        "pages/section.html",
        account=account,
        section=section,
        title=SECTIONS[section],
        units=units,
        roles=Role,
    )


@bp.get("/apply")
def apply() -> str:
    return render_template("pages/apply.html")


@bp.get("/lang/<code>")
def set_language(code: str) -> BaseResponse:
    if code not in ("zh", "en"):
        abort(404)
    session["lang"] = code
    return redirect(safe_next(request.args.get("next")))


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    try:
        services().db.ping()
    except Exception:  # noqa: BLE001 - any failure means not ready; the reason is not for callers
        return jsonify(status="unavailable"), 503
    return jsonify(status="ok"), 200
