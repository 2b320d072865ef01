"""Errors of the data-protection layer."""

from __future__ import annotations

from idp.errors import DomainError


class DecryptionFailed(DomainError):
    """A ciphertext is malformed, was altered, belongs to another field, or its key is unknown.

    Stored data that fails authentication is never returned in part: the caller gets this error
    and a generic public message; the detail (never the data) goes to the log.
    """

    status_code = 500
    exit_code = 70

    def __init__(self, detail: str) -> None:
        super().__init__(
            "数据完整性校验失败,请联系管理员。"
            " Stored data failed an integrity check; please contact the administrator.",
            detail,
        )


class UnknownDataKey(DecryptionFailed):
    """The envelope names a key id that is neither the current data key nor an old one."""
