"""Flask sessions kept in this app's database (see :mod:`training_rp.services.sessions`).

Besides the usual dict, a session has two flags a view may set: ``rotate`` (a new token at
sign-in, against session fixation) and ``destroy`` (remove the row and the cookie at logout), and
``grant``: the IdP's tokens of a sign-in, written with the new row and never into the cookie.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Request, Response, session
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from training_rp.db import utcnow
from training_rp.errors import RpError
from training_rp.services.sessions import TOUCH_AFTER, SessionStore, TokenGrant


class ServerSession(CallbackDict[str, Any], SessionMixin):
    def __init__(
        self, initial: dict[str, Any] | None = None, token: str | None = None, stale: bool = False
    ) -> None:
        def on_update(_: CallbackDict[str, Any]) -> None:
            self.modified = True

        super().__init__(initial or {}, on_update)
        self.token = token
        self.stale = stale
        self.modified = False
        self.rotate = False
        self.destroy = False
        #: Set at sign-in only; later refreshes update the row through the grant service.
        self.grant: TokenGrant | None = None
        #: Set when the store could not be read; :func:`raise_if_unavailable` turns it into a 503 page.
        self.failure: RpError | None = None

    @property
    def new(self) -> bool:  # type: ignore[override]
        return self.token is None


class ServerSessionInterface(SessionInterface):
    def __init__(self, store: SessionStore, cookie_name: str, secure: bool) -> None:
        self.store = store
        self.cookie_name = cookie_name
        self.secure = secure

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        token = request.cookies.get(self.cookie_name)
        if token:
            try:
                loaded = self.store.load(token)
            except RpError as exc:
                # Raising here would happen before any error handler can render a page.
                broken = ServerSession()
                broken.failure = exc
                return broken
            if loaded is not None:
                return ServerSession(loaded.data, token, stale=utcnow() - loaded.last_seen_at > TOUCH_AFTER)
        return ServerSession()

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not isinstance(session, ServerSession) or session.failure is not None:
            return
        if session.destroy or (not session and session.modified):
            if session.token:
                self.store.delete(session.token)
                response.delete_cookie(
                    self.cookie_name, path="/", secure=self.secure, httponly=True, samesite="Lax"
                )
            return
        if session.rotate and session.token:
            self.store.delete(session.token)
            session.token = None
        if session.modified or session.rotate:
            if not session:
                return
            fresh = session.token is None
            session.token = self.store.save(session.token, dict(session), grant=session.grant)
            if fresh:
                response.set_cookie(
                    self.cookie_name,
                    session.token,
                    path="/",
                    secure=self.secure,
                    httponly=True,
                    samesite="Lax",
                )
            response.vary.add("Cookie")
        elif session.token and session.stale:
            self.store.touch(session.token)


def raise_if_unavailable() -> None:
    """``before_request``: a session store that could not be read fails the request closed (503)."""
    if isinstance(session, ServerSession) and session.failure is not None:
        raise session.failure
