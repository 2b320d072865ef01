"""A test-only OpenID provider whose keys and answers the test controls.

It serves discovery, JWKS, authorize (redirects straight back with a code), token (checks client
authentication and PKCE, then returns an ID token the test may forge), userinfo and end-session,
over real HTTP on a loopback port, so the relying party talks to it exactly as to the real IdP.
Tokens are signed by hand here, so a test can put any header (``alg: none``, ``jku``, ``crit``)
on them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from flask import Flask, Response, jsonify, redirect, request
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers.response import Response as BaseResponse

CLIENT_ID = "training"
CLIENT_SECRET = "forging-issuer-client-secret"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_json(value: Any) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


@dataclass
class SigningKey:
    kid: str
    alg: str
    private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

    @classmethod
    def rsa(cls, kid: str) -> SigningKey:
        return cls(kid, "RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048))

    @classmethod
    def ec(cls, kid: str) -> SigningKey:
        return cls(kid, "ES256", ec.generate_private_key(ec.SECP256R1()))

    def public_jwk(self) -> dict[str, Any]:
        if isinstance(self.private, rsa.RSAPrivateKey):
            numbers = self.private.public_key().public_numbers()
            return {
                "kty": "RSA",
                "kid": self.kid,
                "use": "sig",
                "alg": "RS256",
                "n": b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
                "e": b64url(numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")),
            }
        point = self.private.public_key().public_numbers()
        return {
            "kty": "EC",
            "kid": self.kid,
            "use": "sig",
            "alg": "ES256",
            "crv": "P-256",
            "x": b64url(point.x.to_bytes(32, "big")),
            "y": b64url(point.y.to_bytes(32, "big")),
        }

    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign(self, signing_input: bytes) -> bytes:
        if isinstance(self.private, rsa.RSAPrivateKey):
            return self.private.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        r, s = decode_dss_signature(self.private.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def jws(claims: dict[str, Any], key: SigningKey, **header: Any) -> str:
    """A compact JWS of ``claims`` signed with ``key``; ``header`` adds or replaces header members."""
    protected = {"alg": key.alg, "kid": key.kid, "typ": "JWT", **header}
    protected = {k: v for k, v in protected.items() if v is not None}
    signing_input = f"{b64url_json(protected)}.{b64url_json(claims)}"
    return f"{signing_input}.{b64url(key.sign(signing_input.encode()))}"


def unsigned(claims: dict[str, Any]) -> str:
    """``alg: none``: no signature at all."""
    return f"{b64url_json({'alg': 'none', 'typ': 'JWT'})}.{b64url_json(claims)}."


def hmac_with_public_key(claims: dict[str, Any], key: SigningKey) -> str:
    """HS256 keyed with the issuer's *public* key, the classic algorithm-confusion forgery."""
    signing_input = f"{b64url_json({'alg': 'HS256', 'typ': 'JWT', 'kid': key.kid})}.{b64url_json(claims)}"
    mac = hmac.new(key.public_pem(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


def tampered(token: str) -> str:
    """The same token with one claim changed after signing."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = claims.get("sub", "") + "-admin"
    return f"{header}.{b64url_json(claims)}.{signature}"


@dataclass
class AuthRequest:
    state: str
    nonce: str
    redirect_uri: str
    code_challenge: str
    scope: str


@dataclass
class Person:
    """Who "signs in" at the forging issuer next."""

    sub: str = "sub-0001"
    name: str = "张三"
    realname_status: str = "verified"
    id_number: str | None = None
    sid: str = field(default_factory=lambda: "sid-" + secrets.token_hex(6))


#: Builds the token endpoint's ID token from (default claims, forging issuer); the default signs them.
TokenHook = Callable[[dict[str, Any], "ForgingIssuer"], str]


class ForgingIssuer:
    def __init__(self) -> None:
        self.keys = [SigningKey.rsa("rsa-1"), SigningKey.ec("ec-1")]
        self.published: list[SigningKey] = list(self.keys)
        self.person = Person()
        self.token_hook: TokenHook | None = None
        self.userinfo_extra: dict[str, Any] = {}
        self.claims_in_id_token = True
        self.jwks_fetches = 0
        self.token_requests: list[dict[str, Any]] = []
        self.end_session_requests: list[dict[str, str]] = []
        self.requests: dict[str, AuthRequest] = {}
        self.access_tokens: dict[str, Person] = {}
        self.metadata_overrides: dict[str, Any] = {}
        self.send_iss = True
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> ForgingIssuer:
        self._server = make_server("127.0.0.1", 0, self.app(), threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def reset(self) -> None:
        self.published = list(self.keys)
        self.person = Person()
        self.token_hook = None
        self.userinfo_extra = {}
        self.claims_in_id_token = True
        self.jwks_fetches = 0
        self.token_requests.clear()
        self.end_session_requests.clear()
        self.requests.clear()
        self.access_tokens.clear()
        self.metadata_overrides = {}
        self.send_iss = True

    # --- tokens -------------------------------------------------------------------------------

    @property
    def rsa(self) -> SigningKey:
        return self.keys[0]

    @property
    def ec(self) -> SigningKey:
        return self.keys[1]

    def person_claims(self, person: Person) -> dict[str, Any]:
        claims: dict[str, Any] = {"name": person.name, "realname_status": person.realname_status}
        if person.realname_status in ("verified", "reviewed"):
            claims["verified_claims"] = {
                "verification": {"trust_framework": "cn_most_realname"},
                "claims": {"name": person.name},
            }
        if person.id_number is not None:
            claims["id_number"] = person.id_number
        return claims

    def default_id_token_claims(self, auth: AuthRequest, access_token: str) -> dict[str, Any]:
        now = int(time.time())
        digest = hashlib.sha256(access_token.encode()).digest()
        claims: dict[str, Any] = {
            "iss": self.url,
            "aud": CLIENT_ID,
            "sub": self.person.sub,
            "iat": now,
            "exp": now + 300,
            "auth_time": now,
            "nonce": auth.nonce,
            "sid": self.person.sid,
            "at_hash": b64url(digest[:16]),
        }
        if self.claims_in_id_token:
            claims.update(self.person_claims(self.person))
        return claims

    def logout_token(self, sub: str | None = None, sid: str | None = None, **changes: Any) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.url,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 120,
            "jti": secrets.token_hex(8),
            "events": {"http://schemas.openid.net/event/backchannel-logout": {}},
        }
        if sub is not None:
            claims["sub"] = sub
        if sid is not None:
            claims["sid"] = sid
        claims.update(changes)
        claims = {k: v for k, v in claims.items() if v is not None}
        return jws(claims, self.rsa, typ="logout+jwt")

    # --- the HTTP surface ---------------------------------------------------------------------

    def app(self) -> Flask:
        app = Flask("forging_issuer")

        @app.get("/.well-known/openid-configuration")
        def discovery() -> Response:
            document = {
                "issuer": self.url,
                "authorization_endpoint": self.url + "/authorize",
                "token_endpoint": self.url + "/token",
                "userinfo_endpoint": self.url + "/userinfo",
                "jwks_uri": self.url + "/jwks",
                "end_session_endpoint": self.url + "/logout",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                # Deliberately generous: the relying party must not take its allow-list from here.
                "id_token_signing_alg_values_supported": ["RS256", "ES256", "HS256", "none"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
                "authorization_response_iss_parameter_supported": True,
                "backchannel_logout_supported": True,
                "backchannel_logout_session_supported": True,
            }
            document.update(self.metadata_overrides)
            return jsonify(document)

        @app.get("/jwks")
        def jwks() -> Response:
            self.jwks_fetches += 1
            return jsonify({"keys": [k.public_jwk() for k in self.published]})

        @app.get("/authorize")
        def authorize() -> BaseResponse | tuple[str, int]:
            args = request.args
            if args.get("client_id") != CLIENT_ID or args.get("response_type") != "code":
                return "bad client or response_type", 400
            if args.get("code_challenge_method") != "S256" or not args.get("code_challenge"):
                return "PKCE S256 required", 400
            if (
                not args.get("nonce")
                or not args.get("state")
                or "openid" not in args.get("scope", "").split()
            ):
                return "nonce, state and openid scope required", 400
            code = secrets.token_urlsafe(16)
            self.requests[code] = AuthRequest(
                state=args["state"],
                nonce=args["nonce"],
                redirect_uri=args["redirect_uri"],
                code_challenge=args["code_challenge"],
                scope=args["scope"],
            )
            params = {"code": code, "state": args["state"]}
            if self.send_iss:
                params["iss"] = self.url
            return redirect(f"{args['redirect_uri']}?{urlencode(params)}")

        @app.post("/token")
        def token() -> Response | tuple[Response, int]:
            self.token_requests.append(dict(request.form))
            auth = request.authorization
            if auth is None or auth.username != CLIENT_ID or auth.password != CLIENT_SECRET:
                return jsonify(error="invalid_client"), 401
            auth_request = self.requests.pop(request.form.get("code", ""), None)
            if auth_request is None or request.form.get("redirect_uri") != auth_request.redirect_uri:
                return jsonify(error="invalid_grant"), 400
            verifier = request.form.get("code_verifier", "")
            if b64url(hashlib.sha256(verifier.encode()).digest()) != auth_request.code_challenge:
                return jsonify(error="invalid_grant", error_description="PKCE verification failed"), 400
            access_token = secrets.token_urlsafe(24)
            self.access_tokens[access_token] = self.person
            claims = self.default_id_token_claims(auth_request, access_token)
            id_token = self.token_hook(claims, self) if self.token_hook else jws(claims, self.rsa)
            response = jsonify(
                access_token=access_token, token_type="Bearer", expires_in=300, id_token=id_token
            )
            response.headers["Cache-Control"] = "no-store"
            return response

        @app.get("/userinfo")
        def userinfo() -> Response | tuple[Response, int]:
            header = request.headers.get("Authorization", "")
            person = self.access_tokens.get(header.removeprefix("Bearer "))
            if person is None:
                return jsonify(error="invalid_token"), 401
            return jsonify({"sub": person.sub, **self.person_claims(person), **self.userinfo_extra})

        @app.get("/logout")
        def end_session() -> BaseResponse:
            self.end_session_requests.append(dict(request.args))
            target = request.args.get("post_logout_redirect_uri", "/")
            return redirect(f"{target}?{urlencode({'state': request.args.get('state', '')})}")

        return app
