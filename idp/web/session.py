"""The single sign-on session: a random cookie in the browser, its state in the ephemeral store.

* Cookie ``__Host-idp_sid`` on an https issuer (``Secure``, ``Path=/``, no ``Domain``), ``idp_sid``
  on plain-http development; always ``HttpOnly`` and ``SameSite=Lax``. Its value is 256 random bits.
* The store never sees the cookie value: the session id (:attr:`SSOSession.sid`) is its SHA-256, so a
  dump of the store, a log line or the OIDC ``sid`` claim cannot be turned back into a cookie.
* Store key ``sso:{<sid>}`` holds JSON ``{user_id, auth_time, created, last_seen, amr, clients}``
  with a TTL of the idle timeout, refreshed on use, never past ``session_lifetime`` after creation
  (SECURITY.md: 30 minutes idle, 12 hours absolute by default).
* :func:`start_session` always issues a new cookie (no session fixation, OWASP ASVS V7.2.4).
* :func:`end_sessions_of` ends every session of one person at once (password reset or change):
  the store keeps no list of a person's sessions, so it writes ``sso-user:{<user_id>}`` with the
  time in nanoseconds, and a session issued before that time is refused and removed when next
  seen. The mark lives as long as a session can, so it never outlasts what it has to refuse.

Views use the module functions; an ``after_request`` hook writes or clears the cookie.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Any, cast

from flask import Flask, Response, g, request

from idp.context import services
from idp.errors import StoreUnavailable

COOKIE_SECURE_NAME = "__Host-idp_sid"
COOKIE_PLAIN_NAME = "idp_sid"
COOKIE_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")
#: Most seconds between two idle-timer refreshes of one session (saves a store write per request);
#: never more than a quarter of the idle timeout, so an active session cannot time out.
REFRESH_EVERY = 60
MAX_CLIENTS = 200
MAX_PREVIOUS_SIDS = 10

_UNSET = object()


@dataclass
class SSOSession:
    #: Public id of the session: SHA-256 of the cookie value, hex. Safe in tokens and logs.
    sid: str
    user_id: str
    #: When the person last proved who they are (epoch seconds): the OIDC ``auth_time``.
    auth_time: int
    created: int
    #: Authentication methods (RFC 8176), e.g. ``["pwd"]``.
    amr: list[str]
    #: client_ids the session signed in to, for back-channel logout.
    clients: list[str] = field(default_factory=list)
    last_seen: int = 0
    #: When this session id was issued, nanoseconds since the epoch (compared with end marks).
    issued_ns: int = 0
    #: Earlier ids of this browser's session of the same person (re-authentication rotates the
    #: id): relying parties that signed in under them still hold those ``sid`` values.
    previous_sids: list[str] = field(default_factory=list)

    @property
    def all_sids(self) -> list[str]:
        return [self.sid, *self.previous_sids]


def cookie_name() -> str:
    return COOKIE_SECURE_NAME if services().settings.https else COOKIE_PLAIN_NAME


def session_id_for(cookie_value: str) -> str:
    return hashlib.sha256(cookie_value.encode("ascii")).hexdigest()


def _key(sid: str) -> str:
    return f"sso:{{{sid}}}"


def _user_key(user_id: str) -> str:
    return f"sso-user:{{{user_id}}}"


def _ttl(created: int, now: int) -> int:
    """Seconds the session may still live: the idle timeout, cut at the absolute lifetime."""
    settings = services().settings
    return min(settings.session_idle, created + settings.session_lifetime - now)


def _save(session: SSOSession, now: int) -> bool:
    ttl = _ttl(session.created, now)
    if ttl < 1:
        return False
    data = asdict(session)
    del data["sid"]
    services().store.put(_key(session.sid), json.dumps(data), ttl)
    return True


def _load(sid: str) -> SSOSession | None:
    raw = services().store.get(_key(sid))
    if raw is None:
        return None
    try:
        data: dict[str, Any] = json.loads(raw)
        return SSOSession(
            sid=sid,
            user_id=str(data["user_id"]),
            auth_time=int(data["auth_time"]),
            created=int(data["created"]),
            amr=[str(m) for m in data.get("amr", [])],
            clients=[str(c) for c in data.get("clients", [])],
            last_seen=int(data.get("last_seen", 0)),
            issued_ns=int(data.get("issued_ns", 0)),
            previous_sids=[str(x) for x in data.get("previous_sids", [])],
        )
    except (ValueError, KeyError, TypeError):
        # An unreadable entry is no session; it will expire by itself.
        return None


def start_session(user_id: str, amr: list[str]) -> SSOSession:
    """A new session (and a new cookie) for ``user_id``, replacing any session of this browser.

    Clients of a previous session of the same person stay attached, so a later logout still
    reaches them; the previous session id stops working at once.
    """
    previous = current_session()
    now = int(time.time())
    cookie_value = secrets.token_urlsafe(32)
    same_person = previous is not None and previous.user_id == user_id
    carried = previous.clients if previous is not None and same_person else []
    earlier = previous.all_sids[:MAX_PREVIOUS_SIDS] if previous is not None and same_person else []
    session = SSOSession(
        sid=session_id_for(cookie_value),
        user_id=user_id,
        auth_time=now,
        created=now,
        amr=list(amr),
        clients=list(carried),
        last_seen=now,
        issued_ns=time.time_ns(),
        previous_sids=earlier,
    )
    if previous is not None:
        services().store.delete(_key(previous.sid))
    _save(session, now)
    g.sso_session = session
    g.sso_cookie = cookie_value
    return session


def current_session() -> SSOSession | None:
    """The browser's live session, or None; loaded once per request."""
    cached = g.get("sso_session", _UNSET)
    if cached is not _UNSET:
        return cast(SSOSession | None, cached)
    session = _from_cookie()
    g.sso_session = session
    return session


