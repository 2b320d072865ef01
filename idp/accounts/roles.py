"""Platform roles of an account (``reviewer``...), changed by operators and audited."""

from __future__ import annotations

import re

from sqlalchemy import select

from idp.accounts.models import User, username_key
from idp.audit.services import record
from idp.db import Database
from idp.errors import InvalidInput, NotFound

ROLE_PATTERN = re.compile(r"[a-z_]{1,32}")


def grant_role(db: Database, username: str, role: str, actor: str, ip: str | None = None) -> None:
    if not ROLE_PATTERN.fullmatch(role):
        raise InvalidInput(f"invalid role name {role!r}")
    with db.transaction() as session:
        user = session.scalar(select(User).where(User.username_key == username_key(username)))
        if user is None:
            raise NotFound(f"no user {username!r}")
        if user.has_role(role):
            return
        user.roles = ",".join(sorted(user.role_set | {role}))
        record(
            session,
            event="account.role_granted",
            actor=actor,
            ip=ip,
            request_id=None,
            target=user.id,
            role=role,
        )
