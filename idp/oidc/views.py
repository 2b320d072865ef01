"""OpenID Connect endpoints. Thin: parse, call the server or a service, answer."""

from __future__ import annotations

import json
import logging
import secrets
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749.errors import OAuth2Error
from flask import Blueprint, Response, current_app, redirect, render_template, request
from flask_babel import gettext

from idp.accounts import N_
from idp.context import services
from idp.oidc import acting
from idp.oidc.adapters import AuthorizedUser
from idp.oidc.discovery import provider_metadata
from idp.oidc.logout import notify_async
from idp.oidc.models import Consent, OAuthClient
from idp.oidc.server import OIDCContext, OIDCServer
from idp.oidc.tokens import TokenError
from idp.orgs.grants import UnitRole
from idp.store import flow_key
from idp.web import session as sso
from idp.web.security import CONTENT_SECURITY_POLICY

log = logging.getLogger(__name__)
bp = Blueprint("oidc", __name__, template_folder="templates")

#: Authorization parameters that must not repeat (RFC 6749 §3.1: sent at most once).
SINGLE_PARAMS = (
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "max_age",
    "login_hint",
    "id_token_hint",
    "response_mode",
)
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _oidc() -> tuple[OIDCServer, OIDCContext]:
    server: OIDCServer = services().extras["oidc_server"]
    return server, server.idp


def _json(data: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(data, ensure_ascii=False), status=status, headers=headers, mimetype="application/json"
    )


def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    return _json({"error": error, "error_description": description}, status, NO_STORE)


def _error_page(title: str, description: str, status: int = 400) -> Response:
    # Everything echoed is escaped by the template; nothing here redirects.
    body = render_template("oidc/error.html", title=title, description=description)
    return Response(body, status=status, mimetype="text/html")


def _with_iss(response: Response, issuer: str) -> Response:
    location = response.headers.get("Location")
    if location:
        # RFC 9207 §2: iss in every authorization response, errors included.
        response.headers["Location"] = add_params_to_uri(location, {"iss": issuer})
    return response


def _params_without(*names: str) -> list[tuple[str, str]]:
    return [(str(k), str(v)) for k, v in request.values.items(multi=True) if k not in names]


def _duplicates(names: tuple[str, ...]) -> str | None:
    for name in names:
        if len(request.values.getlist(name)) > 1:
            return name
    return None


@bp.get("/.well-known/openid-configuration")
def discovery() -> Response:
    svc = services()
    body = svc.extras.get("discovery_body")
    if body is None:
        body = json.dumps(provider_metadata(svc.settings)).encode()
        svc.extras["discovery_body"] = body
    return Response(body, mimetype="application/json", headers={"Cache-Control": "public, max-age=300"})


@bp.get("/jwks")
def jwks() -> Response:
    _, ctx = _oidc()
    return Response(
        ctx.keys.snapshot().jwks_json,
        mimetype="application/jwk-set+json",
        headers={"Cache-Control": "public, max-age=60"},
    )


