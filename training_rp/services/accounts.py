"""The training system's own accounts: who records whom, with ID numbers sealed and shown masked.

- A ministry administrator (added with the CLI) records competent-department users.
- A competent-department user adds organizing-unit accounts of its own department.
- Changing an account's ID number unbinds it from its platform subject; marking it 无效 or changing
  the ID number ends its open sessions at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from training_rp import idnumber, validation
from training_rp.crypto import IdNumberCipher
from training_rp.db import Database
from training_rp.errors import N_, Conflict, NotFound, PermissionDenied
from training_rp.models import MINISTRY_DEPARTMENT, ROLE_LABELS, Account, Role, RpSession

ID_TAKEN = N_("该身份证号已登记了账号。")
USERNAME_TAKEN = N_("该登录用户名已被使用。")
NOT_FOUND = N_("没有找到该账号。")
NOT_ALLOWED = N_("您没有权限进行此操作。")


@dataclass(frozen=True)
class PersonInput:
    """A recorded person (ministry administrator or competent-department user)."""

    name: str
    department: str
    #: None when editing keeps the stored number.
    id_number: str | None
    active: bool = True


@dataclass(frozen=True)
class UnitInput:
    """The form 组团单位信息."""

    unit_name: str
    username: str
    contact: str
    office_phone: str
    mobile: str
    fax: str
    email: str
    active: bool
    #: None when editing keeps the stored number.
    id_number: str | None


@dataclass(frozen=True)
class AccountView:
    """An account as pages and the CLI show it: the ID number only masked."""

    id: int
    role: Role
    name: str
    department: str
    unit_name: str | None
    username: str | None
    office_phone: str | None
    mobile: str | None
    fax: str | None
    email: str | None
    active: bool
    id_number_masked: str
    bound: bool
    last_login_at: datetime | None
    created_at: datetime

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]

    @property
    def unit_label(self) -> str:
        return self.unit_name or self.department


class AccountService:
    def __init__(self, db: Database, cipher: IdNumberCipher) -> None:
        self.db = db
        self.cipher = cipher

    # --- reading ------------------------------------------------------------------------------

    def get(self, account_id: int) -> AccountView | None:
        if not _storable_id(account_id):
            return None
        with self.db.transaction() as tx:
            account = tx.get(Account, account_id)
            return self.view_of(account) if account else None

    def list_all(self, role: Role | None = None) -> list[AccountView]:
        with self.db.transaction() as tx:
            query = select(Account).order_by(Account.role, Account.department, Account.id)
            if role is not None:
                query = query.where(Account.role == role.value)
            return [self.view_of(a) for a in tx.scalars(query)]

    def managed_by(self, actor: AccountView) -> list[AccountView]:
        """The accounts ``actor`` may see on the account pages."""
        with self.db.transaction() as tx:
            query = select(Account).order_by(Account.department, Account.unit_name, Account.id)
            if actor.role is Role.MINISTRY_ADMIN:
                query = query.where(
                    Account.role.in_([Role.DEPARTMENT_USER.value, Role.ORGANIZING_UNIT.value])
                )
            elif actor.role is Role.DEPARTMENT_USER:
                query = query.where(
                    Account.role == Role.ORGANIZING_UNIT.value, Account.department == actor.department
                )
            else:
                return []
            return [self.view_of(a) for a in tx.scalars(query)]

    def editable(self, actor: AccountView, account_id: int) -> AccountView:
        with self.db.transaction() as tx:
            return self.view_of(self._editable(tx, actor, account_id))

    # --- recording ----------------------------------------------------------------------------

    def add_ministry_admin(self, name: str, id_number: str) -> AccountView:
        data = PersonInput(name=name, department=MINISTRY_DEPARTMENT, id_number=id_number)
        return self._add_person(Role.MINISTRY_ADMIN, data, created_by=None)

    def add_department_user(self, actor: AccountView, data: PersonInput) -> AccountView:
        _require(actor, Role.MINISTRY_ADMIN)
        return self._add_person(Role.DEPARTMENT_USER, data, created_by=actor.id)

    def update_department_user(self, actor: AccountView, account_id: int, data: PersonInput) -> AccountView:
        _require(actor, Role.MINISTRY_ADMIN)
        name, department = validation.person_name(data.name), validation.department(data.department)
        number = validation.id_number(data.id_number) if data.id_number else None
        with self._unique_guard():
            with self.db.transaction() as tx:
                account = self._editable(tx, actor, account_id)
                account.name, account.department = name, department
                self._apply_status_and_number(tx, account, data.active, number)
                tx.flush()
                return self.view_of(account)

    def add_organizing_unit(self, actor: AccountView, data: UnitInput) -> AccountView:
        _require(actor, Role.DEPARTMENT_USER)
        clean = _clean_unit(data, id_required=True)
        number = validation.id_number(clean.id_number)
        with self._unique_guard():
            with self.db.transaction() as tx:
                self._check_username_free(tx, clean.username, None)
                account = Account(
                    role=Role.ORGANIZING_UNIT.value, department=actor.department, created_by_id=actor.id
                )
                _copy_unit(clean, account)
                self._seal_into(tx, account, number)
                tx.add(account)
                tx.flush()
                return self.view_of(account)

    def update_organizing_unit(self, actor: AccountView, account_id: int, data: UnitInput) -> AccountView:
        _require(actor, Role.DEPARTMENT_USER)
        clean = _clean_unit(data, id_required=False)
        with self._unique_guard():
            with self.db.transaction() as tx:
                account = self._editable(tx, actor, account_id)
                self._check_username_free(tx, clean.username, account.id)
                _copy_unit(clean, account)
                self._apply_status_and_number(tx, account, clean.active, clean.id_number)
                tx.flush()
                return self.view_of(account)

    def rekey(self) -> int:
        """Re-encrypt and re-index every ID number under the current key; returns how many changed."""
        changed = 0
        with self.db.transaction() as tx:
            for account in tx.scalars(
                select(Account).where(Account.id_number_key_id != self.cipher.current_key_id)
            ):
                sealed = self.cipher.seal(
                    self.cipher.open(account.id_number_key_id, account.id_number_ciphertext)
                )
                account.id_number_key_id, account.id_number_ciphertext = sealed.key_id, sealed.blob
                account.id_number_index = sealed.index
                changed += 1
        return changed

    # --- internals ----------------------------------------------------------------------------

    def _add_person(self, role: Role, data: PersonInput, created_by: int | None) -> AccountView:
        name, department = validation.person_name(data.name), validation.department(data.department)
        number = validation.id_number(data.id_number)
        with self._unique_guard():
            with self.db.transaction() as tx:
                account = Account(role=role.value, name=name, department=department, active=data.active)
                account.created_by_id = created_by
                self._seal_into(tx, account, number)
                tx.add(account)
                tx.flush()
                return self.view_of(account)

    def _apply_status_and_number(
        self, tx: Session, account: Account, active: bool, number: str | None
    ) -> None:
        end_sessions = account.active and not active
        account.active = active
        if number is not None and account.id_number_index not in self.cipher.candidate_indexes(number):
            self._seal_into(tx, account, number)
            # The binding belonged to the person with the old number.
            account.sub, account.bound_at = None, None
            end_sessions = True
        if end_sessions:
            tx.execute(delete(RpSession).where(RpSession.account_id == account.id))

    def _seal_into(self, tx: Session, account: Account, number: str) -> None:
        indexes = self.cipher.candidate_indexes(number)
        clash = tx.scalar(select(Account.id).where(Account.id_number_index.in_(indexes)))
        if clash is not None and clash != account.id:
            raise Conflict(ID_TAKEN, "id number already recorded", field="id_number")
        sealed = self.cipher.seal(number)
        account.id_number_key_id, account.id_number_ciphertext = sealed.key_id, sealed.blob
        account.id_number_index = sealed.index

    def _check_username_free(self, tx: Session, username: str, own_id: int | None) -> None:
        other = tx.scalar(select(Account.id).where(func.lower(Account.username) == username.lower()))
        if other is not None and other != own_id:
            raise Conflict(USERNAME_TAKEN, "username taken", field="username")

    def _editable(self, tx: Session, actor: AccountView, account_id: int) -> Account:
        account = tx.get(Account, account_id) if _storable_id(account_id) else None
        allowed = account is not None and (
            (actor.role is Role.MINISTRY_ADMIN and account.role == Role.DEPARTMENT_USER.value)
            or (
                actor.role is Role.DEPARTMENT_USER
                and account.role == Role.ORGANIZING_UNIT.value
                and account.department == actor.department
            )
        )
        if account is None or not allowed:
            # The same answer for "absent" and "not yours": ids of other departments stay unknown.
            raise NotFound(NOT_FOUND, f"account {account_id} not editable by {actor.id}")
        return account

    def _unique_guard(self) -> _UniqueGuard:
        return _UniqueGuard()

    def view_of(self, account: Account) -> AccountView:
        number = self.cipher.open(account.id_number_key_id, account.id_number_ciphertext)
        return AccountView(
            id=account.id,
            role=Role(account.role),
            name=account.name,
            department=account.department,
            unit_name=account.unit_name,
            username=account.username,
            office_phone=account.office_phone,
            mobile=account.mobile,
            fax=account.fax,
            email=account.email,
            active=account.active,
            id_number_masked=idnumber.mask(number),
            bound=account.sub is not None,
            last_login_at=account.last_login_at,
            created_at=account.created_at,
        )


class _UniqueGuard:
    """Turns a unique-constraint race (two requests recording the same number) into a Conflict."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if isinstance(exc, IntegrityError):
            message = str(exc.orig).lower()
            if "username" in message:
                raise Conflict(USERNAME_TAKEN, "username taken (race)", field="username") from exc
            raise Conflict(ID_TAKEN, "id number recorded concurrently", field="id_number") from exc


