"""Who may enter after a verified sign-in, as an ordered list of named steps.

1. ``realname``: the platform's real-name status must be ``verified`` or ``reviewed``.
2. ``bound``: an account already bound to this subject is the person's account.
3. ``id_number``: otherwise the ID number released under the ``idcard`` scope must be valid.
4. ``recorded``: a recorded, still unbound account with that number is bound to the subject now.
5. ``active``: an account marked 无效 cannot enter, bound or not.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from training_rp import idnumber
from training_rp.crypto import IdNumberCipher
from training_rp.db import Database, utcnow
from training_rp.models import Account
from training_rp.oidc.identity import VerifiedLogin
from training_rp.services.accounts import AccountService, AccountView

log = logging.getLogger(__name__)

ENTRY_STATUSES = ("verified", "reviewed")


class Outcome(StrEnum):
    SIGNED_IN = "signed_in"
    NOT_VERIFIED = "not_verified"
    PENDING_REVIEW = "pending_review"
    NO_ID_NUMBER = "no_id_number"
    NO_ACCOUNT = "no_account"
    BOUND_ELSEWHERE = "bound_elsewhere"
    INACTIVE = "inactive"


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    account: AccountView | None = None
    #: True when this sign-in bound the account to the subject.
    newly_bound: bool = False


class SignInService:
    def __init__(self, db: Database, cipher: IdNumberCipher) -> None:
        self.db = db
        self.cipher = cipher
        self.accounts = AccountService(db, cipher)

    def decide(self, login: VerifiedLogin) -> Decision:
        status = login.realname_status
        if status not in ENTRY_STATUSES:
            return Decision(Outcome.PENDING_REVIEW if status == "pending_review" else Outcome.NOT_VERIFIED)
        try:
            return self._by_subject_or_number(login)
        except IntegrityError:
            # Another sign-in of the same subject bound an account at the same moment; that one wins.
            log.warning("signin: concurrent binding for one subject")
            return Decision(Outcome.BOUND_ELSEWHERE)

    def _by_subject_or_number(self, login: VerifiedLogin) -> Decision:
        now = utcnow()
        with self.db.transaction() as tx:
            account = tx.scalar(select(Account).where(Account.sub == login.sub))
            if account is not None:
                if not account.active:
                    return Decision(Outcome.INACTIVE, self.accounts.view_of(account))
                account.last_login_at = now
                return Decision(Outcome.SIGNED_IN, self.accounts.view_of(account))

            number = idnumber.normalise(login.id_number or "")
            if idnumber.problem(number) is not None:
                return Decision(Outcome.NO_ID_NUMBER)
            indexes = self.cipher.candidate_indexes(number)
            account = tx.scalar(select(Account).where(Account.id_number_index.in_(indexes)))
            if account is None:
                return Decision(Outcome.NO_ACCOUNT)
            if account.sub is not None:
                return Decision(Outcome.BOUND_ELSEWHERE)
            if not account.active:
                return Decision(Outcome.INACTIVE, self.accounts.view_of(account))
            # Bind only if still unbound: of two racing first sign-ins, one binds, the other sees it.
            bound = tx.execute(
                update(Account)
                .where(Account.id == account.id, Account.sub.is_(None))
                .values(sub=login.sub, bound_at=now, last_login_at=now)
            ).rowcount  # type: ignore[attr-defined]
            if bound != 1:
                return Decision(Outcome.BOUND_ELSEWHERE)
            tx.refresh(account)
            return Decision(Outcome.SIGNED_IN, self.accounts.view_of(account), newly_bound=True)