@bp.route("/authorize", methods=["GET", "POST"])
def authorize() -> Response:
    server, ctx = _oidc()
    duplicate = _duplicates(SINGLE_PARAMS)
    if duplicate:
        return _error_page("invalid_request", gettext("参数重复:%(name)s", name=duplicate))
    try:
        grant = server.get_consent_grant(end_user=None)
    except OAuth2Error as err:
        if getattr(err, "redirect_uri", None):
            err.state = request.values.get("state")
            return _with_iss(server.handle_error_response(None, err), ctx.settings.issuer)
        return _error_page(err.error, err.get_error_description() or err.error)
    except ValueError:
        # Authlib refuses to build an error description that would echo control characters.
        return _error_page("invalid_request", gettext("请求参数含有非法字符"))
    redirect_uri = grant.redirect_uri
    state = request.values.get("state")

    def fail(error: str, description: str) -> Response:
        params = {"error": error, "error_description": description, "iss": ctx.settings.issuer}
        if state:
            params["state"] = state
        return redirect(add_params_to_uri(redirect_uri, params))  # type: ignore[return-value]

    if "request" in request.values:
        return fail("request_not_supported", "request objects are not supported")
    if "request_uri" in request.values:
        # The IdP never fetches URLs a request supplies.
        return fail("request_uri_not_supported", "request_uri is not supported")
    scope = request.values.get("scope", "")
    if "openid" in scope.split() and not request.values.get("redirect_uri"):
        return fail("invalid_request", "redirect_uri is required for OpenID Connect requests")
    prompt = set(request.values.get("prompt", "").split())
    if not prompt <= {"none", "login", "consent", "select_account"} or ("none" in prompt and len(prompt) > 1):
        return fail("invalid_request", "invalid prompt")
    max_age_raw = request.values.get("max_age")
    max_age: int | None = None
    if max_age_raw is not None:
        if not max_age_raw.isdigit() or len(max_age_raw) > 9:
            return fail("invalid_request", "max_age must be a non-negative integer")
        max_age = int(max_age_raw)

    current = sso.current_session()
    login_tx = request.values.get("login_tx", "")
    fresh = False
    if current is not None and login_tx and len(login_tx) < 100:
        started = ctx.store.get(flow_key("login-tx", login_tx))
        fresh = started is not None and current.auth_time >= int(started)
    needs_login = current is None
    if current is not None and not fresh:
        if "login" in prompt:
            needs_login = True
        if max_age is not None and time.time() - current.auth_time > max_age:
            needs_login = True
    hint = request.values.get("id_token_hint")
    if hint and current is not None:
        try:
            hinted = ctx.issuer.decode(hint, expect_typ=None, verify_exp=False)
        except TokenError:
            return fail("invalid_request", "id_token_hint is not a valid ID token of this issuer")
        if hinted.get("sub") != current.user_id:
            needs_login = True
    if current is not None and not needs_login and not ctx.user_active(current.user_id):
        sso.end_session()
        needs_login = True
    if needs_login or current is None:
        if "none" in prompt:
            return fail("login_required", "the end-user is not signed in")
        tx = secrets.token_urlsafe(16)
        ctx.store.put(flow_key("login-tx", tx), str(int(time.time())), 1800)
        args = _params_without("login_tx")
        args.append(("login_tx", tx))
        target = "/authorize?" + urlencode(args)
        login_args = {"next": target}
        login_hint = request.values.get("login_hint")
        if login_hint and len(login_hint) <= 64:
            login_args["login_hint"] = login_hint
        return redirect("/login?" + urlencode(login_args))  # type: ignore[return-value]

    client: OAuthClient = grant.client.record
    requested = grant.request.scope or ""
    if not client.first_party:
        with ctx.db.transaction() as session:
            consent = session.get(Consent, (current.user_id, client.client_id))
            covered = consent is not None and set(requested.split()) <= set(consent.scope.split())
        if not covered or "consent" in prompt:
            if "none" in prompt:
                return fail("consent_required", "the end-user has not consented")
            tx = secrets.token_urlsafe(16)
            args = _params_without("prompt")
            pending = {"args": args, "user": current.user_id, "scope": requested}
            ctx.store.put(flow_key("consent-tx", tx), json.dumps(pending), 900)
            return Response(
                render_template("oidc/consent.html", client=client, scopes=requested.split(), tx=tx),
                headers=NO_STORE,
            )
    extra: dict[str, Any] = {}
    options = acting.choices(ctx.db, current.user_id, client.client_id)
    if options:
        picked = _acting_choice(ctx, current.user_id, client.client_id, options, prompt)
        if isinstance(picked, Response):
            return picked
        if picked is not None:
            extra["acting"] = acting.context_of(picked)
    sso.add_client(client.client_id)
    user = AuthorizedUser(
        id=current.user_id, auth_time=current.auth_time, sid=current.sid, amr=list(current.amr), extra=extra
    )
    response = server.create_authorization_response(grant=grant, grant_user=user)
    return _with_iss(response, ctx.settings.issuer)


def _acting_choice(
    ctx: OIDCContext, user_id: str, client_id: str, options: list[UnitRole], prompt: set[str]
) -> UnitRole | Response | None:
    """The unit (or None: oneself) chosen for this authorization, or the page that asks."""
    act_tx = request.values.get("act_tx", "")
    raw = ctx.store.consume(flow_key("act-choice", act_tx)) if act_tx and len(act_tx) < 100 else None
    if raw is not None:
        chosen = json.loads(raw)
        if chosen["user"] == user_id and chosen["client"] == client_id:
            if chosen["choice"] == "self":
                return None
            for option in options:
                if f"{option.unit_id}:{option.role}" == chosen["choice"]:
                    return option
    if "none" in prompt:
        # No page can be shown: act as oneself, the least authority.
        return None
    tx = secrets.token_urlsafe(16)
    pending = {"args": _params_without("act_tx", "prompt"), "user": user_id, "client": client_id}
    ctx.store.put(flow_key("act-tx", tx), json.dumps(pending), 900)
    body = render_template("oidc/act.html", options=options, tx=tx, role_names=acting.ROLE_NAMES)
    return Response(body, headers=NO_STORE)


