"""Resident ID numbers (GB 11643-1999): normalisation, validation and masking. Pure functions."""

from __future__ import annotations

import re
from datetime import date

from training_rp.errors import N_, InvalidInput

_SHAPE = re.compile(r"[0-9]{17}[0-9X]", re.ASCII)
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
# Province-level prefixes of GB/T 2260, plus 83 used by residence permits of Taiwan residents.
_PROVINCES = frozenset(
    {"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42"}
    | {"43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82"}
    | {"83"}
)

INVALID_ID_NUMBER = N_("身份证号无效,请输入18位居民身份证号码。")


def normalise(raw: str) -> str:
    """Strip surrounding blanks and upper-case a final ``x``; nothing else is forgiven."""
    return raw.strip().upper()


def check_digit(first17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def problem(number: str, today: date | None = None) -> str | None:
    """Why ``number`` (already normalised) is not a valid resident ID number, or None when it is."""
    if not _SHAPE.fullmatch(number):
        return "shape"
    if number[:2] not in _PROVINCES or number[2:6] == "0000":
        return "region"
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return "date"
    if born < date(1900, 1, 1) or born > (today or date.today()):
        return "date"
    if check_digit(number[:17]) != number[17]:
        return "checksum"
    return None


def validated(raw: str, field: str = "id_number") -> str:
    """The normalised number, or :class:`InvalidInput` naming ``field``."""
    number = normalise(raw)
    reason = problem(number)
    if reason is not None:
        raise InvalidInput(INVALID_ID_NUMBER, f"invalid id number ({reason})", field=field)
    return number


def mask(number: str) -> str:
    """First 4 and last 4 characters, the rest starred, as on the platform's own pages."""
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]
