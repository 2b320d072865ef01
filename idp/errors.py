"""The three error families of the identity provider and how each reaches the outside.

::

    Exception
    ├── authlib OAuth2Error            -> OAuth/OIDC error response (JSON, or redirect to a *registered* URI)
    ├── DomainError                    -> form message or error page, with a public description
    │   ├── StoreUnavailable           -> 503 page, fail closed
    │   ├── RealnameNotVerified
    │   ├── VerificationUnavailable    -> "service unavailable, try again later"
    │   ├── InvalidInput               -> form message / CLI exit code 2
    │   ├── NotFound                   -> 404 page / CLI exit code 3
    │   ├── Conflict                   -> form message / CLI exit code 4
    │   └── PermissionDenied           -> 403 page
    └── ConfigError                    -> refusal to start, CLI exit code 78

Adapters translate Redis, SQL and HTTP client errors at their boundary so that services only
ever see these families. ``public`` is what a user may read; ``detail`` goes to the log only.
"""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain was not met. ``public`` is shown; ``detail`` is logged only."""

    status_code = 400
    exit_code = 1

    def __init__(self, public: str, detail: str | None = None) -> None:
        super().__init__(public)
        self.public = public
        self.detail = detail or public


class InvalidInput(DomainError):
    exit_code = 2


class NotFound(DomainError):
    status_code = 404
    exit_code = 3


class Conflict(DomainError):
    status_code = 409
    exit_code = 4


class PermissionDenied(DomainError):
    status_code = 403
    exit_code = 5


class StoreUnavailable(DomainError):
    """The short-lived store (or database) cannot be reached: everything that needs it fails closed."""

    status_code = 503
    exit_code = 69

    def __init__(self, detail: str = "store unavailable") -> None:
        super().__init__(
            "服务暂时不可用,请稍后再试。 Service temporarily unavailable, please try again later.", detail
        )


class RealnameNotVerified(DomainError):
    status_code = 403


class VerificationUnavailable(DomainError):
    status_code = 503
    exit_code = 69


class ConfigError(Exception):
    """Configuration that cannot work or is unsafe; the process refuses to start."""

    exit_code = 78
