"""Refreshing the IdP's tokens of a session: on page loads when due, and on the 刷新授权 button.

When the IdP no longer stands behind the sign-in (or the unit the person chose at sign-in), the
session ends at once and the page says why; see :mod:`training_rp.services.grants`.
"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, session
from flask_babel import gettext
from werkzeug.wrappers.response import Response as BaseResponse

from training_rp.errors import N_
from training_rp.oidc.client import PROVIDER_DOWN
from training_rp.oidc.identity import ActingFor
from training_rp.oidc.tokens import OriginalSignIn
from training_rp.services.grants import RefreshOutcome, SignedInSession
from training_rp.web.context import services
from training_rp.web.guards import current_account, end_session, login_required, safe_next
from training_rp.web.session_interface import ServerSession

bp = Blueprint("grants", __name__)

#: Requests that never refresh: health checks, files, and the steps of signing in and out.
_PASSIVE_ENDPOINTS = frozenset(
    {
        "static",
        "pages.healthz",
        "pages.readyz",
        "pages.set_language",
        "auth.login",
        "auth.callback",
    }
)
_FLASHES = {
    RefreshOutcome.REFRESHED: (N_("授权信息已更新。"), "message"),
    RefreshOutcome.NOT_DUE: (N_("授权信息已更新。"), "message"),
    RefreshOutcome.NO_GRANT: (N_("本次登录没有可更新的授权,如需更新,请退出后重新登录。"), "error"),
    RefreshOutcome.BUSY: (N_("授权信息正在更新,请稍后再试。"), "error"),
    RefreshOutcome.UNAVAILABLE: (PROVIDER_DOWN, "error"),
}


def signed_in_session() -> SignedInSession | None:
    """The signed-in session of this request as the grant service needs it."""
    sub = session.get("sub")
    if not isinstance(session, ServerSession) or not session.token or not isinstance(sub, str):
        return None
    sid, auth_time, nonce = session.get("sid"), session.get("idp_auth_time"), session.get("nonce")
    original = OriginalSignIn(
        sub=sub,
        sid=sid if isinstance(sid, str) else None,
        auth_time=auth_time if isinstance(auth_time, int) else None,
        nonce=nonce if isinstance(nonce, str) else "",
    )
    return SignedInSession(session.token, original, ActingFor.from_data(session.get("acting_for")))


def acting_for() -> ActingFor | None:
    """The unit the signed-in person acts for in this session, None when acting as themselves."""
    return ActingFor.from_data(session.get("acting_for"))


def refresh_when_due() -> tuple[str, int] | None:
    """``before_request``: refresh old tokens on a page load; end the session if the IdP says so."""
    if request.method not in ("GET", "HEAD") or request.endpoint in _PASSIVE_ENDPOINTS:
        return None
    signed = signed_in_session() if current_account() is not None else None
    if signed is None:
        return None
    outcome = services().grants.refresh(signed)
    return _ended(outcome, signed.acting_for) if outcome.ends_session else None


@bp.post("/refresh")
@login_required
def refresh() -> BaseResponse | tuple[str, int]:
    """刷新授权: ask the IdP now, instead of at the next due page load."""
    signed = signed_in_session()
    if signed is None:
        return redirect("/")
    outcome = services().grants.refresh(signed, force=True)
    if outcome.ends_session:
        return _ended(outcome, signed.acting_for)
    message, category = _FLASHES[outcome]
    flash(gettext(message), category)
    return redirect(safe_next(request.form.get("next")))


def _ended(outcome: RefreshOutcome, unit: ActingFor | None) -> tuple[str, int]:
    end_session()
    g.account = None
    withdrawn_unit = unit if outcome is RefreshOutcome.WITHDRAWN else None
    return render_template("auth/ended.html", outcome=outcome.value, unit=withdrawn_unit), 403
