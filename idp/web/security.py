"""Response headers every page carries, and the check of post-login ``next`` targets."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response

from idp.context import services

#: No inline script or style anywhere, so injected markup cannot run (OWASP ASVS V3.4).
#: ``frame-ancestors 'none'`` stops click-jacking of the login and consent pages.
#: ``form-action`` is left out on purpose: after the sign-in form posts, the browser follows
#: redirects to /authorize and on to the client's registered redirect URI, and Chromium applies
#: ``form-action`` to that whole redirect chain.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"
DEFAULT_NEXT = "/me"
MAX_NEXT_LENGTH = 4096


def add_security_headers(response: Response) -> Response:
    """Set the headers unless a view chose its own value for one of them."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    # same-origin: our own form posts keep their Referer (Flask-WTF checks it on HTTPS), while
    # URLs of this site (with their codes and states) are never sent to other sites.
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if services().settings.https:
        headers.setdefault("Strict-Transport-Security", HSTS)
    if response.mimetype == "text/html":
        # Pages show personal data and one-time form tokens: never keep them in a shared cache.
        headers.setdefault("Cache-Control", "no-store")
    return response


def safe_next(target: str | None, default: str = DEFAULT_NEXT) -> str:
    """``target`` if it is a path on this site, else ``default`` (no open redirect).

    Accepted: a relative reference that starts with exactly one ``/``. Refused: ``//host`` and
    ``/\\host`` (browsers read both as another host), any backslash, absolute URLs, control and
    whitespace characters (browsers strip tabs and newlines, turning ``/\\t/host`` into ``//host``).
    """
    if not target or len(target) > MAX_NEXT_LENGTH:
        return default
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(ord(ch) <= 0x20 or ord(ch) == 0x7F or not ch.isprintable() for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
