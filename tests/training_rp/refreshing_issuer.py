"""The forging issuer with refresh tokens: rotation, reuse detection, unit context, forged answers.

Every sign-in at its token endpoint also returns a refresh token; ``grant_type=refresh_token``
redeems it once and answers with new tokens, an OAuth error, or whatever ``refresh_hook`` forges.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, jsonify, request

from tests.training_rp.forging_issuer import (
    CLIENT_ID,
    CLIENT_SECRET,
    AuthRequest,
    ForgingIssuer,
    Person,
    b64url,
    jws,
)

UNIT = {
    "type": "legal_person",
    "credit_code": "91110108MA01ABCD2X",
    "name": "北京示例国际交流中心",
    "role": "matter_handler",
    "role_name": "事项办理员",
}

#: Builds the refresh answer's ID token from (default claims, issuer); the default signs them.
RefreshHook = Callable[[dict[str, Any], "RefreshingIssuer"], str]


@dataclass
class Grant:
    """What a refresh token stands for: the sign-in it came from."""

    person: Person
    sid: str
    auth_time: int
    nonce: str
    acting_for: Any
    used: bool = False
    revoked: bool = False
    family: list[str] = field(default_factory=list)


class RefreshingIssuer(ForgingIssuer):
    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.grants: dict[str, Grant] = {}
        #: The acting_for claim of the next sign-in (None: acting as oneself); any value, to forge.
        self.acting_for: Any = None
        self.issue_refresh_tokens = True
        self.rotate = True
        #: An OAuth error the next refreshes answer with (e.g. ``invalid_grant``), or ``down`` for a 503.
        self.refresh_error: str | None = None
        self.refresh_hook: RefreshHook | None = None
        #: Drop the unit from refreshed tokens, as the IdP does once it no longer asserts it.
        self.drop_unit_on_refresh = False
        self.refresh_delay = 0.0
        #: OIDC Core 12.2 allows a refresh answer without an ID token; this relying party refuses it.
        self.omit_id_token_on_refresh = False
        self.refresh_requests: list[dict[str, str]] = []
        self._last_sign_in: dict[str, Any] = {}

    # --- sign-in -------------------------------------------------------------------------------

    def default_id_token_claims(self, auth: AuthRequest, access_token: str) -> dict[str, Any]:
        claims = super().default_id_token_claims(auth, access_token)
        if self.acting_for is not None:
            claims["acting_for"] = self.acting_for
        self._last_sign_in = dict(claims)
        return claims

    def _grant_for_last_sign_in(self) -> str:
        claims = self._last_sign_in
        token = secrets.token_urlsafe(24)
        self.grants[token] = Grant(
            person=self.person,
            sid=str(claims["sid"]),
            auth_time=int(claims["auth_time"]),
            nonce=str(claims["nonce"]),
            acting_for=claims.get("acting_for"),
            family=[token],
        )
        return token

    # --- refresh -------------------------------------------------------------------------------

    def refresh_claims(self, grant: Grant, access_token: str) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.url,
            "aud": CLIENT_ID,
            "sub": grant.person.sub,
            "iat": now,
            "exp": now + 300,
            "auth_time": grant.auth_time,
            "sid": grant.sid,
            "at_hash": b64url(hashlib.sha256(access_token.encode()).digest()[:16]),
            **self.person_claims(grant.person),
        }
        if grant.acting_for is not None and not self.drop_unit_on_refresh:
            claims["acting_for"] = dict(grant.acting_for)
        return claims

    def _refresh(self) -> Response | tuple[Response, int]:
        self.refresh_requests.append(dict(request.form))
        auth = request.authorization
        if auth is None or auth.username != CLIENT_ID or auth.password != CLIENT_SECRET:
            return jsonify(error="invalid_client"), 401
        if self.refresh_delay:
            time.sleep(self.refresh_delay)
        if self.refresh_error == "down":
            return jsonify(error="temporarily_unavailable"), 503
        if self.refresh_error:
            return jsonify(error=self.refresh_error), 400
        with self._lock:
            grant = self.grants.get(request.form.get("refresh_token", ""))
            if grant is None or grant.revoked:
                return jsonify(error="invalid_grant"), 400
            if grant.used:
                # Reuse of a rotated refresh token revokes the whole family (RFC 9700, 4.14.2).
                for token in grant.family:
                    self.grants[token].revoked = True
                return jsonify(error="invalid_grant", error_description="reuse"), 400
            if self.rotate:
                grant.used = True
        access_token = secrets.token_urlsafe(24)
        self.access_tokens[access_token] = grant.person
        claims = self.refresh_claims(grant, access_token)
        id_token = self.refresh_hook(claims, self) if self.refresh_hook else jws(claims, self.rsa)
        body: dict[str, Any] = {"access_token": access_token, "token_type": "Bearer", "expires_in": 300}
        if not self.omit_id_token_on_refresh:
            body["id_token"] = id_token
        if self.rotate:
            new = secrets.token_urlsafe(24)
            with self._lock:
                self.grants[new] = Grant(**{**grant.__dict__, "used": False, "family": grant.family})
                grant.family.append(new)
            body["refresh_token"] = new
        response = jsonify(body)
        response.headers["Cache-Control"] = "no-store"
        return response

    # --- the HTTP surface ---------------------------------------------------------------------

    def app(self) -> Flask:
        app = super().app()
        sign_in: Callable[[], Any] = app.view_functions["token"]

        def token() -> Any:
            if request.form.get("grant_type") == "refresh_token":
                return self._refresh()
            answer = sign_in()
            response: Response = answer[0] if isinstance(answer, tuple) else answer
            if response.status_code != 200 or not self.issue_refresh_tokens:
                return answer
            body = response.get_json()
            body["refresh_token"] = self._grant_for_last_sign_in()
            extended = jsonify(body)
            extended.headers["Cache-Control"] = "no-store"
            return extended

        app.view_functions["token"] = token
        return app

    def live_refresh_tokens(self) -> list[str]:
        return [t for t, g in self.grants.items() if not g.used and not g.revoked]