def _storable_id(account_id: int) -> bool:
    """Ids from URLs can be any size; beyond a 32-bit key no row exists (and drivers overflow)."""
    return 0 < account_id < 2**31


def _require(actor: AccountView, role: Role) -> None:
    if actor.role is not role or not actor.active:
        raise PermissionDenied(NOT_ALLOWED, f"account {actor.id} ({actor.role}) lacks role {role}")


def _clean_unit(data: UnitInput, id_required: bool) -> UnitInput:
    number = data.id_number
    return UnitInput(
        unit_name=validation.unit_name(data.unit_name),
        username=validation.username(data.username),
        contact=validation.person_name(data.contact, field="contact"),
        office_phone=validation.phone(data.office_phone, "office_phone", required=True) or "",
        mobile=validation.mobile(data.mobile),
        fax=validation.phone(data.fax, "fax", required=False) or "",
        email=validation.email(data.email),
        active=bool(data.active),
        id_number=validation.id_number(number) if (number or id_required) else None,
    )


def _copy_unit(clean: UnitInput, account: Account) -> None:
    account.unit_name, account.username, account.name = clean.unit_name, clean.username, clean.contact
    account.office_phone, account.mobile, account.fax = clean.office_phone, clean.mobile, clean.fax or None
    account.email, account.active = clean.email, clean.active
