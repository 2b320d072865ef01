"""The error families of the training system and how each reaches the outside.

::

    Exception
    ├── RpError                        -> error page (status_code) or CLI exit code, with a public text
    │   ├── InvalidInput               -> form message / CLI exit code 2
    │   ├── NotFound                   -> 404 page / CLI exit code 3
    │   ├── Conflict                   -> form message / CLI exit code 4
    │   ├── PermissionDenied           -> 403 page / CLI exit code 5
    │   ├── ProviderUnavailable        -> 503 page: the identity provider cannot be reached
    │   ├── LoginRejected              -> 400 page: a callback or token failed verification
    │   └── GrantRefused               -> the session ends: the IdP refused to refresh (invalid_grant)
    └── ConfigError                    -> refusal to start, CLI exit code 78

``public`` is what a user may read (a msgid, translated at the view); ``detail`` goes to the log
only and never holds tokens, codes or full ID numbers.
"""

from __future__ import annotations


class RpError(Exception):
    """A rule was not met. ``public`` is shown to the user; ``detail`` is logged only."""

    status_code = 400
    exit_code = 1

    def __init__(self, public: str, detail: str | None = None) -> None:
        super().__init__(public)
        self.public = public
        self.detail = detail or public


class InvalidInput(RpError):
    exit_code = 2

    def __init__(self, public: str, detail: str | None = None, field: str | None = None) -> None:
        super().__init__(public, detail)
        #: Name of the form field the message belongs to, when there is one.
        self.field = field


class NotFound(RpError):
    status_code = 404
    exit_code = 3


class Conflict(RpError):
    status_code = 409
    exit_code = 4

    def __init__(self, public: str, detail: str | None = None, field: str | None = None) -> None:
        super().__init__(public, detail)
        self.field = field


class PermissionDenied(RpError):
    status_code = 403
    exit_code = 5


class ProviderUnavailable(RpError):
    """The identity provider (discovery, token, JWKS or userinfo endpoint) did not answer usably."""

    status_code = 503
    exit_code = 69


class LoginRejected(RpError):
    """The authorization response or a token failed verification: no session is created.

    ``reason`` is a short machine word for the log line (``state``, ``signature``, ``aud`` ...).
    """

    def __init__(self, reason: str, detail: str | None = None, public: str | None = None) -> None:
        super().__init__(public or LOGIN_FAILED, detail or reason)
        self.reason = reason


class GrantRefused(RpError):
    """The IdP answered ``invalid_grant`` to a refresh (RFC 6749, 5.2): it no longer stands behind
    the sign-in, e.g. the unit authorisation was revoked, the account disabled, or the grant revoked
    after a refresh token was used twice. The session ends; the person signs in again."""

    status_code = 403


class ConfigError(Exception):
    """Configuration that cannot work or is unsafe; the process refuses to start."""

    exit_code = 78


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated where it is shown."""
    return message


LOGIN_FAILED = N_("登录失败:统一身份认证平台返回的登录信息未通过校验,请重新登录。")
