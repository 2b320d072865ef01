"""Strict verification of ID tokens (OIDC Core 1.0, 3.1.3.7, and 12.2 after a refresh) and logout
tokens (OIDC Back-Channel Logout 1.0, 2.6), each as a list of named steps run in order; the first
failing step names the reason that goes to the log.

The JOSE header is checked before any key is looked up: only RS256 and ES256 are accepted (never
``none``, never an HMAC algorithm, which would let the IdP's *public* key act as a shared secret),
and headers that would make us trust a key from elsewhere (``jku``, ``x5u``, ``jwk``, ``x5c``) or
require an extension we do not implement (``crit``, RFC 7515 section 4.1.11) are refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from joserfc import jws
from joserfc.errors import JoseError

from training_rp.errors import LoginRejected
from training_rp.oidc.keys import ALGORITHMS, JwksCache

BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
_REFUSED_HEADERS = ("jku", "x5u", "jwk", "x5c", "crit")
_MAX_TOKEN_BYTES = 16 * 1024
_MAX_CLAIM_TEXT = 255

Claims = dict[str, Any]


@dataclass(frozen=True)
class Expectations:
    """What every token from our IdP must satisfy."""

    issuer: str
    client_id: str
    clock_skew: int
    max_age: int
    now: Callable[[], float] = field(default=time.time)


@dataclass(frozen=True)
class OriginalSignIn:
    """Claims of the sign-in's ID token that every refreshed ID token must repeat (OIDC Core 12.2)."""

    sub: str
    sid: str | None
    auth_time: int | None
    nonce: str


@dataclass(frozen=True)
class Context:
    expect: Expectations
    header: Mapping[str, Any]
    now: float
    nonce: str | None = None
    access_token: str | None = None
    original: OriginalSignIn | None = None


Step = tuple[str, Callable[[Claims, Context], None]]


def read_header(token: str) -> dict[str, Any]:
    """The decoded JOSE header of a compact JWS, without trusting anything in it yet."""
    if not isinstance(token, str) or len(token) > _MAX_TOKEN_BYTES or token.count(".") != 2:
        raise LoginRejected("format", "not a compact JWS")
    try:
        header = json.loads(_b64url_decode(token.split(".", 1)[0]))
    except (ValueError, UnicodeDecodeError) as exc:
        raise LoginRejected("format", "header is not base64url JSON") from exc
    if not isinstance(header, dict):
        raise LoginRejected("format", "header is not a JSON object")
    return header


def check_header(header: Mapping[str, Any], allowed_types: Sequence[str]) -> str:
    """Refuse dangerous or unexpected headers; return the algorithm to verify with."""
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise LoginRejected("alg", f"alg {str(alg)[:20]!r} is not RS256 or ES256")
    present = [name for name in _REFUSED_HEADERS if name in header]
    if present:
        raise LoginRejected("header", f"refused header parameters: {', '.join(present)}")
    if "kid" in header and not isinstance(header["kid"], str):
        raise LoginRejected("kid", "kid is not a string")
    typ = header.get("typ")
    if typ is not None and (not isinstance(typ, str) or typ.lower() not in allowed_types):
        raise LoginRejected("typ", f"typ {str(typ)[:30]!r} not accepted here")
    return str(alg)