def _from_cookie() -> SSOSession | None:
    value = request.cookies.get(cookie_name())
    if value is None:
        return None
    if not COOKIE_PATTERN.fullmatch(value):
        g.sso_cookie = ""
        return None
    session = _load(session_id_for(value))
    now = int(time.time())
    if session is None or _ttl(session.created, now) < 1:
        g.sso_cookie = ""
        return None
    if _ended_by_mark(session):
        services().store.delete(_key(session.sid))
        g.sso_cookie = ""
        return None
    if now - session.last_seen >= min(REFRESH_EVERY, services().settings.session_idle // 4):
        session.last_seen = now
        _save(session, now)
    return session


def add_client(client_id: str) -> None:
    """Record that the current session signed in to ``client_id`` (for back-channel logout)."""
    session = current_session()
    if session is None:
        raise LookupError("no SSO session in this request")
    if client_id in session.clients or len(session.clients) >= MAX_CLIENTS:
        return
    session.clients.append(client_id)
    _save(session, int(time.time()))


def end_session() -> SSOSession | None:
    """End the browser's session; returns it, so its clients can be told (back-channel logout)."""
    session = current_session()
    if session is not None:
        services().store.delete(_key(session.sid))
    g.sso_session = None
    g.sso_cookie = ""
    return session


def end_sessions_of(user_id: str) -> None:
    """End every session of ``user_id`` issued until now, in every browser.

    A session this request starts afterwards (:func:`start_session`) is not affected, which is how
    a password change keeps the person signed in here while their other sessions end.
    """
    services().store.put(_user_key(user_id), str(time.time_ns()), services().settings.session_lifetime)
    # Tokens issued to relying parties in those sessions end too (installed by the OIDC side).
    revoke = services().extras.get("revoke_user_tokens")
    if callable(revoke):
        revoke(user_id)


def _ended_by_mark(session: SSOSession) -> bool:
    mark = services().store.get(_user_key(session.user_id))
    if mark is None:
        return False
    try:
        return session.issued_ns <= int(mark)
    except ValueError:
        # Only tampering makes an unreadable mark; refusing the session is the safe reading.
        return True


def _write_cookie(response: Response) -> Response:
    value: str | None = g.get("sso_cookie")
    if value is None:
        return response
    secure = services().settings.https
    if value:
        # No Max-Age: the cookie ends with the browser; the store enforces idle and absolute limits.
        response.set_cookie(cookie_name(), value, secure=secure, httponly=True, samesite="Lax", path="/")
    else:
        response.delete_cookie(cookie_name(), secure=secure, httponly=True, samesite="Lax", path="/")
    return response


def current_user_id_or_none() -> str | None:
    """For page chrome: the signed-in user's id, or None also when the store is down."""
    if g.get("store_down"):
        # Asking again would wait for the store's timeout a second time on the 503 page.
        return None
    try:
        session = current_session()
    except StoreUnavailable:
        g.store_down = True
        return None
    return session.user_id if session is not None else None


def init_app(app: Flask) -> None:
    app.after_request(_write_cookie)
