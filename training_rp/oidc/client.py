"""The IdP as this relying party uses it: Authlib's Flask client for discovery, the authorization
code flow with PKCE (S256), ``state`` and ``nonce``; our own strict checks for everything the IdP
returns.

The browser session is passed in as a plain mapping, so this module does not depend on a request.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any

import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.flask_client import FlaskOAuth2App

from training_rp.config import Settings
from training_rp.errors import N_, GrantRefused, LoginRejected, ProviderUnavailable
from training_rp.oidc.identity import Refreshed, VerifiedLogin, acting_for_of
from training_rp.oidc.keys import JwksCache
from training_rp.oidc.options import LoginOptions, check_reauthentication
from training_rp.oidc.responses import expires_in_seconds, metadata_problem, single_params, token_fields
from training_rp.oidc.tokens import (
    Claims,
    Expectations,
    OriginalSignIn,
    verify_id_token,
    verify_refreshed_id_token,
)

log = logging.getLogger(__name__)

PROVIDER_DOWN = N_("统一身份认证平台暂时无法访问,请稍后再试。")
LOGIN_CANCELLED = N_("登录未完成:统一身份认证平台未授权本次登录,请重新登录。")
_MAX_RESPONSE_BYTES = 256 * 1024
#: Claims taken from the userinfo response when the ID token does not carry them.
_USERINFO_CLAIMS = ("name", "realname_status", "verified_claims", "id_number")
GRANT_REFUSED = N_("统一身份认证平台已不再认可本次登录,请重新登录。")


class Provider:
    """Discovery, sign-in start and finish, userinfo and end-session URL for one IdP."""

    def __init__(self, settings: Settings, app: FlaskOAuth2App) -> None:
        self.settings = settings
        self.app = app
        self.keys = JwksCache(self._fetch_jwks, settings.jwks_min_refresh, settings.jwks_max_age)

    @property
    def expectations(self) -> Expectations:
        s = self.settings
        return Expectations(s.issuer, s.client_id, s.clock_skew, s.token_max_age)

    def metadata(self) -> dict[str, Any]:
        """The discovery document, fetched once per process and checked before first use."""
        try:
            metadata: dict[str, Any] = self.app.load_server_metadata()
        except (requests.RequestException, ValueError) as exc:
            raise ProviderUnavailable(PROVIDER_DOWN, f"discovery failed: {exc.__class__.__name__}") from exc
        # OIDC Discovery 1.0, 4.3: the issuer in the document MUST be exactly the one we expect,
        # otherwise an attacker controlling the document could substitute another issuer.
        problem = metadata_problem(metadata, self.settings.issuer)
        if problem:
            self.app.server_metadata.pop("_loaded_at", None)
            raise ProviderUnavailable(PROVIDER_DOWN, f"discovery document refused: {problem}")
        return metadata

    def start_login(self, session: MutableMapping[str, Any], options: LoginOptions | None = None) -> str:
        """The authorization URL; state, nonce and PKCE verifier are kept for the callback."""
        options = options or LoginOptions()
        self.metadata()
        try:
            rv = self.app.create_authorization_url(
                redirect_uri=self.settings.redirect_uri, **options.authorize_params()
            )
        except (requests.RequestException, ValueError) as exc:
            raise ProviderUnavailable(PROVIDER_DOWN, f"authorize url: {exc.__class__.__name__}") from exc
        data = {
            "redirect_uri": self.settings.redirect_uri,
            "code_verifier": rv["code_verifier"],
            "nonce": rv["nonce"],
            **options.state_data(time.time()),
        }
        self.app.framework.set_state_data(session, rv["state"], data)
        return str(rv["url"])

    def finish_login(
        self, args: Mapping[str, Sequence[str]], session: MutableMapping[str, Any]
    ) -> VerifiedLogin:
        """Check the authorization response, redeem the code and verify what comes back."""
        params = single_params(args, ("state", "code", "iss", "error", "error_description", "session_state"))
        state = params.get("state") or ""
        # The state is consumed whatever happens next: a response is never accepted twice.
        state_data = self.app.framework.get_state_data(session, state) if state else None
        if state:
            self.app.framework.clear_state_data(session, state)
        if (
            not isinstance(state_data, dict)
            or not state_data.get("nonce")
            or not state_data.get("code_verifier")
        ):
            raise LoginRejected("state", "unknown, used or expired state")
        metadata = self.metadata()
        # RFC 9207: an iss parameter must name our issuer; if the IdP promises it, it must be there.
        if "iss" in params or metadata.get("authorization_response_iss_parameter_supported") is True:
            if params.get("iss") != self.settings.issuer:
                raise LoginRejected("iss", "authorization response iss is not our issuer")
        if "error" in params:
            raise LoginRejected(
                "provider_error", f"authorization error {params['error'][:40]!r}", LOGIN_CANCELLED
            )
        code = params.get("code")
        if not code:
            raise LoginRejected("code", "authorization response without a code")
        token = self._redeem(code, state_data)
        claims = verify_id_token(
            token["id_token"], self.keys, self.expectations, str(state_data["nonce"]), token["access_token"]
        )
        check_reauthentication(claims, state_data, self.expectations.now(), self.settings.clock_skew)
        claims = self._complete_with_userinfo(claims, token["access_token"])
        sid = claims.get("sid")
        return VerifiedLogin(
            sub=claims["sub"],
            sid=sid if isinstance(sid, str) else None,
            id_token=token["id_token"],
            claims=claims,
            nonce=str(state_data["nonce"]),
            refresh_token=token.get("refresh_token"),
            expires_in=expires_in_seconds(token.get("expires_in")),
            acting_for=acting_for_of(claims),
        )

    def refresh(self, refresh_token: str, original: OriginalSignIn) -> Refreshed:
        """Redeem ``refresh_token`` and verify the new ID token as strictly as at sign-in.

        Raises :class:`GrantRefused` when the IdP answers ``invalid_grant``, :class:`LoginRejected`
        when the response or its ID token fails a check, :class:`ProviderUnavailable` when the IdP
        cannot be reached or answers something else.
        """
        self.metadata()
        try:
            token = self.app.fetch_access_token(grant_type="refresh_token", refresh_token=refresh_token)
        except OAuthError as exc:
            error = str(exc.error)[:40]
            if error == "invalid_grant":
                raise GrantRefused(GRANT_REFUSED, "refresh answered invalid_grant") from exc
            raise ProviderUnavailable(PROVIDER_DOWN, f"refresh: token endpoint error {error!r}") from exc
        except requests.RequestException as exc:
            raise ProviderUnavailable(PROVIDER_DOWN, f"refresh: {exc.__class__.__name__}") from exc
        except (ValueError, TypeError, KeyError) as exc:
            raise LoginRejected(
                "token_response", f"refresh response unusable: {exc.__class__.__name__}"
            ) from exc
        fields = token_fields(token)
        # Core 12.2 allows a refresh without an ID token, but then nothing would show that the IdP
        # still asserts the same person and unit; this IdP always sends one, so its absence is refused.
        if "id_token" not in fields:
            raise LoginRejected("token_response", "no id_token in the refresh response")
        claims = verify_refreshed_id_token(
            fields["id_token"], self.keys, self.expectations, original, fields["access_token"]
        )
        return Refreshed(
            claims=claims,
            refresh_token=fields.get("refresh_token"),
            expires_in=expires_in_seconds(fields.get("expires_in")),
        )

    def end_session_url(self, id_token: str | None) -> str | None:
        """Where to send the browser for RP-initiated logout, or None when the IdP offers none."""
        try:
            metadata = self.metadata()
        except ProviderUnavailable as exc:
            log.warning("logout: %s", exc.detail)
            return None
        if not isinstance(metadata.get("end_session_endpoint"), str):
            return None
        result = self.app.create_logout_url(
            post_logout_redirect_uri=self.settings.post_logout_redirect_uri,
            id_token_hint=id_token,
            client_id=self.settings.client_id,
        )
        return str(result["url"])

    # --- calls to the IdP ---------------------------------------------------------------------

    def _redeem(self, code: str, state_data: Mapping[str, Any]) -> dict[str, Any]:
        try:
            token = self.app.fetch_access_token(
                code=code, code_verifier=state_data["code_verifier"], redirect_uri=state_data["redirect_uri"]
            )
        except OAuthError as exc:
            raise LoginRejected("token_endpoint", f"token endpoint error {str(exc.error)[:40]!r}") from exc
        except requests.RequestException as exc:
            raise ProviderUnavailable(PROVIDER_DOWN, f"token endpoint: {exc.__class__.__name__}") from exc
        except (ValueError, TypeError, KeyError) as exc:
            raise LoginRejected(
                "token_response", f"token response unusable: {exc.__class__.__name__}"
            ) from exc
        fields = token_fields(token)
        if "id_token" not in fields:
            raise LoginRejected("token_response", "no id_token in the token response")
        return fields

    def _complete_with_userinfo(self, claims: Claims, access_token: str) -> Claims:
        status = claims.get("realname_status")
        if status is not None and (status not in ("verified", "reviewed") or "id_number" in claims):
            return claims
        userinfo = self._userinfo(access_token)
        # OIDC Core 5.3.4: the userinfo sub MUST match the ID token's, or the response is not used.
        if userinfo.get("sub") != claims["sub"]:
            raise LoginRejected("userinfo", "userinfo sub differs from the ID token")
        merged = dict(claims)
        merged.update({name: userinfo[name] for name in _USERINFO_CLAIMS if name in userinfo})
        return merged

    def _userinfo(self, access_token: str) -> dict[str, Any]:
        endpoint = self.metadata().get("userinfo_endpoint")
        if not isinstance(endpoint, str):
            raise LoginRejected("userinfo", "claims missing and no userinfo endpoint")
        document = self._get_json(endpoint, {"Authorization": f"Bearer {access_token}"}, "userinfo")
        if not isinstance(document, dict):
            raise LoginRejected("userinfo", "userinfo is not a JSON object")
        return document

    def _fetch_jwks(self) -> Any:
        uri = self.metadata().get("jwks_uri")
        return self._get_json(str(uri), {}, "jwks")

    def _get_json(self, url: str, headers: dict[str, str], what: str) -> Any:
        try:
            response = requests.get(
                url,
                headers={"Accept": "application/json", **headers},
                timeout=self.settings.http_timeout,
                allow_redirects=False,
                stream=True,
            )
            body = response.raw.read(_MAX_RESPONSE_BYTES + 1, decode_content=True)
            response.close()
        except requests.RequestException as exc:
            raise ProviderUnavailable(PROVIDER_DOWN, f"{what}: {exc.__class__.__name__}") from exc
        if response.status_code == 401 and what == "userinfo":
            raise LoginRejected("userinfo", "userinfo refused the access token")
        if response.status_code != 200 or len(body) > _MAX_RESPONSE_BYTES:
            raise ProviderUnavailable(
                PROVIDER_DOWN, f"{what}: HTTP {response.status_code}, {len(body)} bytes"
            )
        try:
            return json.loads(body)
        except ValueError as exc:
            raise ProviderUnavailable(PROVIDER_DOWN, f"{what}: not JSON") from exc