def verified_claims_of(
    token: str, keys: JwksCache, allowed_types: Sequence[str]
) -> tuple[dict[str, Any], Claims]:
    """Header checks, then the signature against the IdP's key for (kid, alg); returns header and claims."""
    header = read_header(token)
    alg = check_header(header, allowed_types)
    key = keys.find(header.get("kid"), alg)
    try:
        signed = jws.deserialize_compact(token, key, algorithms=[alg])
    except JoseError as exc:
        raise LoginRejected("signature", f"signature not valid ({exc.__class__.__name__})") from exc
    try:
        claims = json.loads(signed.payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise LoginRejected("format", "payload is not JSON") from exc
    if not isinstance(claims, dict):
        raise LoginRejected("format", "payload is not a JSON object")
    return header, claims


# --- individual steps -----------------------------------------------------------------------


def _iss(claims: Claims, ctx: Context) -> None:
    # Core 3.1.3.7 step 2: the issuer MUST exactly match the one from discovery.
    if claims.get("iss") != ctx.expect.issuer:
        raise LoginRejected("iss", f"iss {str(claims.get('iss'))[:100]!r} is not our issuer")


def _aud(claims: Claims, ctx: Context) -> None:
    # Step 3: we must be an audience, and no other audience we do not trust may be listed.
    aud = claims.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    if audiences != [ctx.expect.client_id]:
        raise LoginRejected("aud", "aud is not exactly this client")


def _azp(claims: Claims, ctx: Context) -> None:
    # Steps 4-5: an azp, when present, must be this client.
    if "azp" in claims and claims["azp"] != ctx.expect.client_id:
        raise LoginRejected("azp", "azp is not this client")


def _exp(claims: Claims, ctx: Context) -> None:
    # Step 9: the current time MUST be before exp (with a small allowance for clock skew).
    exp = claims.get("exp")
    if not _is_number(exp):
        raise LoginRejected("exp", "exp missing or not a number")
    if ctx.now > exp + ctx.expect.clock_skew:
        raise LoginRejected("exp", "token expired")


def _optional_exp(claims: Claims, ctx: Context) -> None:
    if "exp" in claims:
        _exp(claims, ctx)


def _iat(claims: Claims, ctx: Context) -> None:
    # Step 10: iat bounds how old a token we accept, and refuses tokens from the future.
    iat = claims.get("iat")
    if not _is_number(iat):
        raise LoginRejected("iat", "iat missing or not a number")
    if iat > ctx.now + ctx.expect.clock_skew:
        raise LoginRejected("iat", "iat is in the future")
    if ctx.now - iat > ctx.expect.max_age + ctx.expect.clock_skew:
        raise LoginRejected("iat", "token issued too long ago")


def _nonce(claims: Claims, ctx: Context) -> None:
    # Step 11: the nonce MUST equal the one sent in the authentication request.
    nonce = claims.get("nonce")
    if not ctx.nonce or not isinstance(nonce, str) or not hmac.compare_digest(nonce, ctx.nonce):
        raise LoginRejected("nonce", "nonce does not match the request")


def _sub(claims: Claims, ctx: Context) -> None:
    sub = claims.get("sub")
    if not _is_text(sub):
        raise LoginRejected("sub", "sub missing or not a short string")


def _sid(claims: Claims, ctx: Context) -> None:
    if "sid" in claims and not _is_text(claims["sid"]):
        raise LoginRejected("sid", "sid is not a short string")


def _at_hash(claims: Claims, ctx: Context) -> None:
    # Core 3.2.2.9 / 3.1.3.8: when at_hash is present it must bind the access token we received.
    if "at_hash" not in claims:
        return
    if not ctx.access_token:
        raise LoginRejected("at_hash", "at_hash without an access token")
    digest = hashlib.sha256(ctx.access_token.encode("ascii", "replace")).digest()
    expected = base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()
    if not isinstance(claims["at_hash"], str) or not hmac.compare_digest(claims["at_hash"], expected):
        raise LoginRejected("at_hash", "at_hash does not match the access token")


def _refreshed_nonce(claims: Claims, ctx: Context) -> None:
    # Core 12.2: a refreshed ID token SHOULD NOT carry a nonce; if it does, it MUST be the original one.
    if "nonce" not in claims:
        return
    original = ctx.original.nonce if ctx.original else ""
    nonce = claims["nonce"]
    if not original or not isinstance(nonce, str) or not hmac.compare_digest(nonce, original):
        raise LoginRejected("nonce", "refreshed ID token carries a nonce other than the original")


def _same_sub(claims: Claims, ctx: Context) -> None:
    # Core 12.2: the sub MUST be the same as in the ID token of the original authentication.
    if ctx.original is None or claims.get("sub") != ctx.original.sub:
        raise LoginRejected("sub", "refreshed ID token names another subject")


def _same_sid(claims: Claims, ctx: Context) -> None:
    # Back-channel logout finds the session by sid: a refreshed token must not move it elsewhere.
    if "sid" in claims and (ctx.original is None or claims["sid"] != ctx.original.sid):
        raise LoginRejected("sid", "refreshed ID token names another IdP session")


def _same_auth_time(claims: Claims, ctx: Context) -> None:
    # Core 12.2: auth_time, when present, MUST be the time of the original authentication.
    if "auth_time" not in claims:
        return
    if ctx.original is None or claims["auth_time"] != ctx.original.auth_time:
        raise LoginRejected("auth_time", "refreshed ID token changes auth_time")


def _events(claims: Claims, ctx: Context) -> None:
    # BCL 2.6 step 4: the events claim has the back-channel logout member, whose value is an object.
    events = claims.get("events")
    if not isinstance(events, dict) or not isinstance(events.get(BACKCHANNEL_LOGOUT_EVENT), dict):
        raise LoginRejected("events", "events claim lacks the back-channel logout event")


def _sub_or_sid(claims: Claims, ctx: Context) -> None:
    # BCL 2.6 step 5: a sub claim, a sid claim, or both.
    if "sub" not in claims and "sid" not in claims:
        raise LoginRejected("sub", "neither sub nor sid")
    if "sub" in claims:
        _sub(claims, ctx)
    _sid(claims, ctx)


def _no_nonce(claims: Claims, ctx: Context) -> None:
    # BCL 2.6 step 6: a logout token MUST NOT contain a nonce (so an ID token cannot pass as one).
    if "nonce" in claims:
        raise LoginRejected("nonce", "logout token carries a nonce")


def _jti(claims: Claims, ctx: Context) -> None:
    if not _is_text(claims.get("jti")):
        raise LoginRejected("jti", "jti missing or not a short string")


ID_TOKEN_STEPS: tuple[Step, ...] = (
    ("iss", _iss),
    ("aud", _aud),
    ("azp", _azp),
    ("exp", _exp),
    ("iat", _iat),
    ("nonce", _nonce),
    ("sub", _sub),
    ("sid", _sid),
    ("at_hash", _at_hash),
)

#: The sign-in checks with two changes (OIDC Core 12.2): no nonce is expected, and what identifies
#: the person and the sign-in must be exactly what the original ID token said.
REFRESHED_ID_TOKEN_STEPS: tuple[Step, ...] = (
    ("iss", _iss),
    ("aud", _aud),
    ("azp", _azp),
    ("exp", _exp),
    ("iat", _iat),
    ("nonce", _refreshed_nonce),
    ("sub", _sub),
    ("same_sub", _same_sub),
    ("sid", _sid),
    ("same_sid", _same_sid),
    ("auth_time", _same_auth_time),
    ("at_hash", _at_hash),
)

LOGOUT_TOKEN_STEPS: tuple[Step, ...] = (
    ("iss", _iss),
    ("aud", _aud),
    ("iat", _iat),
    ("exp", _optional_exp),
    ("events", _events),
    ("sub_or_sid", _sub_or_sid),
    ("no_nonce", _no_nonce),
    ("jti", _jti),
)


def run_steps(steps: Sequence[Step], claims: Claims, ctx: Context) -> None:
    for _name, step in steps:
        step(claims, ctx)


def verify_id_token(
    token: str, keys: JwksCache, expect: Expectations, nonce: str, access_token: str | None
) -> Claims:
    """The claims of a valid ID token, or :class:`LoginRejected` naming the first failed check."""
    header, claims = verified_claims_of(token, keys, allowed_types=("jwt",))
    ctx = Context(expect=expect, header=header, now=expect.now(), nonce=nonce, access_token=access_token)
    run_steps(ID_TOKEN_STEPS, claims, ctx)
    return claims


def verify_refreshed_id_token(
    token: str, keys: JwksCache, expect: Expectations, original: OriginalSignIn, access_token: str
) -> Claims:
    """The claims of a valid ID token from a refresh of the sign-in ``original`` described."""
    header, claims = verified_claims_of(token, keys, allowed_types=("jwt",))
    ctx = Context(
        expect=expect, header=header, now=expect.now(), access_token=access_token, original=original
    )
    run_steps(REFRESHED_ID_TOKEN_STEPS, claims, ctx)
    return claims


def verify_logout_token(token: str, keys: JwksCache, expect: Expectations) -> Claims:
    """The claims of a valid logout token (replay of its ``jti`` is checked by the caller)."""
    header, claims = verified_claims_of(token, keys, allowed_types=("jwt", "logout+jwt"))
    ctx = Context(expect=expect, header=header, now=expect.now())
    run_steps(LOGOUT_TOKEN_STEPS, claims, ctx)
    return claims


def _is_number(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= _MAX_CLAIM_TEXT


def _b64url_decode(segment: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("bad base64url") from exc
