"""Erasure of a natural person's data (PIPL art. 47): account, profile, ID photos, grants, tokens.

Rows that belong to the person go with the account (foreign keys cascade); issued tokens are
revoked first, then their families and consents are deleted. The audit log is append-only and keeps
only opaque ids and masked values, so it stays as the record that the deletion happened.
"""

from __future__ import annotations

from sqlalchemy import delete, select, update

from idp.accounts.models import AccountType, User, username_key
from idp.audit.services import record
from idp.db import Database, utcnow
from idp.errors import Conflict, NotFound
from idp.oidc.models import Consent, TokenFamily
from idp.store import EphemeralStore, flow_key


def delete_person(db: Database, store: EphemeralStore, username: str, actor: str) -> str:
    """Delete the natural person ``username``; returns the removed subject id. One transaction."""
    with db.transaction() as session:
        user = session.scalar(select(User).where(User.username_key == username_key(username)))
        if user is None:
            raise NotFound(f"no user {username!r}")
        if user.account_type != AccountType.NATURAL.value:
            raise Conflict("a unit's account is removed with its unit, not on its own")
        user_id = user.id
        families = list(session.scalars(select(TokenFamily.id).where(TokenFamily.user_id == user_id)))
        session.execute(
            update(TokenFamily)
            .where(TokenFamily.user_id == user_id, TokenFamily.revoked_at.is_(None))
            .values(revoked_at=utcnow(), revoke_reason="account_deleted")
        )
        session.execute(delete(TokenFamily).where(TokenFamily.user_id == user_id))
        session.execute(delete(Consent).where(Consent.user_id == user_id))
        session.delete(user)
        record(session, event="account.deleted", actor=actor, ip=None, request_id=None, target=user_id)
    # Access tokens already out are refused from now on, as for any revoked family.
    for family_id in families:
        store.put(flow_key("revoked-family", family_id), "1", 3600 * 24)
    return user_id
