"""Response headers every answer of the legacy host carries.

The pages need no script, no frame and no form, so the policy allows styles and images from this
host only (OWASP ASVS 5.0 V3.4). HSTS goes only on HTTPS responses: RFC 6797 section 7.2 forbids it
over plain HTTP, and the old address is still reached that way from printed instructions.
"""

from __future__ import annotations

from werkzeug.wrappers import Response

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
# The downloadable document is opened from disk, where only inline styles are at hand.
DOWNLOAD_CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; sandbox"
)


def apply_security_headers(response: Response, https: bool, hsts_max_age: int) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers["X-Content-Type-Options"] = "nosniff"
    # Old links may carry session ids or personal data in the path; never pass them on.
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Frame-Options"] = "DENY"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if https and hsts_max_age > 0:
        headers["Strict-Transport-Security"] = f"max-age={hsts_max_age}"
    headers.setdefault("Cache-Control", "no-store")
    return response
