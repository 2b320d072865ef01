"""Checks on what the IdP's endpoints answer: authorization response parameters, discovery
document, token response."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from training_rp.errors import LoginRejected

MAX_PARAM = 2048
#: Longest access-token lifetime taken from ``expires_in``; longer values are treated as this.
MAX_EXPIRES_IN = 24 * 3600
_MAX_TOKEN = 16 * 1024


def token_fields(token: Any) -> dict[str, Any]:
    """The usable members of a token response (RFC 6749, 5.1); a malformed one is refused."""
    if not isinstance(token, Mapping):
        raise LoginRejected("token_response", "token response is not an object")
    if str(token.get("token_type", "")).lower() != "bearer":
        raise LoginRejected("token_response", "token_type is not Bearer")
    if not isinstance(token.get("access_token"), str) or not token["access_token"]:
        raise LoginRejected("token_response", "no access_token in the token response")
    fields: dict[str, Any] = {"access_token": token["access_token"], "expires_in": token.get("expires_in")}
    for name in ("id_token", "refresh_token"):
        value = token.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or not value or len(value) > _MAX_TOKEN:
            raise LoginRejected("token_response", f"{name} in the token response is not a token")
        fields[name] = value
    return fields


def expires_in_seconds(value: Any) -> int | None:
    """``expires_in`` as whole seconds, None when absent or not a positive number."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        seconds = int(float(value))
    except (ValueError, OverflowError):
        return None
    return min(seconds, MAX_EXPIRES_IN) if seconds > 0 else None


def single_params(args: Mapping[str, Sequence[str]], names: Sequence[str]) -> dict[str, str]:
    """Known parameters, each present at most once (RFC 6749, 3.1) and of bounded length."""
    params = {}
    for name in names:
        values = args.get(name, [])
        if len(values) > 1:
            raise LoginRejected("params", f"parameter {name} repeated")
        if values:
            if len(values[0]) > MAX_PARAM:
                raise LoginRejected("params", f"parameter {name} too long")
            params[name] = values[0]
    return params


def metadata_problem(metadata: Mapping[str, Any], issuer: str) -> str | None:
    if metadata.get("issuer") != issuer:
        return "issuer differs from RP_ISSUER"
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        value = metadata.get(name)
        if not isinstance(value, str) or not value.startswith(("https://", "http://")):
            return f"{name} missing or not an http(s) URL"
    return None
