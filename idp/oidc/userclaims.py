"""Builds every claim the IdP knows about a person; scopes then decide what is released."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from idp.accounts.models import User
from idp.config import Settings
from idp.db import Database
from idp.realname.identity import IdentityCodec
from idp.realname.models import PersonProfile, Verification, VerifiedIdentity
from idp.realname.status import RealnameStatus

#: OpenID Connect for Identity Assurance 1.0: which framework and evidence each path stands for.
TRUST_FRAMEWORKS = {
    "electronic_record": "cn_national_id_register",
    "document": "cn_manual_review",
}


class ClaimLoader:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.codec = IdentityCodec(settings)

    def __call__(self, user_id: str) -> dict[str, Any] | None:
        with self.db.transaction() as session:
            # One round trip for the person, their profile and their proof of identity.
            row = session.execute(
                select(User, PersonProfile, VerifiedIdentity)
                .outerjoin(PersonProfile, PersonProfile.user_id == User.id)
                .outerjoin(VerifiedIdentity, VerifiedIdentity.user_id == User.id)
                .where(User.id == user_id)
            ).first()
            if row is None or row[0].disabled:
                return None
            user, profile, proof = row
            process = None
            if proof is not None:
                process = session.scalar(
                    select(Verification.id)
                    .where(Verification.user_id == user_id, Verification.state.in_(("match", "approved")))
                    .order_by(Verification.id.desc())
                )
            return self.claims_of(user, profile, proof, process)

    def claims_of(
        self,
        user: User,
        profile: PersonProfile | None,
        proof: VerifiedIdentity | None,
        process: int | None,
    ) -> dict[str, Any]:
        birthdate = profile.birth_date.isoformat() if profile and profile.birth_date else None
        claims: dict[str, Any] = {
            "name": user.name,
            "preferred_username": user.username,
            "gender": profile.gender if profile else None,
            "birthdate": birthdate,
            "email": user.email,
            "email_verified": bool(user.email_verified) if user.email else None,
            "phone_number": user.phone_number,
            "phone_number_verified": bool(user.phone_number_verified) if user.phone_number else None,
            "updated_at": int(user.updated_at.timestamp()) if user.updated_at else None,
            "realname_status": user.realname_status,
        }
        if profile is not None and profile.address:
            claims["address"] = {"formatted": profile.address, "country": profile.country}
        status = RealnameStatus(user.realname_status)
        if status.proven and proof is not None:
            claims["verified_claims"] = {
                "verification": {
                    "trust_framework": TRUST_FRAMEWORKS.get(proof.evidence, proof.evidence),
                    "time": proof.verified_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "verification_process": f"realname-{process}" if process else "realname",
                    "evidence": [{"type": proof.evidence}],
                },
                "claims": {"name": user.name, "birthdate": birthdate},
            }
            if profile is not None and profile.id_number_enc:
                claims["id_number"] = self.codec.open_number(profile.id_number_enc)
                claims["id_document_type"] = profile.document_type
        return claims