@bp.post("/authorize/act")
def act() -> Response:
    _, ctx = _oidc()
    tx = request.form.get("tx", "")
    current = sso.current_session()
    raw = ctx.store.consume(flow_key("act-tx", tx)) if tx and len(tx) < 100 else None
    if raw is None or current is None:
        return _error_page("invalid_request", gettext("授权请求已过期,请返回应用重新登录。"))
    pending = json.loads(raw)
    if pending["user"] != current.user_id:
        return _error_page("invalid_request", gettext("会话已变化"))
    choice = request.form.get("choice", "")
    valid = {f"{o.unit_id}:{o.role}" for o in acting.choices(ctx.db, current.user_id, pending["client"])}
    if choice != "self" and choice not in valid:
        return _error_page("invalid_request", gettext("无效的选择"))
    act_tx = secrets.token_urlsafe(16)
    chosen = {"user": current.user_id, "client": pending["client"], "choice": choice}
    ctx.store.put(flow_key("act-choice", act_tx), json.dumps(chosen), 900)
    args = [(str(k), str(v)) for k, v in pending["args"]] + [("act_tx", act_tx)]
    return redirect("/authorize?" + urlencode(args))  # type: ignore[return-value]


@bp.post("/authorize/consent")
def consent() -> Response:
    _, ctx = _oidc()
    tx = request.form.get("tx", "")
    current = sso.current_session()
    raw = ctx.store.consume(flow_key("consent-tx", tx)) if tx and len(tx) < 100 else None
    if raw is None or current is None:
        return _error_page("invalid_request", gettext("授权请求已过期,请返回应用重新登录。"))
    data = json.loads(raw)
    if data["user"] != current.user_id:
        return _error_page("invalid_request", gettext("会话已变化"))
    args = [(str(k), str(v)) for k, v in data["args"]]
    params = dict(args)
    client = ctx.client(params.get("client_id", ""))
    if client is None:
        return _error_page("invalid_request", gettext("未知应用"))
    if request.form.get("decision") != "allow":
        redirect_uri = params.get("redirect_uri") or client.redirect_uris[0]
        if redirect_uri not in client.redirect_uris:
            return _error_page("access_denied", gettext("已拒绝"))
        out = {"error": "access_denied", "iss": ctx.settings.issuer}
        if params.get("state"):
            out["state"] = params["state"]
        return redirect(add_params_to_uri(redirect_uri, out))  # type: ignore[return-value]
    with ctx.db.transaction() as session:
        row = session.get(Consent, (current.user_id, client.client_id))
        if row is None:
            session.add(Consent(user_id=current.user_id, client_id=client.client_id, scope=data["scope"]))
        else:
            row.scope = " ".join(sorted(set(row.scope.split()) | set(data["scope"].split())))
    return redirect("/authorize?" + urlencode(args))  # type: ignore[return-value]


@bp.post("/token")
def token() -> Response:
    server, _ = _oidc()
    duplicate = _duplicates(
        (
            "grant_type",
            "code",
            "redirect_uri",
            "code_verifier",
            "refresh_token",
            "client_id",
            "client_secret",
            "scope",
        )
    )
    if duplicate:
        return _oauth_error("invalid_request", f"repeated parameter: {duplicate}")
    if request.args:
        # Credentials and codes belong in the body, never the URL (RFC 6749 §3.2).
        return _oauth_error("invalid_request", "parameters must be sent in the request body")
    try:
        response: Response = server.create_token_response()
    except ValueError:
        return _oauth_error("invalid_request", "the request contains invalid characters")
    response.headers.update(NO_STORE)
    return response


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    if request.method == "POST" and request.mimetype == "application/x-www-form-urlencoded":
        return request.form.get("access_token")
    return None


def _bearer_error(error: str, description: str, status: int) -> Response:
    challenge = f'Bearer error="{error}", error_description="{description}"'
    headers = {"WWW-Authenticate": challenge, **NO_STORE}
    return _json({"error": error, "error_description": description}, status, headers)


@bp.route("/userinfo", methods=["GET", "POST"])
def userinfo() -> Response:
    _, ctx = _oidc()
    raw = _bearer()
    if not raw:
        return Response(status=401, headers={"WWW-Authenticate": 'Bearer realm="userinfo"', **NO_STORE})
    try:
        at = ctx.issuer.validate_access_token(raw)
    except TokenError:
        return _bearer_error("invalid_token", "the access token is invalid, expired or revoked", 401)
    if at.user_id is None or "openid" not in at.scope.split():
        return _bearer_error("insufficient_scope", "the token was not issued with the openid scope", 403)
    client = ctx.client(at.client_id)
    claims = ctx.load_user_claims(at.user_id)
    if client is None or claims is None:
        return _bearer_error("invalid_token", "the token's subject or client no longer exists", 401)
    body = {"sub": at.user_id, **ctx.user_claims_for(at.user_id, at.scope, client, loaded=claims)}
    unit = ctx.acting_claim(at.claims)
    if unit is not None:
        body["acting_for"] = unit
    return _json(body, headers=NO_STORE)


@bp.post("/introspect")
def introspect() -> Response:
    server, _ = _oidc()
    try:
        response: Response = server.create_endpoint_response("introspection")
    except ValueError:
        return _oauth_error("invalid_request", "the request contains invalid characters")
    response.headers.update(NO_STORE)
    return response


