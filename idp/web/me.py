"""我的信息 and the real-name pages: thin views over the profile and review services.

* ``/me`` and ``/me/grants``: the two tabs 自然人用户信息 and 法人(单位)授权办理情况, with the
  real-name status at the top right (``/me`` keeps the endpoint name ``portal.me``, see portal.py);
* ``/me/edit``: 修改个人信息; saving runs the automatic check against the national source;
* ``/me/realname/upload``: 上传自然人信息, the signed ID photos for a manual review after a failed
  check, and ``/me/realname/submit`` to hand them in;
* ``/me/realname/documents/<id>``: an uploaded photo, for its owner (and reviewers).

ID numbers appear on these pages only masked (SECURITY.md "Personal data and logs"): the edit form
leaves the number blank and a blank number keeps the one on file.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from idp.accounts.models import User
from idp.context import services
from idp.errors import DomainError, NotFound, StoreUnavailable, VerificationUnavailable
from idp.observability import client_ip, request_id
from idp.orgs.grants import grants_of_person
from idp.realname.models import Verification
from idp.realname.review import REVIEWER_ROLE, SIDES, ReviewService
from idp.realname.services import Actor, ProfileInvalid, ProfileService
from idp.realname.status import RealnameStatus
from idp.realname.uploads import MAX_BYTES
from idp.realname.wiring import profile_service, review_service
from idp.web import session as sso
from idp.web.auth import accounts
from idp.web.me_forms import (
    ConfirmForm,
    ProfileForm,
    UploadForm,
    choices,
    incomplete,
    profile_display,
    public_message,
    status_label,
    stored_values,
)

bp = Blueprint("me", __name__)

DOCUMENT_ID = re.compile(r"[0-9a-f]{32}")


# --- helpers shared with the reviewer console ------------------------------------------------------


def current_person() -> User | None:
    """The signed-in account, or None (no session, or the account is gone or disabled)."""
    current = sso.current_session()
    if current is None:
        return None
    user = accounts().get(current.user_id)
    if user is None or user.disabled:
        sso.end_session()
        return None
    return user


def to_login(back: str) -> Response:
    return redirect("/login?" + urlencode({"next": back}))  # type: ignore[return-value]


def actor_for(user: User) -> Actor:
    return Actor(user_id=user.id, ip=client_ip(), request_id=request_id())


def page(template: str, http_status: int = 200, **context: object) -> Response:
    return Response(render_template(template, **context), status=http_status, mimetype="text/html")


def document_response(user: User, document_id: str) -> Response:
    """A stored ID photo. The service lets only its owner or a reviewer read it (and audits reviewers)."""
    if not DOCUMENT_ID.fullmatch(document_id):
        abort(404)
    data, content_type = review_service(services()).image(actor_for(user), document_id)
    response = Response(data, mimetype=content_type)
    # Personal data: no cache may keep it, no browser may guess another type for it, and no other
    # site may embed it.
    response.headers["Cache-Control"] = "no-store, private"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = 'inline; filename="document.jpg"'
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _profiles() -> ProfileService:
    return profile_service(services())


def _reviews() -> ReviewService:
    return review_service(services())


def _decision_to_show(status: RealnameStatus, decision: Verification | None) -> Verification | None:
    """The reviewer's last decision while it still explains the current status."""
    if decision is None:
        return None
    if status is RealnameStatus.FAILED and decision.state == "rejected":
        return decision
    if status is RealnameStatus.REVIEWED and decision.state == "approved":
        return decision
    return None


def _common(user: User) -> dict[str, Any]:
    status = RealnameStatus(user.realname_status)
    return {
        "active": "me",
        "status": status.value,
        "status_label": status_label(status.value),
        "is_reviewer": user.has_role(REVIEWER_ROLE),
    }


# --- 我的信息 ------------------------------------------------------------------------------------


def profile() -> Response:
    person = current_person()
    if person is None:
        return to_login(request.path)
    profiles = _profiles()
    user, stored = profiles.load(person.id)
    info = profile_display(user, stored, profiles.masked_id_number(stored))
    decision = _decision_to_show(RealnameStatus(user.realname_status), _reviews().last_decision(user.id))
    return page(
        "me/profile.html",
        tab="person",
        info=info,
        incomplete=incomplete(info),
        decision=decision,
        **_common(user),
    )


@bp.get("/me/grants")
def grants() -> Response:
    person = current_person()
    if person is None:
        return to_login(request.path)
    rows = grants_of_person(services().db, person.id)
    return page("me/grants.html", tab="grants", grants=rows, **_common(person))


