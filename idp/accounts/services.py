"""Creating accounts and signing people in with a password.

Sign-in rules enforced here (SECURITY.md "Sign-in", GB/T 22239 login requirements):

* unknown login name, wrong password, locked account, disabled account and a password-less account
  all raise the same :class:`LoginFailed` after the same amount of hashing work;
* every attempt goes through :class:`idp.accounts.throttle.LoginThrottle` first; when the store
  cannot be reached, :class:`idp.errors.StoreUnavailable` propagates and no password is checked;
* every success, failure, lock and throttled attempt is written to the audit log.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import NoReturn

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from idp.accounts import N_
from idp.accounts.models import AccountType, User, username_key
from idp.accounts.password_policy import check_password
from idp.accounts.passwords import (
    DEFAULT_PARAMS,
    Argon2Params,
    Verification,
    hash_password,
    verify_dummy,
    verify_legacy,
    verify_password,
)
from idp.accounts.throttle import LoginThrottle
from idp.audit.services import record, record_event
from idp.config import Settings
from idp.db import Database, utcnow
from idp.errors import Conflict, DomainError, InvalidInput
from idp.orgs.login import legal_login_name
from idp.store import EphemeralStore

#: Login names: ASCII letters, digits and underscore, 4 to 32 characters (the platform's own rule:
#: "请输入英文字母和数字,请勿加特殊符号", plus the underscore old accounts use).
USERNAME_PATTERN = re.compile(r"[A-Za-z0-9_]{4,32}")
EMAIL_PATTERN = re.compile(r"[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s.]{1,63}")
PHONE_PATTERN = re.compile(r"\+?[0-9][0-9 \-]{2,30}")
MAX_NAME_LENGTH = 100


class LoginFailed(DomainError):
    """The one public answer to every refused password sign-in (no account enumeration)."""

    def __init__(self, detail: str) -> None:
        super().__init__(N_("登录名或密码错误。连续多次错误后账号将被暂时锁定,请稍后再试。"), detail)


class LoginThrottled(DomainError):
    """Too many failures from one client IP; says nothing about any account."""

    status_code = 429

    def __init__(self) -> None:
        super().__init__(N_("登录尝试过于频繁,请稍后再试。"), "client IP over the failure limit")


class PasswordCheckFailed(DomainError):
    """The current password given to confirm a change is wrong, or the account is locked for now."""

    def __init__(self, detail: str) -> None:
        super().__init__(N_("当前密码不正确。连续多次错误后将暂时锁定,请稍后再试。"), detail)


@dataclass(frozen=True)
class Client:
    """Who is asking, for the audit log: the client IP and the request id of the current request."""

    ip: str | None = None
    request_id: str | None = None


def validate_username(username: str) -> str:
    candidate = username.strip()
    if not USERNAME_PATTERN.fullmatch(candidate):
        raise InvalidInput(N_("登录名只能包含英文字母、数字和下划线,长度 4 到 32 个字符。"), "bad username")
    return candidate


def _optional_text(
    value: str | None, pattern: re.Pattern[str] | None, limit: int, message: str
) -> str | None:
    if value is None or not value.strip():
        return None
    text = value.strip()
    if len(text) > limit or any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise InvalidInput(message)
    if pattern is not None and not pattern.fullmatch(text):
        raise InvalidInput(message)
    return text


class AccountService:
    """Accounts in the database, sign-in counters in the ephemeral store."""

    def __init__(
        self,
        db: Database,
        store: EphemeralStore,
        settings: Settings,
        *,
        password_params: Argon2Params = DEFAULT_PARAMS,
    ) -> None:
        self.db = db
        self.store = store
        self.settings = settings
        self.params = password_params
        self.throttle = LoginThrottle(store, settings)

    # --- accounts --------------------------------------------------------------------------------------

    def create_user(
        self,
        username: str,
        password: str | None,
        name: str | None = None,
        email: str | None = None,
        *,
        phone_number: str | None = None,
        account_type: str = AccountType.NATURAL.value,
        roles: Iterable[str] = (),
        email_verified: bool = False,
        phone_number_verified: bool = False,
        actor: str = "system",
        client: Client | None = None,
    ) -> User:
        """Add an account; InvalidInput for a bad field, Conflict when the login name is taken."""
        login = validate_username(username)
        if account_type not in {t.value for t in AccountType}:
            raise InvalidInput(N_("账号类型无效。"), f"account type {account_type!r}")
        if password is not None:
            check_password(password, login)
        clean_name = _optional_text(name, None, MAX_NAME_LENGTH, N_("姓名无效。"))
        clean_email = _optional_text(email, EMAIL_PATTERN, 254, N_("电子邮箱格式不正确。"))
        clean_phone = _optional_text(phone_number, PHONE_PATTERN, 32, N_("手机号码格式不正确。"))
        role_list = sorted({r.strip() for r in roles if r.strip()})
        if any(not re.fullmatch(r"[a-z_]{1,32}", r) for r in role_list):
            raise InvalidInput(N_("角色名称无效。"), "bad role name")
        password_hash = hash_password(password, self.params) if password is not None else None
        now = utcnow()
        user = User(
            username=login,
            username_key=username_key(login),
            password_hash=password_hash,
            account_type=account_type,
            name=clean_name,
            email=clean_email,
            email_verified=email_verified,
            phone_number=clean_phone,
            phone_number_verified=phone_number_verified,
            roles=",".join(role_list),
            password_changed_at=now if password_hash else None,
            created_at=now,
            updated_at=now,
        )
        client = client or Client()
        try:
            with self.db.transaction() as session:
                taken = session.scalar(select(User.id).where(User.username_key == user.username_key))
                if taken is not None:
                    raise Conflict(N_("该登录名已被注册。"), "username taken")
                session.add(user)
                session.flush()
                record(
                    session,
                    event="account.created",
                    actor=actor,
                    ip=client.ip,
                    request_id=client.request_id,
                    target=user.id,
                    account_type=account_type,
                )
        except IntegrityError as exc:
            # Two registrations of one name at the same moment: the unique index decides.
            raise Conflict(N_("该登录名已被注册。"), "username taken (race)") from exc
        return user

    def get(self, user_id: str) -> User | None:
        with self.db.transaction() as session:
            return session.get(User, user_id)

    def find_by_username(self, username: str) -> User | None:
        # The pattern is checked before casefolding, which maps some non-ASCII letters to ASCII ones.
        if not USERNAME_PATTERN.fullmatch(username.strip()):
            return None
        with self.db.transaction() as session:
            return session.scalar(select(User).where(User.username_key == username_key(username)))

    def password_expired(self, user: User) -> bool:
        """True when a maximum password age is configured and the password is older."""
        days = self.settings.password_max_age_days
        if days <= 0 or user.password_changed_at is None:
            return False
        return utcnow() - user.password_changed_at > timedelta(days=days)

    # --- sign-in ---------------------------------------------------------------------------------------

    def needs_captcha(self, username: str, ip: str, account_type: str = AccountType.NATURAL.value) -> bool:
        """Whether the sign-in form must carry a solved captcha (mode ``settings.captcha``)."""
        mode = self.settings.captcha
        if mode == "always":
            return True
        if mode == "off":
            return False
        threshold = self.settings.captcha_after
        if account_type == AccountType.LEGAL.value and username.strip():
            username = legal_login_name(self.db, username.strip())
        if username.strip() and self.throttle.failures(username) >= threshold:
            return True
        return self.throttle.ip_failures(ip) >= threshold

    def authenticate(
        self,
        username: str,
        password: str,
        account_type: str,
        ip: str,
        *,
        request_id: str | None = None,
    ) -> User:
        """The account whose password this is, or LoginFailed / LoginThrottled.

        ``account_type`` is the tab the person signed in on; an account of the other type is
        treated as unknown.
        """
        client = Client(ip=ip, request_id=request_id)
        if account_type not in {t.value for t in AccountType}:
            raise InvalidInput(N_("账号类型无效。"), f"account type {account_type[:20]!r}")
        if account_type == AccountType.LEGAL.value:
            # A unit's credit code stands for its admin's login name: one account, one counter.
            username = legal_login_name(self.db, username)
        # Audit rows name the login name only when it is a well-formed one, never arbitrary typed text
        # (people type passwords into the name field).
        target = username_key(username) if USERNAME_PATTERN.fullmatch(username.strip()) else None
        if self.throttle.ip_blocked(ip):
            self._audit("login.throttled", None, target, client, account_type=account_type)
            raise LoginThrottled()
        attempt = self.throttle.begin(username)
        user = self.find_by_username(username)
        if user is not None and user.account_type != account_type:
            user = None
        if not attempt.allowed:
            verify_dummy(self.params)
            self._refused(user, target, client, "locked", attempt.failures, account_type)
        result = self._check(user, password)
        if user is None or not result.ok or user.disabled:
            reason = (
                "unknown_user"
                if user is None
                else ("disabled" if user.disabled and result.ok else "bad_password")
            )
            if attempt.lock_seconds:
                self._audit(
                    "login.locked",
                    user.id if user else None,
                    user.id if user else target,
                    client,
                    seconds=attempt.lock_seconds,
                    failures=attempt.failures,
                )
            self._refused(user, target, client, reason, attempt.failures, account_type)
        self.throttle.succeeded(username)
        return self._signed_in(user, password, result, client)

    # --- a signed-in person's password: confirming it and replacing it -------------------------------

    def confirm_password(self, user_id: str, password: str, client: Client) -> User:
        """The account when ``password`` is its current one, else PasswordCheckFailed / LoginThrottled.

        A check like a sign-in (SECURITY.md: the throttling "applies to every path that checks a
        password"): the same per-account and per-IP counters and locks, the same hashing work.
        """
        ip = client.ip or ""
        if self.throttle.ip_blocked(ip):
            self._audit("password.check.throttled", user_id, user_id, client)
            raise LoginThrottled()
        user = self.get(user_id)
        if user is None or user.disabled:
            verify_dummy(self.params)
            raise PasswordCheckFailed("account gone or disabled")
        attempt = self.throttle.begin(user.username)
        if attempt.allowed:
            ok = self._check(user, password).ok
        else:
            verify_dummy(self.params)
            ok = False
        if not ok:
            self.throttle.failed(ip)
            reason = "bad_password" if attempt.allowed else "locked"
            self._audit(
                "password.check.failure",
                user.id,
                user.id,
                client,
                reason=reason,
                failures=attempt.failures,
                lock_seconds=attempt.lock_seconds,
            )
            raise PasswordCheckFailed(reason)
        self.throttle.succeeded(user.username)
        return user

    def set_password(self, user_id: str, password: str, *, event: str, client: Client) -> User:
        """Replace the password (policy checked, argon2id); audited as ``event`` in the same transaction."""
        user = self.get(user_id)
        if user is None:
            raise InvalidInput(N_("账号不存在或已停用。"), "account vanished")
        check_password(password, user.username)
        new_hash = hash_password(password, self.params)
        with self.db.transaction() as session:
            current = session.get(User, user_id)
            if current is None:
                raise InvalidInput(N_("账号不存在或已停用。"), "account vanished")
            current.password_hash = new_hash
            current.legacy_hash_scheme = None
            current.password_changed_at = utcnow()
            record(
                session,
                event=event,
                actor=current.id,
                ip=client.ip,
                request_id=client.request_id,
                target=current.id,
            )
        # A new password starts with a clean slate: locks from guesses at the old one are lifted.
        self.throttle.succeeded(current.username)
        return current

    def _check(self, user: User | None, password: str) -> Verification:
        if user is None or user.password_hash is None:
            verify_dummy(self.params)
            return Verification(ok=False)
        if user.legacy_hash_scheme:
            return verify_legacy(user.legacy_hash_scheme, user.password_hash, password)
        return verify_password(user.password_hash, password, self.params)

    def _refused(
        self,
        user: User | None,
        target: str | None,
        client: Client,
        reason: str,
        failures: int,
        account_type: str,
    ) -> NoReturn:
        ip_failures = self.throttle.failed(client.ip or "")
        self._audit(
            "login.failure",
            user.id if user else None,
            user.id if user else target,
            client,
            reason=reason,
            failures=failures,
            ip_failures=ip_failures,
            account_type=account_type,
        )
        raise LoginFailed(reason)

    def _signed_in(self, user: User, password: str, result: Verification, client: Client) -> User:
        # An imported hash or outdated parameters: upgrade to argon2id now that we hold the
        # password (DESIGN.md "Legacy users"); hashed before the transaction opens.
        new_hash = hash_password(password, self.params) if result.needs_rehash else None
        with self.db.transaction() as session:
            current = session.get(User, user.id)
            if current is None:  # deleted between the check and now
                raise LoginFailed("account vanished")
            if new_hash is not None:
                current.password_hash = new_hash
                current.legacy_hash_scheme = None
            record(
                session,
                event="login.success",
                actor=current.id,
                ip=client.ip,
                request_id=client.request_id,
                target=current.id,
                rehashed=result.needs_rehash,
                account_type=current.account_type,
            )
            return current

    def _audit(
        self, event: str, actor: str | None, target: str | None, client: Client, **details: object
    ) -> None:
        record_event(
            self.db,
            event=event,
            actor=actor,
            ip=client.ip,
            request_id=client.request_id,
            target=target,
            **details,
        )
