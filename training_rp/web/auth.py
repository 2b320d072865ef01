"""Sign-in, callback, logout and back-channel logout."""

from __future__ import annotations

import hashlib
import logging
import time
from datetime import timedelta

from flask import Blueprint, Response, jsonify, redirect, render_template, request, session
from werkzeug.wrappers.response import Response as BaseResponse

from training_rp.errors import LoginRejected, ProviderUnavailable
from training_rp.oidc.identity import VerifiedLogin
from training_rp.oidc.options import LoginOptions, parse_login_options
from training_rp.oidc.tokens import verify_logout_token
from training_rp.services.accounts import AccountView
from training_rp.services.signin import Outcome
from training_rp.web.context import services
from training_rp.web.guards import current_account, end_session, safe_next
from training_rp.web.session_interface import ServerSession

log = logging.getLogger(__name__)
bp = Blueprint("auth", __name__)


@bp.get("/login")
def login() -> BaseResponse:
    """Start a sign-in; ``prompt=login`` or ``max_age`` ask the IdP to authenticate the person again."""
    target = safe_next(request.args.get("next"))
    options = parse_login_options(request.args.to_dict(flat=False))
    if current_account() is not None and options == LoginOptions():
        return redirect(target)
    url = services().provider.start_login(session, options)
    session["login_next"] = target
    return redirect(url)


@bp.get("/callback")
def callback() -> BaseResponse | tuple[str, int]:
    svc = services()
    try:
        login = svc.provider.finish_login(request.args.to_dict(flat=False), session)
    except LoginRejected as exc:
        log.warning("signin rejected: reason=%s detail=%s", exc.reason, exc.detail)
        return render_template("auth/rejected.html", message=exc.public), 400
    decision = svc.signin.decide(login)
    log.info(
        "signin decision: outcome=%s sub=%s account=%s bound_now=%s",
        decision.outcome.value,
        login.sub[:64],
        decision.account.id if decision.account else "-",
        decision.newly_bound,
    )
    if decision.outcome is not Outcome.SIGNED_IN or decision.account is None:
        return render_template("auth/refused.html", outcome=decision.outcome.value), 403
    target = safe_next(session.get("login_next"))
    _start_signed_in_session(decision.account, login)
    return redirect(target)


def _start_signed_in_session(account: AccountView, login: VerifiedLogin) -> None:
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    session.update(
        account_id=account.id,
        sub=login.sub,
        sid=login.sid,
        id_token=login.id_token,
        auth_time=time.time(),
        # What every refreshed ID token must repeat (OIDC Core 12.2); the nonce is spent already.
        idp_auth_time=login.auth_time,
        nonce=login.nonce,
    )
    unit = login.acting_for
    if unit is not None:
        session["acting_for"] = unit.as_data()
    if isinstance(session, ServerSession):
        # A new session id at sign-in: a token planted before sign-in is worthless (session fixation).
        session.rotate = True
        # The refresh token goes into its own sealed columns, never into the data or the cookie.
        session.grant = services().grants.at_sign_in(login)


@bp.post("/logout")
def logout() -> BaseResponse:
    id_token = session.get("id_token")
    end_session()
    url = services().provider.end_session_url(id_token if isinstance(id_token, str) else None)
    return redirect(url or "/")


@bp.post("/backchannel-logout")
def backchannel_logout() -> Response | tuple[Response, int]:
    """OIDC Back-Channel Logout 1.0, 2.5-2.8: validate the logout token, end the sessions it names."""
    svc = services()
    tokens = request.form.getlist("logout_token")
    if request.mimetype != "application/x-www-form-urlencoded" or len(tokens) != 1:
        return _logout_error("logout_token must be sent once, form-encoded")
    try:
        claims = verify_logout_token(tokens[0], svc.provider.keys, svc.provider.expectations)
    except (LoginRejected, ProviderUnavailable) as exc:
        reason = exc.reason if isinstance(exc, LoginRejected) else "provider"
        log.warning("backchannel logout rejected: reason=%s detail=%s", reason, exc.detail)
        return _logout_error("logout token not accepted")
    jti_hash = hashlib.sha256(f"{claims['iss']}\n{claims['jti']}".encode()).hexdigest()
    keep = timedelta(seconds=svc.settings.token_max_age + 2 * svc.settings.clock_skew)
    if not svc.sessions.remember_logout_token(jti_hash, keep):
        log.warning("backchannel logout rejected: reason=replay")
        return _logout_error("logout token already used")
    ended = svc.sessions.end_for_logout(claims.get("sub"), claims.get("sid"))
    log.info("backchannel logout: ended %d session(s)", ended)
    response = Response("", status=200)
    response.headers["Cache-Control"] = "no-store"
    return response


def _logout_error(description: str) -> tuple[Response, int]:
    response = jsonify(error="invalid_request", error_description=description)
    response.headers["Cache-Control"] = "no-store"
    return response, 400