@bp.route("/me/edit", methods=["GET", "POST"])
def edit() -> Response:
    person = current_person()
    if person is None:
        return to_login(url_for("me.edit"))
    profiles = _profiles()
    user, stored = profiles.load(person.id)
    values = stored_values(user, stored)
    masked = profiles.masked_id_number(stored)
    proven = RealnameStatus(user.realname_status).proven
    form = ProfileForm() if request.method == "POST" else ProfileForm(data=values)
    form.has_stored_number = masked is not None

    def render(
        status: int = 200, problems: dict[str, str] | None = None, error: str | None = None
    ) -> Response:
        field_errors = {name: str(errors[0]) for name, errors in form.errors.items() if errors}
        field_errors.update(problems or {})
        return page(
            "me/edit.html",
            http_status=status,
            form=form,
            user=user,
            proven=proven,
            masked_number=masked,
            info=profile_display(user, stored, masked),
            errors=field_errors,
            error=error,
            options=choices(),
            **_common(user),
        )

    if request.method == "GET":
        return render()
    if proven:
        # The inputs are disabled, so nothing is posted for them; the service refuses changes anyway.
        form.lock_identity(values)
    if not form.validate_on_submit():
        return render(400, error=gettext("请更正标出的项目。"))
    try:
        outcome = profiles.save(actor_for(user), form.to_input())
    except ProfileInvalid as exc:
        problems = {name: public_message(text) for name, text in exc.problems.items()}
        return render(400, problems=problems, error=public_message(exc.public))
    except VerificationUnavailable as exc:
        # The profile is saved and the status unchanged; the person can save again later.
        flash(public_message(exc.public), "notice")
        return redirect(url_for("portal.me"), code=303)  # type: ignore[return-value]
    except (NotFound, StoreUnavailable):
        raise
    except DomainError as exc:
        return render(exc.status_code, error=public_message(exc.public))
    flash(public_message(outcome.message), "success" if outcome.status.proven else "notice")
    return redirect(url_for("portal.me"), code=303)  # type: ignore[return-value]


# --- 上传自然人信息 --------------------------------------------------------------------------------


def _upload_page(user: User, status: int = 200, errors: dict[str, str] | None = None) -> Response:
    profiles = _profiles()
    user, stored = profiles.load(user.id)
    current = RealnameStatus(user.realname_status)
    return page(
        "me/upload.html",
        http_status=status,
        info=profile_display(user, stored, profiles.masked_id_number(stored)),
        documents=_reviews().current_documents(user.id),
        can_upload=current is RealnameStatus.FAILED,
        sides=SIDES,
        errors=errors or {},
        **_common(user),
    )


@bp.get("/me/realname/upload")
def upload_page() -> Response:
    person = current_person()
    if person is None:
        return to_login(request.path)
    return _upload_page(person)


@bp.post("/me/realname/upload")
def upload() -> Response:
    person = current_person()
    if person is None:
        return to_login(url_for("me.upload_page"))
    form = UploadForm()
    if not form.validate_on_submit():
        return _upload_page(person, 400, {"form": gettext("请选择正面或反面。")})
    side = str(form.side.data)
    storage = request.files.get("photo")
    # One byte more than allowed is enough for the service to say "too big"; the rest is never read.
    data = storage.stream.read(MAX_BYTES + 1) if storage is not None else b""
    try:
        _reviews().upload(actor_for(person), side, data)
    except (NotFound, StoreUnavailable):
        raise
    except DomainError as exc:
        return _upload_page(person, exc.status_code, {side: public_message(exc.public)})
    flash(gettext("上传成功。"), "success")
    return redirect(url_for("me.upload_page"), code=303)  # type: ignore[return-value]


@bp.post("/me/realname/submit")
def submit() -> Response:
    person = current_person()
    if person is None:
        return to_login(url_for("me.upload_page"))
    ConfirmForm()  # CSRFProtect has already checked the token; the form is for symmetry only.
    try:
        _reviews().submit(actor_for(person))
    except (NotFound, StoreUnavailable):
        raise
    except DomainError as exc:
        return _upload_page(person, exc.status_code, {"form": public_message(exc.public)})
    flash(gettext("已提交,请等待审核。审核结果将显示在“我的信息”中。"), "success")
    return redirect(url_for("portal.me"), code=303)  # type: ignore[return-value]


@bp.get("/me/realname/documents/<document_id>")
def document(document_id: str) -> Response:
    person = current_person()
    if person is None:
        abort(403)
    return document_response(person, document_id)
