"""The real-name story at the service level: automatic check, failure, upload, review, claims."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from idp.accounts.services import AccountService
from idp.audit.models import AuditEvent
from idp.config import load_settings
from idp.db import Database
from idp.errors import Conflict, InvalidInput, NotFound, PermissionDenied, VerificationUnavailable
from idp.oidc.claims import release
from idp.oidc.userclaims import ClaimLoader
from idp.realname.identity import IdentityCodec
from idp.realname.models import PersonProfile
from idp.realname.review import ReviewService
from idp.realname.services import ProfileInvalid, ProfileService
from idp.realname.source import NationalSourceClient
from idp.realname.status import RealnameStatus
from idp.realname.uploads import UploadRejected
from tests.integration.realname.conftest import actor, photo, profile_of

PASSWORD = "Corr3ct-Horse-Battery"


def _user(accounts: AccountService, name: str = "wangwu", roles: tuple[str, ...] = ()) -> str:
    return accounts.create_user(name, PASSWORD, roles=roles).id


def _claims(database: Database, user_id: str, scope: str, allow_idcard: bool = False) -> dict[str, Any]:
    loaded = ClaimLoader(database, load_settings(environ={}))(user_id)
    assert loaded is not None
    return release(loaded, scope, allow_idcard)


def test_matching_profile_is_verified_and_tokens_say_so(
    profiles: ProfileService,
    accounts: AccountService,
    database: Database,
    demo_person: Any,
    codec: IdentityCodec,
) -> None:
    uid = _user(accounts)
    outcome = profiles.save(actor(uid), profile_of(demo_person))
    assert outcome.status is RealnameStatus.VERIFIED
    user, profile = profiles.load(uid)
    assert user.realname_status == "verified"
    # Encrypted at rest: the stored value is not the number, and masking keeps 4 + 4.
    assert demo_person.id_number not in (profile.id_number_enc or "")
    assert (
        profiles.masked_id_number(profile)
        == demo_person.id_number[:4] + "*" * 10 + demo_person.id_number[-4:]
    )
    claims = _claims(database, uid, "openid realname")
    assert claims["realname_status"] == "verified"
    verification = claims["verified_claims"]["verification"]
    assert verification["trust_framework"] == "cn_national_id_register"
    assert verification["evidence"] == [{"type": "electronic_record"}]
    assert claims["verified_claims"]["claims"] == {
        "name": demo_person.name,
        "birthdate": demo_person.birth_date,
    }
    assert "id_number" not in claims
    assert _claims(database, uid, "openid realname idcard", allow_idcard=False).get("id_number") is None
    assert _claims(database, uid, "openid idcard", allow_idcard=True)["id_number"] == demo_person.id_number


def test_identity_fields_are_read_only_once_verified(
    profiles: ProfileService, accounts: AccountService, demo_person: Any
) -> None:
    uid = _user(accounts)
    profiles.save(actor(uid), profile_of(demo_person))
    with pytest.raises(PermissionDenied):
        profiles.save(actor(uid), profile_of(demo_person, name="李四"))
    # Non-identity fields stay editable.
    assert (
        profiles.save(actor(uid), profile_of(demo_person, address="上海市")).status is RealnameStatus.VERIFIED
    )


def test_mismatch_fails_then_review_approves(
    profiles: ProfileService,
    reviews: ReviewService,
    accounts: AccountService,
    database: Database,
    demo_person: Any,
) -> None:
    uid = _user(accounts)
    reviewer = _user(accounts, "checker", roles=("reviewer",))
    outcome = profiles.save(actor(uid), profile_of(demo_person, name="张伟伟"))
    assert outcome.status is RealnameStatus.FAILED
    assert _claims(database, uid, "openid realname") == {"realname_status": "failed"}
    with pytest.raises(InvalidInput):
        reviews.submit(actor(uid))  # nothing uploaded yet
    reviews.upload(actor(uid), "front", photo("white"))
    reviews.upload(actor(uid), "back", photo("gray", "PNG"))
    reviews.submit(actor(uid))
    assert profiles.load(uid)[0].realname_status == "pending_review"
    queue = reviews.queue(actor(reviewer))
    assert [item.user_id for item in queue] == [uid]
    assert set(queue[0].document_ids) == {"front", "back"}
    assert queue[0].masked_id_number and "*" in queue[0].masked_id_number
    data, content_type = reviews.image(actor(reviewer), queue[0].document_ids["front"])
    assert content_type == "image/jpeg" and data[:2] == b"\xff\xd8"
    reviews.decide(actor(reviewer), queue[0].verification_id, approve=True)
    assert profiles.load(uid)[0].realname_status == "reviewed"
    claims = _claims(database, uid, "openid realname")
    assert claims["verified_claims"]["verification"]["evidence"] == [{"type": "document"}]
    with database.transaction() as session:
        events = [e.event for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
        details = " ".join(e.details for e in session.scalars(select(AuditEvent)))
    assert "realname.document_viewed" in events and "realname.review_decided" in events
    assert demo_person.id_number not in details


def test_reject_gives_the_reason_and_allows_a_new_attempt(
    profiles: ProfileService, reviews: ReviewService, accounts: AccountService, demo_person: Any
) -> None:
    uid = _user(accounts)
    reviewer = _user(accounts, "checker", roles=("reviewer",))
    profiles.save(actor(uid), profile_of(demo_person, name="张伟伟"))
    reviews.upload(actor(uid), "front", photo())
    reviews.upload(actor(uid), "back", photo())
    reviews.submit(actor(uid))
    request_id = reviews.queue(actor(reviewer))[0].verification_id
    with pytest.raises(InvalidInput):
        reviews.decide(actor(reviewer), request_id, approve=False, reason="")
    reviews.decide(actor(reviewer), request_id, approve=False, reason="照片未签名")
    assert profiles.load(uid)[0].realname_status == "failed"
    decision = reviews.last_decision(uid)
    assert decision is not None and decision.reason == "照片未签名"
    with pytest.raises(Conflict):
        reviews.decide(actor(reviewer), request_id, approve=True)


def test_reviewer_rules(
    profiles: ProfileService, reviews: ReviewService, accounts: AccountService, demo_person: Any
) -> None:
    uid = _user(accounts)
    stranger = _user(accounts, "nosy_one")
    profiles.save(actor(uid), profile_of(demo_person, name="张伟伟"))
    reviews.upload(actor(uid), "front", photo())
    doc_id = reviews.upload(actor(uid), "back", photo())
    reviews.submit(actor(uid))
    with pytest.raises(PermissionDenied):
        reviews.queue(actor(stranger))
    with pytest.raises(PermissionDenied):
        reviews.image(actor(stranger), doc_id)
    # A reviewer cannot decide their own request.
    with database_grant(accounts, uid):
        request_id = reviews.queue(actor(uid))[0].verification_id
        with pytest.raises(PermissionDenied):
            reviews.decide(actor(uid), request_id, approve=True)
    with pytest.raises(NotFound):
        reviews.image(actor(uid), "0" * 32)


class database_grant:
    """Temporarily make ``user_id`` a reviewer."""

    def __init__(self, accounts: AccountService, user_id: str) -> None:
        self.accounts = accounts
        self.user_id = user_id

    def __enter__(self) -> None:
        with self.accounts.db.transaction() as session:
            from idp.accounts.models import User

            user = session.get(User, self.user_id)
            assert user is not None
            user.roles = "reviewer"

    def __exit__(self, *exc: object) -> None:
        with self.accounts.db.transaction() as session:
            from idp.accounts.models import User

            user = session.get(User, self.user_id)
            assert user is not None
            user.roles = ""


def test_editing_identity_during_review_discards_uploads(
    profiles: ProfileService, reviews: ReviewService, accounts: AccountService, demo_person: Any
) -> None:
    uid = _user(accounts)
    profiles.save(actor(uid), profile_of(demo_person, name="张伟伟"))
    reviews.upload(actor(uid), "front", photo())
    reviews.upload(actor(uid), "back", photo())
    reviews.submit(actor(uid))
    profiles.save(actor(uid), profile_of(demo_person, name="张伟伟伟"))
    assert profiles.load(uid)[0].realname_status == "failed"
    assert reviews.current_documents(uid) == {}


def test_one_verified_account_per_identity(
    profiles: ProfileService, accounts: AccountService, demo_person: Any
) -> None:
    first, second = _user(accounts, "first_one"), _user(accounts, "second_one")
    assert profiles.save(actor(first), profile_of(demo_person)).status is RealnameStatus.VERIFIED
    outcome = profiles.save(actor(second), profile_of(demo_person))
    assert outcome.status is RealnameStatus.FAILED
    assert "其他账号" in outcome.message


def test_invalid_numbers_never_reach_the_source(
    profiles: ProfileService, accounts: AccountService, demo_person: Any
) -> None:
    uid = _user(accounts)
    bad = demo_person.id_number[:-1] + ("0" if demo_person.id_number[-1] != "0" else "1")
    for changes in (
        {"id_number": bad},
        {"birth_date": "1999-01-01"},
        {"id_number": "12345"},
        {"gender": "robot"},
        {"ethnicity": "99"},
        {"birth_date": "yesterday"},
    ):
        with pytest.raises(ProfileInvalid) as err:
            profiles.save(actor(uid), profile_of(demo_person, **changes))
        assert err.value.problems
    assert profiles.load(uid)[0].realname_status == "unverified"


def test_source_down_leaves_status_unchanged(
    database: Database, store: Any, codec: IdentityCodec, accounts: AccountService, demo_person: Any
) -> None:
    from tests.support.live import free_port

    dead = ProfileService(
        database,
        store,
        codec,
        NationalSourceClient(f"http://127.0.0.1:{free_port()}", "t", allow_private=True),
    )
    uid = _user(accounts)
    with pytest.raises(VerificationUnavailable):
        dead.save(actor(uid), profile_of(demo_person))
    user, profile = dead.load(uid)
    assert user.realname_status == "unverified"
    assert profile.id_number_enc  # the profile itself was saved


def test_daily_attempt_limit(profiles: ProfileService, accounts: AccountService, demo_person: Any) -> None:
    uid = _user(accounts)
    for _ in range(5):
        assert profiles.save(actor(uid), profile_of(demo_person, name="错名")).status is RealnameStatus.FAILED
    with pytest.raises(InvalidInput):
        profiles.save(actor(uid), profile_of(demo_person))


def test_hostile_uploads_are_refused(
    profiles: ProfileService, reviews: ReviewService, accounts: AccountService, demo_person: Any
) -> None:
    uid = _user(accounts)
    profiles.save(actor(uid), profile_of(demo_person, name="张伟伟"))
    for data in (
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        b"%PDF-1.4",
        b"\x00" * 100,
        b"\xff\xd8\xff" + b"A" * (6 * 1024 * 1024),
    ):
        with pytest.raises(UploadRejected):
            reviews.upload(actor(uid), "front", data)
    assert reviews.current_documents(uid) == {}
    with pytest.raises(InvalidInput):
        reviews.upload(actor(uid), "side", photo())


def test_uploads_only_after_a_failed_check(reviews: ReviewService, accounts: AccountService) -> None:
    uid = _user(accounts)
    with pytest.raises(Conflict):
        reviews.upload(actor(uid), "front", photo())


def test_profile_rows_hold_no_plain_number(
    profiles: ProfileService, accounts: AccountService, database: Database, demo_person: Any
) -> None:
    uid = _user(accounts)
    profiles.save(actor(uid), profile_of(demo_person))
    with database.transaction() as session:
        row = session.get(PersonProfile, uid)
        assert row is not None
        dumped = json.dumps({c.name: str(getattr(row, c.name)) for c in PersonProfile.__table__.columns})
    assert demo_person.id_number not in dumped
