"""Real-name status and the transitions the domain allows (DESIGN.md, identity model)."""

from __future__ import annotations

from enum import StrEnum

from idp.errors import Conflict


class RealnameStatus(StrEnum):
    UNVERIFIED = "unverified"
    #: Passed against the national source (shown as 国家平台实名认证通过).
    VERIFIED = "verified"
    FAILED = "failed"
    PENDING_REVIEW = "pending_review"
    #: A reviewer matched signed document photos (shown as 已审核认证).
    REVIEWED = "reviewed"

    @property
    def proven(self) -> bool:
        return self in (RealnameStatus.VERIFIED, RealnameStatus.REVIEWED)

    @property
    def label_zh(self) -> str:
        return _LABELS[self][0]

    @property
    def label_en(self) -> str:
        return _LABELS[self][1]


_LABELS = {
    RealnameStatus.UNVERIFIED: ("未实名认证", "Not verified"),
    RealnameStatus.VERIFIED: ("国家平台实名认证通过", "Verified against the national platform"),
    RealnameStatus.FAILED: ("实名认证未通过", "Verification failed"),
    RealnameStatus.PENDING_REVIEW: ("实名认证审核中", "Under manual review"),
    RealnameStatus.REVIEWED: ("已审核认证", "Verified by manual review"),
}

S = RealnameStatus
#: Allowed (from, to) pairs. Saving the profile re-runs the automatic check from unverified/failed;
#: identity edits during review throw the uploads away (pending_review -> failed).
TRANSITIONS: frozenset[tuple[RealnameStatus, RealnameStatus]] = frozenset(
    {
        (S.UNVERIFIED, S.VERIFIED),
        (S.UNVERIFIED, S.FAILED),
        (S.FAILED, S.VERIFIED),
        (S.FAILED, S.FAILED),
        (S.FAILED, S.PENDING_REVIEW),
        (S.PENDING_REVIEW, S.REVIEWED),
        (S.PENDING_REVIEW, S.FAILED),
    }
)


def transition(current: str, target: RealnameStatus) -> RealnameStatus:
    """The new status, or Conflict when the domain does not allow the step."""
    source = RealnameStatus(current)
    if (source, target) not in TRANSITIONS:
        raise Conflict(
            "当前实名认证状态下不能进行此操作。 This step is not possible in the current real-name status.",
            f"transition {source.value} -> {target.value} refused",
        )
    return target
