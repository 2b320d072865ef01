"""我的信息: reading and saving a person's profile, and the automatic real-name check it triggers.

Rules (DESIGN.md identity model, SECURITY.md real-name verification):
* the document number is validated before any call out, and the source is asked at most
  ``ATTEMPTS_PER_DAY`` times per account and ``ATTEMPTS_PER_IP`` times per client IP a day;
* a source that is down, slow or talks nonsense leaves the status unchanged;
* once ``verified`` or ``reviewed``, identity fields are read-only;
* one verified account per identity document (``VerifiedIdentity`` primary key).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from idp.accounts.models import User
from idp.audit.services import record
from idp.db import Database, utcnow
from idp.errors import InvalidInput, NotFound, PermissionDenied, VerificationUnavailable
from idp.realname.identity import IdentityCodec
from idp.realname.idnumber import validate_document
from idp.realname.masking import mask_id_number
from idp.realname.models import PersonProfile, Verification, VerifiedIdentity
from idp.realname.reference import (
    DocumentType,
    Gender,
    RegionType,
    continent,
    country,
    documents_for,
    ethnicity,
)
from idp.realname.source import VerificationResult
from idp.realname.status import RealnameStatus, transition
from idp.store import EphemeralStore, flow_key

ATTEMPTS_PER_DAY = 5
ATTEMPTS_PER_IP = 20
DAY = 86400
IDENTITY_FIELDS = ("name", "gender", "birth_date", "region_type", "document_type", "id_number")
MAX_TEXT = {"name": 50, "position": 100, "landline": 32, "address": 300}


class Source(Protocol):
    def verify(self, name: str, id_number: str, birth_date: date) -> VerificationResult: ...


@dataclass(frozen=True)
class Actor:
    user_id: str
    ip: str | None = None
    request_id: str | None = None


@dataclass
class ProfileInput:
    """Raw form values; the service validates every one."""

    name: str = ""
    gender: str = ""
    ethnicity: str = ""
    position: str = ""
    birth_date: str = ""
    landline: str = ""
    region_type: str = ""
    document_type: str = ""
    id_number: str = ""
    id_valid_from: str = ""
    id_valid_to: str = ""
    continent: str = ""
    country: str = ""
    address: str = ""
    #: A blank ``id_number`` keeps the stored one instead of clearing it, so that forms never need
    #: to show the full number (SECURITY.md: masked wherever shown).
    keep_id_number: bool = False


@dataclass
class SaveOutcome:
    status: RealnameStatus
    #: Public message for the page (Chinese, with English).
    message: str
    problems: dict[str, str] = field(default_factory=dict)


def _date(value: str, label: str) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"{label}格式应为 YYYY-MM-DD。 {label}: use YYYY-MM-DD.") from None


def _text(value: str, name: str) -> str | None:
    text = value.strip()
    if not text:
        return None
    if len(text) > MAX_TEXT.get(name, 100) or any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise InvalidInput(f"{name} 过长或含有非法字符。 {name} is too long or has invalid characters.")
    return text


class ProfileService:
    def __init__(self, db: Database, store: EphemeralStore, codec: IdentityCodec, source: Source) -> None:
        self.db = db
        self.store = store
        self.codec = codec
        self.source = source

    def load(self, user_id: str) -> tuple[User, PersonProfile]:
        with self.db.transaction() as session:
            user = session.get(User, user_id)
            if user is None:
                raise NotFound("账号不存在。 No such account.")
            profile = session.get(PersonProfile, user_id) or PersonProfile(user_id=user_id)
            return user, profile

    def masked_id_number(self, profile: PersonProfile) -> str | None:
        return self.codec.masked(profile.id_number_enc)

    def save(self, actor: Actor, data: ProfileInput) -> SaveOutcome:
        """Validate and store the profile, then run the automatic check when it can run."""
        if data.keep_id_number and not data.id_number.strip():
            data = replace(data, id_number=self._stored_number(actor.user_id) or "")
        clean = self._validate(data)
        with self.db.transaction() as session:
            user = session.get(User, actor.user_id)
            if user is None:
                raise NotFound("账号不存在。 No such account.")
            profile = session.get(PersonProfile, actor.user_id)
            if profile is None:
                profile = PersonProfile(user_id=actor.user_id)
                session.add(profile)
            status = RealnameStatus(user.realname_status)
            old_number = self.codec.open_number(profile.id_number_enc)
            identity_changed = (
                (user.name or "") != (clean["name"] or "")
                or profile.gender != clean["gender"]
                or profile.birth_date != clean["birth_date"]
                or profile.region_type != clean["region_type"]
                or profile.document_type != clean["document_type"]
                or old_number != clean["id_number"]
            )
            if status.proven and identity_changed:
                raise PermissionDenied(
                    "实名认证已通过,身份信息不可修改。 Identity fields are read-only once verified."
                )
            self._apply(user, profile, clean)
            if status is RealnameStatus.PENDING_REVIEW and identity_changed:
                self._discard_review(session, actor, user)
                status = RealnameStatus(user.realname_status)
            record(
                session,
                event="profile.saved",
                actor=actor.user_id,
                ip=actor.ip,
                request_id=actor.request_id,
                target=actor.user_id,
                identity_changed=identity_changed,
            )
        if status.proven or status is RealnameStatus.PENDING_REVIEW:
            return SaveOutcome(status, "保存成功。 Saved.")
        return self._automatic_check(actor, clean)

    def _stored_number(self, user_id: str) -> str | None:
        with self.db.transaction() as session:
            profile = session.get(PersonProfile, user_id)
            return self.codec.open_number(profile.id_number_enc) if profile else None

    def _validate(self, data: ProfileInput) -> dict[str, object]:
        problems: dict[str, str] = {}
        clean: dict[str, object] = {}
        for name in ("name", "position", "landline", "address"):
            try:
                clean[name] = _text(getattr(data, name), name)
            except InvalidInput as exc:
                problems[name] = exc.public
        checks = {
            "gender": (data.gender, {g.value for g in Gender}),
            "region_type": (data.region_type, {r.value for r in RegionType}),
            "document_type": (data.document_type, {d.value for d in DocumentType}),
        }
        for name, (value, allowed) in checks.items():
            if value and value not in allowed:
                problems[name] = "请从列表中选择。 Choose from the list."
            clean[name] = value or None
        clean["ethnicity"] = data.ethnicity if data.ethnicity and ethnicity(data.ethnicity) else None
        if data.ethnicity and clean["ethnicity"] is None:
            problems["ethnicity"] = "请从列表中选择。 Choose from the list."
        clean["continent"] = data.continent if data.continent and continent(data.continent) else None
        clean["country"] = data.country if data.country and country(data.country) else None
        for name in ("continent", "country"):
            if getattr(data, name) and clean[name] is None:
                problems[name] = "请从列表中选择。 Choose from the list."
        self._check_combinations(clean, problems)
        for name, label in (
            ("birth_date", "出生日期"),
            ("id_valid_from", "有效期起"),
            ("id_valid_to", "有效期止"),
        ):
            try:
                clean[name] = _date(getattr(data, name), label)
            except InvalidInput as exc:
                problems[name] = exc.public
        clean["id_number"] = None
        if data.id_number.strip():
            if not data.document_type:
                problems["document_type"] = "请选择证件类型。 Choose the document type."
            elif "document_type" not in problems:
                try:
                    birth = clean.get("birth_date")
                    clean["id_number"] = validate_document(
                        DocumentType(data.document_type),
                        data.id_number,
                        birth if isinstance(birth, date) else None,
                    )
                except InvalidInput as exc:
                    problems["id_number"] = exc.public
        if problems:
            raise ProfileInvalid(problems)
        return clean

    @staticmethod
    def _check_combinations(clean: dict[str, object], problems: dict[str, str]) -> None:
        """Choices that are each valid but do not fit together (forms may offer every option
        when scripts are off, so the server decides)."""
        region, document = clean["region_type"], clean["document_type"]
        if (
            isinstance(region, str)
            and isinstance(document, str)
            and not {"region_type", "document_type"} & problems.keys()
            and DocumentType(document) not in documents_for(RegionType(region))
        ):
            problems["document_type"] = (
                "该证件类型与所选类型不符。 This document type does not fit the chosen region type."
            )
        place, nation = clean["continent"], clean["country"]
        found = country(nation) if isinstance(nation, str) else None
        if isinstance(place, str) and found is not None and found.continent != place:
            problems["country"] = "所属国家不在所选大洲。 The country is not on the chosen continent."

    def _apply(self, user: User, profile: PersonProfile, clean: dict[str, object]) -> None:
        user.name = clean["name"]  # type: ignore[assignment]
        for name in (
            "gender",
            "ethnicity",
            "position",
            "birth_date",
            "landline",
            "region_type",
            "document_type",
            "id_valid_from",
            "id_valid_to",
            "continent",
            "country",
            "address",
        ):
            setattr(profile, name, clean[name])
        number = clean["id_number"]
        if isinstance(number, str):
            profile.id_number_enc, profile.id_number_index = self.codec.seal_number(number)
        else:
            profile.id_number_enc = profile.id_number_index = None

    def _discard_review(self, session: Session, actor: Actor, user: User) -> None:
        pending = session.scalars(
            select(Verification).where(
                Verification.user_id == user.id,
                Verification.kind == "review",
                Verification.state.in_(("draft", "pending")),
            )
        ).all()
        for request in pending:
            request.state = "discarded"
            request.decided_at = utcnow()
        user.realname_status = transition(user.realname_status, RealnameStatus.FAILED).value
        record(
            session,
            event="realname.review_discarded",
            actor=actor.user_id,
            ip=actor.ip,
            request_id=actor.request_id,
            target=user.id,
        )

    def _automatic_check(self, actor: Actor, clean: dict[str, object]) -> SaveOutcome:
        name, number, birth = clean["name"], clean["id_number"], clean["birth_date"]
        if not (isinstance(name, str) and isinstance(number, str) and isinstance(birth, date)):
            return SaveOutcome(
                RealnameStatus.UNVERIFIED,
                "保存成功。请填写完整的必填信息以进行实名认证。 "
                "Saved. Fill in every required field to verify your real name.",
            )
        if clean["document_type"] != DocumentType.RESIDENT_ID.value:
            # Only resident ID numbers can be checked against the national source automatically.
            return self._record_automatic(actor, "unsupported", None, RealnameStatus.FAILED, number)
        self._count_attempt(actor)
        try:
            result = self.source.verify(name, number, birth)
        except VerificationUnavailable:
            with self.db.transaction() as session:
                record(
                    session,
                    event="realname.source_unavailable",
                    actor=actor.user_id,
                    ip=actor.ip,
                    request_id=actor.request_id,
                    target=actor.user_id,
                )
            raise
        if not result.matched:
            return self._record_automatic(
                actor, result.reason.value, result.reference, RealnameStatus.FAILED, number
            )
        return self._record_automatic(actor, "match", result.reference, RealnameStatus.VERIFIED, number)

    def _count_attempt(self, actor: Actor) -> None:
        per_user = self.store.incr(flow_key("rn-attempts", actor.user_id), DAY)
        per_ip = self.store.incr(flow_key("rn-attempts-ip", actor.ip or "-"), DAY) if actor.ip else 0
        if per_user > ATTEMPTS_PER_DAY or per_ip > ATTEMPTS_PER_IP:
            raise InvalidInput(
                "今日实名核验次数已达上限,请明天再试或上传证件照片进行人工审核。 "
                "Too many verification attempts today; try tomorrow or upload your ID photos.",
                "verification attempts over the daily limit",
            )

    def _record_automatic(
        self, actor: Actor, outcome: str, reference: str | None, target: RealnameStatus, number: str
    ) -> SaveOutcome:
        message = {
            "match": "实名认证成功:国家平台实名认证通过。 Verified against the national platform.",
            "unsupported": "该证件类型需上传证件照片进行人工审核。 This document type needs a manual review.",
        }.get(
            outcome,
            "实名认证未通过。如信息无误,请上传本人签名的身份证照片申请人工审核。 Verification "
            "failed; if your data are right, upload signed ID photos for a manual review.",
        )
        try:
            with self.db.transaction() as session:
                user = session.get(User, actor.user_id)
                if user is None:
                    raise NotFound("账号不存在。 No such account.")
                if target is RealnameStatus.VERIFIED:
                    index = self.codec.index.compute(number, "person.id_number")
                    session.add(
                        VerifiedIdentity(id_number_index=index, user_id=user.id, evidence="electronic_record")
                    )
                    session.flush()
                user.realname_status = transition(user.realname_status, target).value
                session.add(
                    Verification(
                        user_id=user.id,
                        kind="automatic",
                        state=outcome,
                        decided_at=utcnow(),
                        source_reference=reference,
                        snapshot_json=json.dumps({"id_number": mask_id_number(number)}),
                    )
                )
                record(
                    session,
                    event="realname.automatic",
                    actor=actor.user_id,
                    ip=actor.ip,
                    request_id=actor.request_id,
                    target=user.id,
                    outcome=outcome,
                )
        except IntegrityError:
            return self._duplicate(actor, number, reference)
        return SaveOutcome(target, message)

    def _duplicate(self, actor: Actor, number: str, reference: str | None) -> SaveOutcome:
        with self.db.transaction() as session:
            user = session.get(User, actor.user_id)
            if user is None:
                raise NotFound("账号不存在。 No such account.")
            user.realname_status = transition(user.realname_status, RealnameStatus.FAILED).value
            session.add(
                Verification(
                    user_id=user.id,
                    kind="automatic",
                    state="duplicate",
                    decided_at=utcnow(),
                    source_reference=reference,
                    snapshot_json=json.dumps({"id_number": mask_id_number(number)}),
                )
            )
            record(
                session,
                event="realname.duplicate",
                actor=actor.user_id,
                ip=actor.ip,
                request_id=actor.request_id,
                target=user.id,
            )
        return SaveOutcome(
            RealnameStatus.FAILED,
            "该证件号码已在其他账号完成实名认证,请上传证件照片申请人工审核。 "
            "This ID number is already verified on another account; upload your ID photos "
            "for a manual review.",
        )


class ProfileInvalid(InvalidInput):
    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__(
            "请更正标出的项目。 Please correct the marked fields.", f"invalid: {sorted(problems)}"
        )
        self.problems = problems


__all__ = ["Actor", "ProfileInput", "ProfileInvalid", "ProfileService", "SaveOutcome"]
