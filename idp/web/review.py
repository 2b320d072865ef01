"""The reviewer console: pending manual-review requests, one request with its photos, the decision.

Only accounts with the ``reviewer`` role get past the service (everyone else gets the 403 page);
the service also refuses a decision on the reviewer's own request and audits every view.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_babel import gettext

from idp.context import services
from idp.errors import Conflict, InvalidInput, PermissionDenied
from idp.realname.wiring import review_service
from idp.web.me import actor_for, current_person, document_response, page, to_login
from idp.web.me_forms import DecisionForm, document_type_name, public_message

bp = Blueprint("review", __name__, url_prefix="/review")

#: Request ids are database integers; larger path values are "not found", never a database error.
ID_RULE = "<int(min=1, max=2147483647):verification_id>"


@bp.get("")
def queue() -> Response:
    reviewer = current_person()
    if reviewer is None:
        return to_login(request.path)
    items = review_service(services()).queue(actor_for(reviewer))
    return page("review/queue.html", items=items)


def _item_page(
    verification_id: int, status: int = 200, error: str | None = None, form: DecisionForm | None = None
) -> Response:
    reviewer = current_person()
    if reviewer is None:
        return to_login(url_for("review.item", verification_id=verification_id))
    item = review_service(services()).item(actor_for(reviewer), verification_id)
    return page(
        "review/item.html",
        http_status=status,
        item=item,
        own=item.user_id == reviewer.id,
        error=error,
        form=form or DecisionForm(formdata=None),
        document_type_name=document_type_name,
    )


@bp.get(f"/{ID_RULE}")
def item(verification_id: int) -> Response:
    return _item_page(verification_id)


@bp.post(f"/{ID_RULE}/decision")
def decide(verification_id: int) -> Response:
    reviewer = current_person()
    if reviewer is None:
        return to_login(url_for("review.item", verification_id=verification_id))
    form = DecisionForm()
    if not form.validate_on_submit():
        first = next((errors[0] for errors in form.errors.values() if errors), gettext("请求无效"))
        return _item_page(verification_id, 400, str(first), form)
    approve = form.decision.data == "approve"
    try:
        review_service(services()).decide(
            actor_for(reviewer), verification_id, approve, str(form.reason.data or "")
        )
    except (InvalidInput, Conflict, PermissionDenied) as exc:
        return _item_page(verification_id, exc.status_code, public_message(exc.public), form)
    flash(gettext("已通过该实名认证申请。") if approve else gettext("已驳回该实名认证申请。"), "success")
    return redirect(url_for("review.queue"), code=303)  # type: ignore[return-value]


@bp.get("/documents/<document_id>")
def document(document_id: str) -> Response:
    reviewer = current_person()
    if reviewer is None:
        abort(403)
    return document_response(reviewer, document_id)
