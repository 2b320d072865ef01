"""Setting a person's real-name status directly: for the demo and end-to-end tests only.

It bypasses the national source and the review, so it is refused in production mode.
"""

from __future__ import annotations

from sqlalchemy import delete, select

from idp.accounts.models import User, username_key
from idp.config import Settings
from idp.db import Database
from idp.errors import NotFound, PermissionDenied
from idp.realname.identity import IdentityCodec
from idp.realname.idnumber import validate_resident_id
from idp.realname.models import PersonProfile, VerifiedIdentity
from idp.realname.reference import DocumentType, RegionType
from idp.realname.status import RealnameStatus


def force_status(
    db: Database,
    settings: Settings,
    username: str,
    status: RealnameStatus,
    id_number: str | None,
    name: str | None,
) -> None:
    if settings.production:
        raise PermissionDenied("set-realname is refused in production", "demo-only command in production")
    codec = IdentityCodec(settings)
    parsed = validate_resident_id(id_number) if id_number else None
    with db.transaction() as session:
        user = session.scalar(select(User).where(User.username_key == username_key(username)))
        if user is None:
            raise NotFound(f"no user {username!r}")
        if name:
            user.name = name
        profile = session.get(PersonProfile, user.id)
        if profile is None:
            profile = PersonProfile(user_id=user.id)
            session.add(profile)
        if parsed is not None:
            profile.region_type = RegionType.MAINLAND.value
            profile.document_type = DocumentType.RESIDENT_ID.value
            profile.birth_date = parsed.birth_date
            profile.gender = parsed.gender.value
            profile.id_number_enc, profile.id_number_index = codec.seal_number(parsed.number)
        session.execute(delete(VerifiedIdentity).where(VerifiedIdentity.user_id == user.id))
        if status.proven and profile.id_number_index:
            evidence = "electronic_record" if status is RealnameStatus.VERIFIED else "document"
            session.flush()
            session.add(
                VerifiedIdentity(id_number_index=profile.id_number_index, user_id=user.id, evidence=evidence)
            )
        user.realname_status = status.value
