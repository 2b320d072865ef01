"""Re-authentication a sign-in may ask of the IdP (``prompt=login``, ``max_age``), and the check
that the IdP really did it.

A page of this app can send the person to ``/login?prompt=login`` or ``/login?max_age=N`` before
a sensitive step; the options travel with the authorization request, and the ``auth_time`` of the
returned ID token must show that the person authenticated again (OIDC Core 1.0, 3.1.2.1 and
3.1.3.7 step 13): an IdP, or an attacker replaying an older response, that skipped the login form
is refused rather than trusted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from training_rp.errors import N_, InvalidInput, LoginRejected

BAD_OPTION = N_("登录参数无效。")
#: Longest max_age accepted: a year; anything longer is no constraint worth sending.
_MAX_AGE_LIMIT = 365 * 24 * 3600


@dataclass(frozen=True)
class LoginOptions:
    #: Ask the IdP to show its login form even within a live single sign-on session.
    prompt_login: bool = False
    #: Oldest authentication, in seconds, the IdP may reuse; 0 forces a new one.
    max_age: int | None = None

    def authorize_params(self) -> dict[str, str]:
        params = {}
        if self.prompt_login:
            params["prompt"] = "login"
        if self.max_age is not None:
            params["max_age"] = str(self.max_age)
        return params

    def state_data(self, started_at: float) -> dict[str, Any]:
        """What the callback needs to check the answer; kept with the PKCE verifier and nonce."""
        return {"prompt_login": self.prompt_login, "max_age": self.max_age, "started_at": int(started_at)}


def parse_login_options(args: Mapping[str, Sequence[str]]) -> LoginOptions:
    """``prompt`` (only ``login``) and ``max_age`` (seconds) of ``/login``; anything else is refused."""
    prompt = _single(args, "prompt")
    max_age_raw = _single(args, "max_age")
    if prompt is not None and prompt != "login":
        raise InvalidInput(BAD_OPTION, "prompt other than login", field="prompt")
    max_age = None
    if max_age_raw is not None:
        if not max_age_raw.isascii() or not max_age_raw.isdigit() or int(max_age_raw) > _MAX_AGE_LIMIT:
            raise InvalidInput(BAD_OPTION, "max_age is not a number of seconds", field="max_age")
        max_age = int(max_age_raw)
    return LoginOptions(prompt_login=prompt is not None, max_age=max_age)


def check_reauthentication(
    claims: Mapping[str, Any], state: Mapping[str, Any], now: float, skew: int
) -> None:
    """Refuse an ID token whose ``auth_time`` does not show the re-authentication that was asked for."""
    prompt_login = state.get("prompt_login") is True
    max_age = state.get("max_age")
    if not prompt_login and max_age is None:
        return
    auth_time = claims.get("auth_time")
    # Core 3.1.2.1: with max_age the auth_time claim is REQUIRED; prompt=login needs it to be checked.
    if not isinstance(auth_time, int | float) or isinstance(auth_time, bool):
        raise LoginRejected("auth_time", "re-authentication asked for but no auth_time")
    if isinstance(max_age, int) and now - auth_time > max_age + skew:
        raise LoginRejected("auth_time", "authentication older than max_age")
    started_at = state.get("started_at")
    if prompt_login and (not isinstance(started_at, int) or auth_time < started_at - skew):
        raise LoginRejected("auth_time", "prompt=login but the authentication predates the request")


def _single(args: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = args.get(name, [])
    if len(values) > 1:
        raise InvalidInput(BAD_OPTION, f"{name} repeated", field=name)
    if not values:
        return None
    if len(values[0]) > 16:
        raise InvalidInput(BAD_OPTION, f"{name} too long", field=name)
    return values[0]
