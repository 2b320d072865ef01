"""Assembles the IdP: settings, storage, keys, the OAuth server, blueprints."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from idp.config import load_settings
from idp.context import Services
from idp.db import Database
from idp.health import bp as health_bp
from idp.oidc.keys import KeyRing, KeyService
from idp.oidc.server import OIDCContext, build_server
from idp.oidc.userclaims import ClaimLoader
from idp.store import open_store

log = logging.getLogger(__name__)


def build_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    settings = load_settings(overrides=overrides)
    app = Flask("idp", instance_path=str(Path(settings.outbox_dir).parent.resolve()))
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=12 * 1024 * 1024,
        SESSION_COOKIE_SECURE=settings.https,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,
        JSON_AS_ASCII=False,
    )
    db = Database(settings.database_url)
    store = open_store(settings.redis_url, db, settings.redis_prefix)
    KeyService(db, settings).ensure_initial_keys()
    keys = KeyRing(db, settings)
    oidc = OIDCContext(settings, db, store, keys, ClaimLoader(db, settings))
    svc = Services(settings=settings, db=db, store=store)
    svc.extras["oidc_server"] = build_server(oidc)
    app.extensions["idp"] = svc

    from idp import web
    from idp.oidc.views import bp as oidc_bp
    from idp.oidc.views import logout_session_everywhere

    # The platform's own logout (and a different person signing in) ends the SSO session the same
    # way end-session does, so its clients get back-channel logout.
    svc.extras["end_sso_session"] = lambda: logout_session_everywhere(oidc)
    svc.extras["revoke_user_tokens"] = lambda user_id: oidc.issuer.revoke_user_families(
        user_id, "password_changed"
    )

    web.register(app)
    app.register_blueprint(oidc_bp)
    app.register_blueprint(health_bp)
    for endpoint in ("oidc.token", "oidc.introspect", "oidc.revoke", "oidc.userinfo", "oidc.authorize"):
        # OAuth endpoints authenticate clients by their own means (RFC 6749 §2.3), not by CSRF tokens.
        web.csrf.exempt(app.view_functions[endpoint])
    return app
