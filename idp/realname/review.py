"""Manual review: signed ID photos uploaded after a failed check, and the reviewer's decision.

Reviewers act only through the ``reviewer`` role and never on their own account; every decision
and every view of a document image goes into the audit log with who, when and which evidence.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from idp.accounts.models import User
from idp.audit.services import record
from idp.db import Database, utcnow
from idp.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from idp.realname.identity import IdentityCodec
from idp.realname.masking import mask_id_number
from idp.realname.models import DocumentImage, PersonProfile, Verification, VerifiedIdentity
from idp.realname.services import Actor
from idp.realname.status import RealnameStatus, transition
from idp.realname.uploads import sanitize_id_photo

SIDES = ("front", "back")
REVIEWER_ROLE = "reviewer"
MAX_REASON = 500


@dataclass(frozen=True)
class ReviewItem:
    verification_id: int
    user_id: str
    username: str
    name: str | None
    submitted_at: datetime | None
    masked_id_number: str | None
    birth_date: str | None
    document_type: str | None
    duplicate: bool
    document_ids: dict[str, str]
    #: ``pending``, or the decision taken (``approved`` / ``rejected``) and its reason.
    state: str = "pending"
    reason: str | None = None


class ReviewService:
    def __init__(self, db: Database, codec: IdentityCodec) -> None:
        self.db = db
        self.codec = codec

    # ---- the person's side --------------------------------------------------------------
    def _draft(self, session: Session, user_id: str, create: bool) -> Verification | None:
        draft = session.scalar(
            select(Verification).where(
                Verification.user_id == user_id, Verification.kind == "review", Verification.state == "draft"
            )
        )
        if draft is None and create:
            draft = Verification(user_id=user_id, kind="review", state="draft")
            session.add(draft)
            session.flush()
        return draft

    def current_documents(self, user_id: str) -> dict[str, str]:
        """side -> document id of the open (draft or pending) request, for previews."""
        with self.db.transaction() as session:
            request = session.scalar(
                select(Verification)
                .where(
                    Verification.user_id == user_id,
                    Verification.kind == "review",
                    Verification.state.in_(("draft", "pending", "approved")),
                )
                .order_by(Verification.id.desc())
            )
            if request is None:
                return {}
            rows = session.scalars(select(DocumentImage).where(DocumentImage.verification_id == request.id))
            return {row.side: row.id for row in rows}

    def upload(self, actor: Actor, side: str, data: bytes) -> str:
        if side not in SIDES:
            raise InvalidInput("请选择正面或反面。 Choose front or back.")
        image = sanitize_id_photo(data)  # refuses non-images, oversize and bombs before anything is stored
        with self.db.transaction() as session:
            user = session.get(User, actor.user_id)
            if user is None:
                raise NotFound("账号不存在。 No such account.")
            if user.realname_status != RealnameStatus.FAILED.value:
                raise Conflict(
                    "当前状态下不能上传证件照片。 Uploads are only possible after a failed check.",
                    f"upload in status {user.realname_status}",
                )
            draft = self._draft(session, user.id, create=True)
            if draft is None:
                raise NotFound("审核申请不存在。 No such review request.")
            for old in session.scalars(
                select(DocumentImage).where(
                    DocumentImage.verification_id == draft.id, DocumentImage.side == side
                )
            ):
                session.delete(old)
            doc_id = secrets.token_hex(16)
            session.add(
                DocumentImage(
                    id=doc_id,
                    verification_id=draft.id,
                    side=side,
                    content_enc=self.codec.seal_photo(image.data),
                    content_type=image.content_type,
                    width=image.width,
                    height=image.height,
                    sha256=image.sha256,
                )
            )
            record(
                session,
                event="realname.document_uploaded",
                actor=actor.user_id,
                ip=actor.ip,
                request_id=actor.request_id,
                target=user.id,
                side=side,
                sha256=image.sha256,
            )
            return doc_id

    def submit(self, actor: Actor) -> None:
        with self.db.transaction() as session:
            user = session.get(User, actor.user_id)
            if user is None:
                raise NotFound("账号不存在。 No such account.")
            draft = self._draft(session, user.id, create=False)
            sides = (
                set()
                if draft is None
                else set(
                    session.scalars(
                        select(DocumentImage.side).where(DocumentImage.verification_id == draft.id)
                    )
                )
            )
            if draft is None or sides != set(SIDES):
                raise InvalidInput(
                    "请上传身份证正面和反面照片后再提交。 Upload both sides before submitting."
                )
            user.realname_status = transition(user.realname_status, RealnameStatus.PENDING_REVIEW).value
            profile = session.get(PersonProfile, user.id)
            draft.state = "pending"
            draft.submitted_at = utcnow()
            draft.snapshot_json = json.dumps(self._snapshot(user, profile), ensure_ascii=False)
            record(
                session,
                event="realname.review_submitted",
                actor=actor.user_id,
                ip=actor.ip,
                request_id=actor.request_id,
                target=user.id,
                verification=draft.id,
            )

    def _snapshot(self, user: User, profile: PersonProfile | None) -> dict[str, str | None]:
        number = self.codec.open_number(profile.id_number_enc) if profile else None
        return {
            "name": user.name,
            "id_number": mask_id_number(number) if number else None,
            "birth_date": profile.birth_date.isoformat() if profile and profile.birth_date else None,
            "document_type": profile.document_type if profile else None,
        }

    def last_decision(self, user_id: str) -> Verification | None:
        with self.db.transaction() as session:
            return session.scalar(
                select(Verification)
                .where(
                    Verification.user_id == user_id,
                    Verification.kind == "review",
                    Verification.state.in_(("approved", "rejected")),
                )
                .order_by(Verification.id.desc())
            )

    # ---- the reviewer's side ------------------------------------------------------------
    def _reviewer(self, session: Session, actor: Actor) -> User:
        reviewer = session.get(User, actor.user_id)
        if reviewer is None or reviewer.disabled or not reviewer.has_role(REVIEWER_ROLE):
            raise PermissionDenied("需要审核员权限。 Reviewer role required.", "not a reviewer")
        return reviewer

    def queue(self, actor: Actor) -> list[ReviewItem]:
        """Pending requests, oldest first."""
        with self.db.transaction() as session:
            self._reviewer(session, actor)
            pending = session.scalars(
                select(Verification)
                .where(Verification.kind == "review", Verification.state == "pending")
                .order_by(Verification.submitted_at, Verification.id)
            ).all()
            return [self._item(session, v) for v in pending]

    def item(self, actor: Actor, verification_id: int) -> ReviewItem:
        with self.db.transaction() as session:
            self._reviewer(session, actor)
            request = session.get(Verification, verification_id)
            if request is None or request.kind != "review":
                raise NotFound("审核申请不存在。 No such review request.")
            record(
                session,
                event="realname.review_viewed",
                actor=actor.user_id,
                ip=actor.ip,
                request_id=actor.request_id,
                target=request.user_id,
                verification=request.id,
            )
            return self._item(session, request)

    def _item(self, session: Session, request: Verification) -> ReviewItem:
        user = session.get(User, request.user_id)
        if user is None:
            raise NotFound("账号不存在。 No such account.")
        profile = session.get(PersonProfile, user.id)
        snapshot = json.loads(request.snapshot_json or "{}")
        duplicate = False
        if profile is not None and profile.id_number_index:
            owner = session.scalar(
                select(VerifiedIdentity.user_id).where(
                    VerifiedIdentity.id_number_index == profile.id_number_index
                )
            )
            duplicate = owner is not None and owner != user.id
        docs = {
            d.side: d.id
            for d in session.scalars(select(DocumentImage).where(DocumentImage.verification_id == request.id))
        }
        return ReviewItem(
            request.id,
            user.id,
            user.username,
            snapshot.get("name"),
            request.submitted_at,
            snapshot.get("id_number"),
            snapshot.get("birth_date"),
            snapshot.get("document_type"),
            duplicate,
            docs,
            request.state,
            request.reason,
        )

    def image(self, actor: Actor, document_id: str) -> tuple[bytes, str]:
        """A document photo: its owner may preview it; a reviewer's every view is audited."""
        with self.db.transaction() as session:
            doc = session.get(DocumentImage, document_id) if len(document_id) == 32 else None
            if doc is None:
                raise NotFound("文件不存在。 No such file.")
            request = session.get(Verification, doc.verification_id)
            if request is None:
                raise NotFound("文件不存在。 No such file.")
            if request.user_id != actor.user_id:
                self._reviewer(session, actor)
                record(
                    session,
                    event="realname.document_viewed",
                    actor=actor.user_id,
                    ip=actor.ip,
                    request_id=actor.request_id,
                    target=request.user_id,
                    document=doc.id,
                    side=doc.side,
                )
            return self.codec.open_photo(doc.content_enc), doc.content_type

    def decide(self, actor: Actor, verification_id: int, approve: bool, reason: str = "") -> None:
        reason = reason.strip()
        if not approve and not reason:
            raise InvalidInput("驳回时请填写原因。 Give a reason when rejecting.")
        if len(reason) > MAX_REASON or any(ord(c) < 32 and c not in "\n" for c in reason):
            raise InvalidInput("原因过长或含有非法字符。 The reason is too long or has invalid characters.")
        try:
            with self.db.transaction() as session:
                self._reviewer(session, actor)
                request = session.get(Verification, verification_id, with_for_update=True)
                if request is None or request.kind != "review":
                    raise NotFound("审核申请不存在。 No such review request.")
                if request.user_id == actor.user_id:
                    raise PermissionDenied("不能审核本人的申请。 You cannot review your own request.")
                if request.state != "pending":
                    raise Conflict("该申请已处理。 This request was already decided.")
                user = session.get(User, request.user_id)
                if user is None:
                    raise NotFound("账号不存在。 No such account.")
                if approve:
                    profile = session.get(PersonProfile, user.id)
                    if profile is None or not profile.id_number_index:
                        raise Conflict("申请人没有证件号码。 The applicant has no document number.")
                    session.add(
                        VerifiedIdentity(
                            id_number_index=profile.id_number_index, user_id=user.id, evidence="document"
                        )
                    )
                    session.flush()
                target = RealnameStatus.REVIEWED if approve else RealnameStatus.FAILED
                user.realname_status = transition(user.realname_status, target).value
                request.state = "approved" if approve else "rejected"
                request.reason = reason or None
                request.decided_at = utcnow()
                request.reviewer_id = actor.user_id
                record(
                    session,
                    event="realname.review_decided",
                    actor=actor.user_id,
                    ip=actor.ip,
                    request_id=actor.request_id,
                    target=user.id,
                    verification=request.id,
                    decision=request.state,
                    reason=reason[:200],
                )
        except IntegrityError:
            raise Conflict(
                "该证件号码已在其他账号完成实名认证,不能批准。 This ID number is verified on another "
                "account; the request cannot be approved."
            ) from None
