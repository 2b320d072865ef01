"""The IdP's web layer: pages, forms, sessions, language, security headers and error pages.

:func:`register` installs all of it on an app whose ``extensions["idp"]`` already holds the
:class:`idp.context.Services`. OAuth endpoints that authenticate clients by other means are exempted
from CSRF checks by the caller with ``idp.web.csrf.exempt(view)``.
"""

from __future__ import annotations

from flask import Blueprint, Flask
from flask_wtf.csrf import CSRFProtect

from idp import observability
from idp.web import errors, i18n, security, session

csrf = CSRFProtect()

#: Stylesheets and images of every page; a blueprint without routes of its own.
assets = Blueprint(
    "web", __name__, template_folder="templates", static_folder="static", static_url_path="/assets"
)

#: Upper bound of a request body unless the app sets its own (uploads raise it per view).
DEFAULT_MAX_CONTENT_LENGTH = 1024 * 1024


def _configure(app: Flask) -> None:
    settings = app.extensions["idp"].settings
    if app.config.get("SECRET_KEY") is None:
        app.config["SECRET_KEY"] = settings.secret_key
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = DEFAULT_MAX_CONTENT_LENGTH
    # Flask's cookie session only carries the CSRF token; the SSO session lives in the store.
    if app.config.get("SESSION_COOKIE_NAME") == "session":
        app.config["SESSION_COOKIE_NAME"] = "__Host-idp_csrf" if settings.https else "idp_csrf"
    app.config["SESSION_COOKIE_SECURE"] = settings.https
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_PATH"] = "/"
    app.config["SESSION_COOKIE_DOMAIN"] = None


def register(app: Flask) -> None:
    """Install the web layer on ``app``."""
    from idp.web import auth, portal

    _configure(app)
    # Request ids first, so every later hook, log line and error page can use them.
    observability.init_app(app)
    csrf.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    session.init_app(app)
    errors.init_app(app)
    app.register_blueprint(assets)
    app.register_blueprint(auth.bp)
    app.register_blueprint(portal.bp)
    from idp.web import catalogue

    app.register_blueprint(catalogue.bp)
    from idp.web import account

    app.register_blueprint(account.bp)
    from idp.web import me, review

    app.register_blueprint(me.bp)
    app.register_blueprint(review.bp)
    from idp.web import orgs

    app.register_blueprint(orgs.bp)
    app.jinja_env.globals.update(signed_in=lambda: session.current_user_id_or_none() is not None)
