"""The signed-in account of a request, and decorators that require one (of given roles)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import abort, g, redirect, request, session, url_for

from training_rp.models import Role
from training_rp.services.accounts import AccountView
from training_rp.web.context import services
from training_rp.web.session_interface import ServerSession

F = TypeVar("F", bound=Callable[..., Any])


def load_account() -> None:
    """``before_request``: put the signed-in account on ``g``; end the session of a gone or 无效 account."""
    g.account = None
    account_id = session.get("account_id")
    if account_id is None:
        return
    account = services().accounts.get(int(account_id)) if isinstance(account_id, int) else None
    if account is None or not account.active:
        end_session()
        return
    g.account = account


def current_account() -> AccountView | None:
    return cast(AccountView | None, g.get("account"))


def signed_in() -> AccountView:
    """The signed-in account of a view behind :func:`login_required`."""
    account = current_account()
    if account is None:
        abort(401)
    return account


def end_session() -> None:
    session.clear()
    if isinstance(session, ServerSession):
        session.destroy = True


def login_required(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_account() is None:
            return redirect(url_for("auth.login", next=request.path))
        return view(*args, **kwargs)

    return cast(F, wrapper)


def roles_required(*roles: Role) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            account = current_account()
            if account is None:
                return redirect(url_for("auth.login", next=request.path))
            if account.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


def safe_next(value: str | None) -> str:
    """A local path to return to after sign-in; anything else (other hosts, ``//x``, ``\\x``) is ``/``."""
    if not value or len(value) > 200 or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or any(ord(ch) < 32 for ch in value):
        return "/"
    return value
