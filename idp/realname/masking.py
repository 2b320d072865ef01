"""Masked forms of ID numbers, mobiles and e-mail addresses, and a log filter that applies them.

DESIGN.md "Decisions taken": at most the first 4 and last 4 characters of an ID number are shown
(``1427**********2717``), mobiles as ``18******512``. SECURITY.md: logs never hold full ID numbers;
:class:`RedactingFilter` masks any ID-number-looking token and any mainland mobile number in a log
record before a handler formats it.
"""

from __future__ import annotations

import logging
import re

MASK = "*"

# 17 digits and a digit or X, not inside a longer run of digits.
ID_NUMBER_PATTERN = re.compile(r"(?<!\d)\d{17}[\dXx](?![\dXx])")
# An 11-digit mainland mobile (1[3-9]...), optionally with the +86 / 0086 / 86 country prefix.
MOBILE_PATTERN = re.compile(r"(?<![\d+])((?:\+|00)?86[- ]?)?(1[3-9]\d{9})(?!\d)")

# LogRecord attributes that are not user data; every other string attribute (``extra=``) is masked.
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def _keep(length: int, most: int) -> int:
    # Short values keep fewer characters so that at least half of them stays hidden.
    return min(most, length // 4)


def mask_id_number(value: str) -> str:
    """First 4 and last 4 characters of an 18-character number, asterisks in between, same length.

    Shorter numbers (passports, permits) keep fewer characters so at least half is hidden.
    """
    value = value.strip()
    keep = _keep(len(value), 4)
    if keep == 0:
        return MASK * len(value)
    return value[:keep] + MASK * (len(value) - 2 * keep) + value[-keep:]


def mask_mobile(value: str) -> str:
    """First 2 and last 3 digits of an 11-digit mobile (``18******512``); other numbers likewise
    keep their length and at most 2 + 3 characters."""
    value = value.strip()
    if len(value) < 8:
        tail = min(2, len(value) // 3)
        return MASK * (len(value) - tail) + (value[-tail:] if tail else "")
    return value[:2] + MASK * (len(value) - 5) + value[-3:]


def mask_email(value: str) -> str:
    """The first character of the local part and the whole domain: ``z***@example.com``."""
    value = value.strip()
    local, at, domain = value.rpartition("@")
    if not at or not local:
        return mask_id_number(value)
    shown = local[0] if len(local) > 1 else ""
    return f"{shown}***@{domain}"


def _mask_mobile_match(match: re.Match[str]) -> str:
    return (match.group(1) or "") + mask_mobile(match.group(2))


def redact(text: str) -> str:
    """``text`` with every ID-number-looking token and mainland mobile masked."""
    text = ID_NUMBER_PATTERN.sub(lambda m: mask_id_number(m.group(0)), text)
    return MOBILE_PATTERN.sub(_mask_mobile_match, text)


class RedactingFilter(logging.Filter):
    """Masks ID numbers and mobiles in a record's message, arguments, exception text and extras.

    Attach it to handlers (``handler.addFilter(RedactingFilter())``) so it also covers records of
    third-party loggers. The message is rendered here once with its arguments, so an argument that
    is an object or a mapping is masked as the text it would have produced.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record must still be logged, and masked
            message = f"{record.msg!s} {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for name, value in list(vars(record).items()):
            if name not in _RECORD_ATTRIBUTES and isinstance(value, str):
                setattr(record, name, redact(value))
        return True