@bp.post("/revoke")
def revoke() -> Response:
    server, _ = _oidc()
    try:
        response: Response = server.create_endpoint_response("revocation")
    except ValueError:
        return _oauth_error("invalid_request", "the request contains invalid characters")
    response.headers.update(NO_STORE)
    return response


@bp.route("/end-session", methods=["GET", "POST"])
def end_session() -> Response:
    """RP-initiated logout 1.0: only registered post-logout URIs, ``state`` echoed."""
    _, ctx = _oidc()
    if _duplicates(("id_token_hint", "post_logout_redirect_uri", "state", "client_id")):
        return _error_page("invalid_request", gettext("参数重复"))
    hint = request.values.get("id_token_hint")
    target = request.values.get("post_logout_redirect_uri")
    state = request.values.get("state")
    client_id = request.values.get("client_id")
    hinted: dict[str, Any] | None = None
    if hint:
        try:
            hinted = ctx.issuer.decode(hint, expect_typ=None, verify_exp=False)
        except TokenError:
            return _error_page("invalid_request", gettext("id_token_hint 无效"))
        aud = hinted.get("aud")
        hint_client = aud if isinstance(aud, str) else (aud[0] if isinstance(aud, list) and aud else None)
        if client_id and hint_client != client_id:
            return _error_page("invalid_request", gettext("client_id 与 id_token_hint 不符"))
        client_id = hint_client
    client = ctx.client(client_id) if client_id else None
    if target is not None:
        if client is None or target not in client.post_logout_redirect_uris:
            return _error_page("invalid_request", gettext("post_logout_redirect_uri 未注册"))
    current = sso.current_session()
    confirmed = request.method == "POST" and request.form.get("confirm") == "yes"
    hint_matches = hinted is not None and current is not None and hinted.get("sub") == current.user_id
    if current is not None and not (confirmed or hint_matches):
        # Without proof that the RP of this session asked, confirm first (logout CSRF).
        return Response(
            render_template("oidc/logout_confirm.html", params=request.values.to_dict()), headers=NO_STORE
        )
    frames: list[str] = []
    if current is not None:
        frames = _logout(ctx, current)
    final = add_params_to_uri(target, {"state": state} if state else {}) if target is not None else None
    if final is not None and not frames:
        return redirect(final)  # type: ignore[return-value]
    return _logged_out_page(frames, final)


def _logged_out_page(frames: list[str], then: str | None) -> Response:
    """Front-channel logout (OIDC Front-Channel Logout 1.0 §3): one hidden iframe per client."""
    body = render_template("oidc/logged_out.html", frames=frames, then=then)
    response = Response(body, headers=NO_STORE)
    if frames:
        origins = sorted({"{0.scheme}://{0.netloc}".format(urlsplit(f)) for f in frames})
        response.headers["Content-Security-Policy"] = (
            CONTENT_SECURITY_POLICY + "; frame-src " + " ".join(origins)
        )
    return response


def _logout(ctx: OIDCContext, current: sso.SSOSession) -> list[str]:
    """End the SSO session everywhere; returns the front-channel logout URLs to load."""
    ended = sso.end_session()
    if ended is None:
        return []
    clients = [c for c in (ctx.client(cid) for cid in ended.clients) if c is not None]
    for sid in ended.all_sids:
        for family in ctx.issuer.families_for_session(sid):
            if "offline_access" not in family.scope.split():
                ctx.issuer.revoke_family(family.id, "logout")
    notify_async(ctx.issuer, clients, ended.user_id, ended.all_sids)
    current_app.logger.info("sso session ended", extra={"clients": len(clients)})
    return [
        add_params_to_uri(c.frontchannel_logout_uri, {"iss": ctx.settings.issuer, "sid": ended.sid})
        for c in clients
        if c.frontchannel_logout_uri
    ]


def logout_session_everywhere(ctx: OIDCContext) -> None:
    """Used by the platform's own logout button: same effect as end-session."""
    current = sso.current_session()
    if current is not None:
        _logout(ctx, current)


SCOPE_LABELS = {
    "openid": N_("登录标识"),
    "profile": N_("姓名等基本信息"),
    "email": N_("电子邮箱"),
    "phone": N_("手机号码"),
    "address": N_("地址"),
    "realname": N_("实名认证状态及已核验的姓名、出生日期"),
    "idcard": N_("完整证件号码"),
    "offline_access": N_("离线访问"),
}


@bp.app_context_processor
def scope_labels() -> dict[str, Any]:
    # Scopes without a label show their own name (an ASCII token, RFC 6749 §3.3).
    return {"scope_label": lambda scope: gettext(SCOPE_LABELS[scope]) if scope in SCOPE_LABELS else scope}
