"""Assembly of the training system's Flask app from its settings."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from authlib.integrations.flask_client import OAuth
from flask import Flask, has_request_context, request, session
from flask_babel import Babel
from flask_wtf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from training_rp.config import SCOPES, Settings, load_settings
from training_rp.crypto import IdNumberCipher, RefreshTokenCipher
from training_rp.db import Database
from training_rp.oidc.client import Provider
from training_rp.oidc.state import LoginStateCache
from training_rp.services.accounts import AccountService
from training_rp.services.grants import GrantService
from training_rp.services.sessions import SessionStore
from training_rp.services.signin import SignInService
from training_rp.web import accounts, auth, grants, guards, handlers, pages
from training_rp.web.context import Services
from training_rp.web.session_interface import ServerSessionInterface, raise_if_unavailable

HERE = Path(__file__).parent
#: Limit of any request body: the forms here are small, a logout token is a few kilobytes.
MAX_BODY = 64 * 1024


def build_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    settings = load_settings(overrides=overrides)
    app = Flask("training_rp", root_path=str(HERE))
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=MAX_BODY,
        MAX_FORM_PARTS=100,
        WTF_CSRF_TIME_LIMIT=settings.session_lifetime,
        WTF_CSRF_SSL_STRICT=settings.https,
        BABEL_DEFAULT_LOCALE=settings.default_locale,
        BABEL_TRANSLATION_DIRECTORIES=str(HERE / "translations"),
        TEMPLATES_AUTO_RELOAD=False,
    )
    if settings.trusted_proxies:
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]

    db = Database(settings.database_url)
    cipher = IdNumberCipher(settings.all_data_keys(), settings.data_key_id)
    sessions = SessionStore(db, settings.session_idle, settings.session_lifetime, settings.login_timeout)
    login_states = LoginStateCache(db)
    provider = _provider(app, settings, login_states)
    svc = Services(
        settings=settings,
        db=db,
        cipher=cipher,
        accounts=AccountService(db, cipher),
        signin=SignInService(db, cipher),
        sessions=sessions,
        login_states=login_states,
        provider=provider,
        grants=GrantService(
            db,
            RefreshTokenCipher(settings.all_data_keys(), settings.data_key_id),
            provider,
            settings.refresh_after,
            settings.clock_skew,
            # The lease outlasts a refresh that waits for every timeout (token endpoint, then JWKS).
            lease=int(3 * settings.http_timeout) + 5,
        ),
    )
    app.extensions["training_rp"] = svc

    cookie = "__Host-training_session" if settings.https else "training_session"
    app.session_interface = ServerSessionInterface(sessions, cookie, secure=settings.https)
    CSRFProtect(app)
    Babel(app, locale_selector=lambda: _locale(settings))

    app.before_request(raise_if_unavailable)
    app.before_request(guards.load_account)
    app.before_request(grants.refresh_when_due)
    app.register_blueprint(pages.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(accounts.bp)
    app.register_blueprint(grants.bp)
    app.extensions["csrf"].exempt(auth.backchannel_logout)
    issuer = urlsplit(settings.issuer)
    handlers.register(app, settings.https, f"{issuer.scheme}://{issuer.netloc}")

    @app.context_processor
    def page_context() -> dict[str, Any]:
        return {
            "business_phone": settings.business_phone,
            "account_url": settings.account_url,
            "current": guards.current_account(),
            "lang": _locale(settings),
            "request_path": request.path,
        }

    return app


def _provider(app: Flask, settings: Settings, login_states: LoginStateCache) -> Provider:
    oauth = OAuth(app, cache=login_states)
    client = oauth.register(
        "platform",
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        server_metadata_url=settings.discovery_url,
        client_kwargs={
            "scope": SCOPES,
            "code_challenge_method": "S256",
            "token_endpoint_auth_method": "client_secret_basic",
            "default_timeout": settings.http_timeout,
        },
    )
    # A started sign-in lives as long as RP_LOGIN_TIMEOUT, not Authlib's default hour.
    client.framework.expires_in = settings.login_timeout
    return Provider(settings, client)


def _locale(settings: Settings) -> str:
    lang = session.get("lang") if has_request_context() else None
    return lang if lang in ("zh", "en") else settings.default_locale
