"""Units (法人/单位): adding, registering, deciding registrations, and keeping their information.

Rules enforced here:

* the unified social credit code passes the GB 32100 check and is unique;
* the unit admin is a sign-in account of type ``legal``, created in the same transaction as the unit,
  so a failure never leaves an account without its unit or the reverse;
* a unit registered on the web is ``pending`` and its admin account disabled until an operator
  approves it (the platform's rule: "注册信息通过审核后进行登录");
* a unit admin's login name may not be a valid credit code other than the unit's own, because the
  legal sign-in tab accepts either and one typed value must name one account;
* every change is written to the audit log in the transaction that makes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from idp.accounts import N_
from idp.accounts.models import AccountType, User, username_key
from idp.accounts.password_policy import check_password
from idp.accounts.passwords import DEFAULT_PARAMS, Argon2Params, hash_password
from idp.accounts.services import EMAIL_PATTERN, PHONE_PATTERN, validate_username
from idp.audit.services import record
from idp.db import Database, utcnow
from idp.errors import Conflict, InvalidInput, NotFound
from idp.orgs.actors import Actor, admin_unit, require_operator
from idp.orgs.creditcode import InvalidCreditCode, validate_credit_code
from idp.orgs.models import Unit, UnitStatus, UnitType

MAX_REASON = 500
EDITABLE_FIELDS = ("name", "unit_type", "address", "contact_name", "contact_phone", "contact_email")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass
class UnitInput:
    """Raw values from a form or the command line; :func:`clean_unit` validates every one."""

    credit_code: str = ""
    name: str = ""
    unit_type: str = UnitType.OTHER.value
    address: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    contact_email: str = ""


@dataclass(frozen=True)
class CleanUnit:
    credit_code: str
    name: str
    unit_type: str
    address: str | None
    contact_name: str | None
    contact_phone: str | None
    contact_email: str | None


def _text(value: str, limit: int, message: str, *, required: bool = False) -> str | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise InvalidInput(message, "required field empty")
        return None
    if len(text) > limit or _CONTROL.search(text):
        raise InvalidInput(message, "field too long or with control characters")
    return text


def _matching(value: str, pattern: re.Pattern[str], limit: int, message: str) -> str | None:
    text = _text(value, limit, message)
    if text is not None and not pattern.fullmatch(text):
        raise InvalidInput(message, "field format")
    return text


def clean_unit(data: UnitInput) -> CleanUnit:
    """Validated unit fields, in form order; the first problem raises InvalidInput."""
    code = validate_credit_code(data.credit_code).code
    name = _text(data.name, 200, N_("请填写单位名称(不超过 200 个字符)。"), required=True)
    if name is None or len(name) < 2:
        raise InvalidInput(N_("请填写单位名称(不超过 200 个字符)。"), "unit name too short")
    if data.unit_type not in {t.value for t in UnitType}:
        raise InvalidInput(N_("请选择单位类型。"), "unit type")
    return CleanUnit(
        credit_code=code,
        name=name,
        unit_type=data.unit_type,
        address=_text(data.address, 300, N_("单位地址过长或含有非法字符。")),
        contact_name=_text(data.contact_name, 50, N_("联系人姓名过长或含有非法字符。")),
        contact_phone=_matching(data.contact_phone, PHONE_PATTERN, 32, N_("联系电话格式不正确。")),
        contact_email=_matching(data.contact_email, EMAIL_PATTERN, 254, N_("电子邮箱格式不正确。")),
    )


def _check_admin_login(login: str, credit_code: str) -> None:
    try:
        as_code = validate_credit_code(login).code
    except InvalidCreditCode:
        return
    if as_code != credit_code:
        raise InvalidInput(
            N_("单位管理员登录名不能是其他单位的统一社会信用代码。"), "admin login is another credit code"
        )


def clean_reason(reason: str, *, required: bool) -> str | None:
    return _text(reason, MAX_REASON, N_("请填写原因(不超过 500 个字符)。"), required=required)


class UnitService:
    def __init__(self, db: Database, *, password_params: Argon2Params = DEFAULT_PARAMS) -> None:
        self.db = db
        self.params = password_params

    # --- creating ---------------------------------------------------------------------------------

    def add(self, data: UnitInput, admin_username: str, admin_password: str, actor: Actor) -> Unit:
        """An operator adds a unit: active at once, its admin able to sign in."""
        return self._create(data, admin_username, admin_password, actor, UnitStatus.ACTIVE)

    def register(self, data: UnitInput, admin_username: str, admin_password: str, actor: Actor) -> Unit:
        """A unit registers itself on the web: pending until an operator approves."""
        return self._create(data, admin_username, admin_password, actor, UnitStatus.PENDING)

    def _create(
        self, data: UnitInput, admin_username: str, admin_password: str, actor: Actor, status: UnitStatus
    ) -> Unit:
        unit_data = clean_unit(data)
        login = validate_username(admin_username)
        _check_admin_login(login, unit_data.credit_code)
        check_password(admin_password, login)
        # Hashing is slow: done before the transaction opens.
        password_hash = hash_password(admin_password, self.params)
        now = utcnow()
        active = status is UnitStatus.ACTIVE
        admin = User(
            username=login,
            username_key=username_key(login),
            password_hash=password_hash,
            account_type=AccountType.LEGAL.value,
            name=unit_data.name,
            email=unit_data.contact_email,
            disabled=not active,
            password_changed_at=now,
            created_at=now,
            updated_at=now,
        )
        try:
            with self.db.transaction() as session:
                if status is UnitStatus.ACTIVE:
                    require_operator(session, actor)
                self._refuse_taken(session, unit_data.credit_code, admin.username_key)
                session.add(admin)
                session.flush()
                unit = Unit(
                    credit_code=unit_data.credit_code,
                    name=unit_data.name,
                    unit_type=unit_data.unit_type,
                    address=unit_data.address,
                    contact_name=unit_data.contact_name,
                    contact_phone=unit_data.contact_phone,
                    contact_email=unit_data.contact_email,
                    admin_user_id=admin.id,
                    status=status.value,
                    decided_by=actor.name if active else None,
                    decided_at=now if active else None,
                    created_at=now,
                    updated_at=now,
                )
                session.add(unit)
                session.flush()
                common = {"actor": actor.name, "ip": actor.ip, "request_id": actor.request_id}
                record(session, event="account.created", target=admin.id, account_type="legal", **common)
                record(
                    session,
                    event="org.unit_added" if active else "org.unit_registered",
                    target=unit.id,
                    credit_code=unit.credit_code,
                    status=unit.status,
                    **common,
                )
        except IntegrityError as exc:
            # Two registrations of one code or login name at once: the unique indexes decide.
            raise Conflict(N_("该统一社会信用代码或登录名已被注册。"), "unit or login taken (race)") from exc
        return unit

    @staticmethod
    def _refuse_taken(session: Session, credit_code: str, login_key: str) -> None:
        if session.scalar(select(Unit.id).where(Unit.credit_code == credit_code)) is not None:
            raise Conflict(N_("该统一社会信用代码已注册。"), "credit code taken")
        if session.scalar(select(User.id).where(User.username_key == login_key)) is not None:
            raise Conflict(N_("该登录名已被注册。"), "username taken")
        # The code must not already be another legal account's login name (see the module rules).
        taken = session.scalar(
            select(User.id).where(
                User.username_key == username_key(credit_code),
                User.account_type == AccountType.LEGAL.value,
            )
        )
        if taken is not None:
            raise Conflict(N_("该统一社会信用代码已注册。"), "credit code is a legal login name")

    # --- deciding registrations ------------------------------------------------------------------

    def approve(self, credit_code: str, actor: Actor) -> Unit:
        """Approve a pending (or earlier rejected) registration: the admin may sign in from now on."""
        code = validate_credit_code(credit_code).code
        with self.db.transaction() as session:
            require_operator(session, actor)
            unit = self._by_code(session, code, lock=True)
            if unit.status == UnitStatus.ACTIVE.value:
                raise Conflict(N_("该单位已通过审核。"), "unit already active")
            admin = session.get(User, unit.admin_user_id)
            if admin is not None:
                admin.disabled = False
            self._decide(session, unit, UnitStatus.ACTIVE, None, actor)
            return unit

    def reject(self, credit_code: str, reason: str, actor: Actor) -> Unit:
        code = validate_credit_code(credit_code).code
        why = clean_reason(reason, required=True)
        with self.db.transaction() as session:
            require_operator(session, actor)
            unit = self._by_code(session, code, lock=True)
            if unit.status != UnitStatus.PENDING.value:
                raise Conflict(N_("只能驳回待审核的单位注册。"), f"unit is {unit.status}")
            self._decide(session, unit, UnitStatus.REJECTED, why, actor)
            return unit

    @staticmethod
    def _decide(session: Session, unit: Unit, status: UnitStatus, reason: str | None, actor: Actor) -> None:
        unit.status = status.value
        unit.status_reason = reason
        unit.decided_by = actor.name
        unit.decided_at = utcnow()
        record(
            session,
            event="org.unit_approved" if status is UnitStatus.ACTIVE else "org.unit_rejected",
            actor=actor.name,
            ip=actor.ip,
            request_id=actor.request_id,
            target=unit.id,
            credit_code=unit.credit_code,
            reason=reason,
        )

    @staticmethod
    def _by_code(session: Session, code: str, *, lock: bool = False) -> Unit:
        query = select(Unit).where(Unit.credit_code == code)
        unit = session.scalar(query.with_for_update() if lock else query)
        if unit is None:
            raise NotFound(N_("没有该统一社会信用代码的单位。"), "no such unit")
        return unit

    # --- reading and keeping information ---------------------------------------------------------

    def units(self, status: UnitStatus | None = None) -> list[tuple[Unit, str]]:
        """Units with their admin's login name, newest first."""
        with self.db.transaction() as session:
            query = (
                select(Unit, User.username)
                .join(User, User.id == Unit.admin_user_id)
                .order_by(Unit.created_at.desc(), Unit.credit_code)
            )
            if status is not None:
                query = query.where(Unit.status == status.value)
            return [(unit, login) for unit, login in session.execute(query).all()]

    def pending_units(self, actor: Actor) -> list[tuple[Unit, str]]:
        with self.db.transaction() as session:
            require_operator(session, actor)
        return self.units(UnitStatus.PENDING)

    def unit_of(self, actor: Actor) -> Unit:
        """The actor's own active unit (PermissionDenied for anyone else)."""
        with self.db.transaction() as session:
            return admin_unit(session, actor)

    def update(self, actor: Actor, data: UnitInput) -> Unit:
        """The unit admin keeps the unit's information; the credit code never changes."""
        with self.db.transaction() as session:
            unit = admin_unit(session, actor, lock=True)
            clean = clean_unit(UnitInput(**{**data.__dict__, "credit_code": unit.credit_code}))
            changed = [f for f in EDITABLE_FIELDS if getattr(unit, f) != getattr(clean, f)]
            for field in changed:
                setattr(unit, field, getattr(clean, field))
            admin = session.get(User, unit.admin_user_id)
            if admin is not None and "name" in changed:
                # The legal account's display name is the unit's name (the ``name`` claim).
                admin.name = unit.name
            if changed:
                record(
                    session,
                    event="org.unit_updated",
                    actor=actor.name,
                    ip=actor.ip,
                    request_id=actor.request_id,
                    target=unit.id,
                    fields=changed,
                )
            return unit
