"""The legal-person sign-in tab accepts a unit's login name or its unified social credit code.

:func:`legal_login_name` turns what was typed into the one login name the attempt is about, before
any counter is touched, so that guessing through the code and through the login name share one
failure counter and one lock (SECURITY.md: throttled per account).
"""

from __future__ import annotations

from sqlalchemy import select

from idp.accounts.models import User
from idp.db import Database
from idp.orgs.creditcode import InvalidCreditCode, validate_credit_code
from idp.orgs.models import Unit


def legal_login_name(db: Database, typed: str) -> str:
    """The unit admin's login name when ``typed`` is a unit's credit code, else ``typed`` itself.

    A well-formed code of no unit becomes its normalised form, which is no legal account's login
    name (see :mod:`idp.orgs.services`), so the attempt fails like any unknown name and is
    counted under that code.
    """
    try:
        code = validate_credit_code(typed).code
    except InvalidCreditCode:
        return typed
    with db.transaction() as session:
        login = session.scalar(
            select(User.username).join(Unit, Unit.admin_user_id == User.id).where(Unit.credit_code == code)
        )
    return login if login is not None else code
