"""OpenID Provider metadata (OIDC Discovery 1.0 §3, RFC 8414)."""

from __future__ import annotations

from typing import Any

from idp.config import Settings
from idp.oidc.claims import CLAIMS_SUPPORTED
from idp.oidc.clients import SCOPES
from idp.oidc.keys import SIGNING_ALGS


def provider_metadata(settings: Settings) -> dict[str, Any]:
    base = settings.issuer
    return {
        "issuer": base,
        "authorization_endpoint": f"{base}/authorize",
        "token_endpoint": f"{base}/token",
        "userinfo_endpoint": f"{base}/userinfo",
        "jwks_uri": f"{base}/jwks",
        "introspection_endpoint": f"{base}/introspect",
        "revocation_endpoint": f"{base}/revoke",
        "end_session_endpoint": f"{base}/end-session",
        "scopes_supported": list(SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": list(SIGNING_ALGS),
        "userinfo_signing_alg_values_supported": ["none"],
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
            "none",
        ],
        "token_endpoint_auth_signing_alg_values_supported": list(SIGNING_ALGS),
        "introspection_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
        ],
        "revocation_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
            "none",
        ],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": list(CLAIMS_SUPPORTED),
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "require_request_uri_registration": True,
        "authorization_response_iss_parameter_supported": True,
        "prompt_values_supported": ["none", "login", "consent"],
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        "frontchannel_logout_supported": True,
        "frontchannel_logout_session_supported": True,
        "ui_locales_supported": ["zh-CN", "en"],
        "claim_types_supported": ["normal"],
        # OpenID Connect for Identity Assurance 1.0 (scope ``realname``).
        "verified_claims_supported": True,
        "trust_frameworks_supported": ["cn_national_id_register", "cn_manual_review"],
        "evidence_supported": ["electronic_record", "document"],
        "claims_in_verified_claims_supported": ["name", "birthdate"],
        "service_documentation": f"{base}/docs/integration",
    }
