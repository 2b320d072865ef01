"""Validation of identity document numbers, done before any call to the national source.

The resident ID number (居民身份证号码, GB 11643-1999) has 18 characters::

    RRRRRR YYYYMMDD SSS C
    region birth    seq check

- ``R``: the administrative division code (GB/T 2260) of the place of first registration; its first two
  digits are a province-level code.
- ``S``: order code; its last digit is odd for men and even for women.
- ``C``: ISO 7064 MOD 11-2 check character over the first 17 digits, ``X`` standing for 10.

Validation runs as named steps in order (normalise, length, characters, region, birth date, check
character) and stops at the first failure with an :class:`InvalidIdNumber` whose ``problem`` says which
step failed and whose ``public`` message (Chinese and English) never repeats the number itself.

The other documents are checked by their published formats (:func:`validate_document`).
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from enum import StrEnum

from idp.errors import InvalidInput
from idp.realname.reference import DocumentType, Gender

#: Province-level codes (GB/T 2260) a resident ID number may start with. 71 is Taiwan in GB/T 2260;
#: 81, 82 and 83 appear in residence permits of Hong Kong, Macao and Taiwan residents; 91 is the
#: code some registers use for numbers issued abroad.
PROVINCES: dict[str, str] = {
    "11": "北京市", "12": "天津市", "13": "河北省", "14": "山西省", "15": "内蒙古自治区",
    "21": "辽宁省", "22": "吉林省", "23": "黑龙江省",
    "31": "上海市", "32": "江苏省", "33": "浙江省", "34": "安徽省", "35": "福建省", "36": "江西省",
    "37": "山东省",
    "41": "河南省", "42": "湖北省", "43": "湖南省", "44": "广东省", "45": "广西壮族自治区", "46": "海南省",
    "50": "重庆市", "51": "四川省", "52": "贵州省", "53": "云南省", "54": "西藏自治区",
    "61": "陕西省", "62": "甘肃省", "63": "青海省", "64": "宁夏回族自治区", "65": "新疆维吾尔自治区",
    "71": "台湾省", "81": "香港特别行政区", "82": "澳门特别行政区", "83": "台湾地区", "91": "境外",
}  # fmt: skip
#: Codes that open a residence permit for Hong Kong (81), Macao (82) and Taiwan (83) residents.
RESIDENCE_PERMIT_PROVINCES = ("81", "82", "83")
#: Acceptance places of the foreign permanent resident ID: the mainland's provinces.
MAINLAND_PROVINCES = tuple(code for code in PROVINCES if code not in ("71", "81", "82", "83", "91"))

EARLIEST_BIRTH_DATE = date(1900, 1, 1)
# ID numbers are issued in China, so "today" is the date in China (UTC+8), not the server's.
CHINA_TIME = timezone(timedelta(hours=8), "CST")
# MOD 11-2 weights: 2^(17-i) mod 11 for positions i = 0..16.
_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_CHECK_CHARS = "10X98765432"  # index: weighted sum mod 11
_MAX_RAW_LENGTH = 64


class IdNumberProblem(StrEnum):
    EMPTY = "empty"
    LENGTH = "length"
    CHARACTERS = "characters"
    REGION = "region"
    BIRTH_DATE = "birth_date"
    BIRTH_DATE_RANGE = "birth_date_range"
    BIRTH_DATE_MISMATCH = "birth_date_mismatch"
    CHECKSUM = "checksum"
    FORMAT = "format"


_MESSAGES = {
    IdNumberProblem.EMPTY: "请填写证件号码。 Please enter the document number.",
    IdNumberProblem.LENGTH: "身份证号码应为 18 位。 An ID number has 18 characters.",
    IdNumberProblem.CHARACTERS: (
        "身份证号码前 17 位应为数字,最后一位为数字或 X。"
        " The first 17 characters must be digits and the last a digit or X."
    ),
    IdNumberProblem.REGION: "身份证号码的地区码无效。 The region code of the ID number is not valid.",
    IdNumberProblem.BIRTH_DATE: (
        "身份证号码中的出生日期无效。 The birth date in the ID number is not a valid date."
    ),
    IdNumberProblem.BIRTH_DATE_RANGE: (
        "身份证号码中的出生日期不在合理范围内。"
        " The birth date in the ID number is in the future or before 1900."
    ),
    IdNumberProblem.BIRTH_DATE_MISMATCH: (
        "身份证号码与出生日期不一致。 The ID number does not match the birth date."
    ),
    IdNumberProblem.CHECKSUM: (
        "身份证号码校验位错误,请核对号码。"
        " The check character of the ID number is wrong; please check the number."
    ),
}

_FORMAT_MESSAGES = {
    DocumentType.HK_MACAO_PERMIT: (
        "港澳居民来往内地通行证号码应为 H 或 M 加 8 位或 10 位数字。"
        " The permit number is H or M followed by 8 or 10 digits."
    ),
    DocumentType.TAIWAN_PERMIT: ("台湾居民来往大陆通行证号码应为 8 位数字。 The permit number has 8 digits."),
    DocumentType.FOREIGN_PERMANENT_RESIDENT_ID: (
        "外国人永久居留身份证号码应为以 9 开头的 18 位号码,或 3 个字母加 12 位数字。"
        " The number has 18 characters starting with 9, or 3 letters followed by 12 digits."
    ),
    DocumentType.PASSPORT: (
        "护照号码应为 5 至 17 位字母或数字。 A passport number has 5 to 17 letters or digits."
    ),
}


class InvalidIdNumber(InvalidInput):
    """A document number failed validation; ``problem`` names the failed step."""

    def __init__(
        self, problem: IdNumberProblem, document_type: DocumentType = DocumentType.RESIDENT_ID
    ) -> None:
        if problem is IdNumberProblem.FORMAT:
            public = _FORMAT_MESSAGES.get(document_type, _MESSAGES[IdNumberProblem.LENGTH])
        else:
            public = _MESSAGES[problem]
        # The detail goes to logs: the kind of failure, never the number.
        super().__init__(public, f"invalid {document_type.value} number: {problem.value}")
        self.problem = problem
        self.document_type = document_type


@dataclass(frozen=True)
class ResidentIdNumber:
    """A valid 18-character number (resident ID or residence permit), normalised (upper-case ``X``)."""

    number: str
    region_code: str
    birth_date: date
    gender: Gender

    @property
    def province(self) -> str:
        return PROVINCES[self.region_code[:2]]

    def __repr__(self) -> str:
        # Keeps full numbers out of tracebacks and debug logs.
        return (
            f"ResidentIdNumber(number='{self.number[:4]}...{self.number[-4:]}', birth_date={self.birth_date})"
        )


def china_today() -> date:
    return datetime.now(CHINA_TIME).date()


def check_character(first17: str) -> str:
    """The MOD 11-2 check character of 17 digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("check_character needs exactly 17 ASCII digits")
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def normalise(value: str) -> str:
    """Full-width digits and letters to ASCII (NFKC), spaces removed, letters upper-cased."""
    return "".join(unicodedata.normalize("NFKC", value).split()).upper()


def _normalised(value: object, document_type: DocumentType) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidIdNumber(IdNumberProblem.EMPTY, document_type)
    if len(value) > _MAX_RAW_LENGTH:
        raise InvalidIdNumber(
            IdNumberProblem.LENGTH if document_type is DocumentType.RESIDENT_ID else IdNumberProblem.FORMAT,
            document_type,
        )
    return normalise(value)


def _birth_date(digits: str, expected: date | None, today: date | None, document_type: DocumentType) -> date:
    try:
        born = date(int(digits[0:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        raise InvalidIdNumber(IdNumberProblem.BIRTH_DATE, document_type) from None
    if born < EARLIEST_BIRTH_DATE or born > (today or china_today()):
        raise InvalidIdNumber(IdNumberProblem.BIRTH_DATE_RANGE, document_type)
    if expected is not None and born != expected:
        raise InvalidIdNumber(IdNumberProblem.BIRTH_DATE_MISMATCH, document_type)
    return born


def _validate_18(
    value: object,
    provinces: tuple[str, ...] | dict[str, str],
    birth_date: date | None,
    today: date | None,
    document_type: DocumentType,
) -> ResidentIdNumber:
    number = _normalised(value, document_type)
    if len(number) != 18:
        raise InvalidIdNumber(IdNumberProblem.LENGTH, document_type)
    body, check = number[:17], number[17]
    if not (body.isascii() and body.isdigit() and (check == "X" or (check.isascii() and check.isdigit()))):
        raise InvalidIdNumber(IdNumberProblem.CHARACTERS, document_type)
    if number[:2] not in provinces:
        raise InvalidIdNumber(IdNumberProblem.REGION, document_type)
    born = _birth_date(number[6:14], birth_date, today, document_type)
    if check_character(body) != check:
        raise InvalidIdNumber(IdNumberProblem.CHECKSUM, document_type)
    gender = Gender.MALE if int(number[16]) % 2 == 1 else Gender.FEMALE
    return ResidentIdNumber(number=number, region_code=number[:6], birth_date=born, gender=gender)


def validate_resident_id(
    value: object, birth_date: date | None = None, *, today: date | None = None
) -> ResidentIdNumber:
    """Validate a 居民身份证 number (GB 11643-1999) and return it parsed.

    ``birth_date``, when given (the profile's), must equal the date encoded in the number.
    ``today`` defaults to the current date in China; tests pass a fixed one.
    """
    return _validate_18(value, PROVINCES, birth_date, today, DocumentType.RESIDENT_ID)


def validate_residence_permit(
    value: object, birth_date: date | None = None, *, today: date | None = None
) -> ResidentIdNumber:
    """Validate a 港澳台居民居住证 number: the GB 11643 layout with region 81, 82 or 83."""
    return _validate_18(
        value, RESIDENCE_PERMIT_PROVINCES, birth_date, today, DocumentType.HMT_RESIDENCE_PERMIT
    )


_HK_MACAO = re.compile(r"[HM](?:\d{8}|\d{10})")
_TAIWAN = re.compile(r"\d{8}")
_FOREIGN_OLD = re.compile(r"[A-Z]{3}\d{12}")
_PASSPORT = re.compile(r"[A-Z0-9]{5,17}")


def _by_pattern(value: object, pattern: re.Pattern[str], document_type: DocumentType) -> str:
    number = _normalised(value, document_type)
    if not pattern.fullmatch(number):
        raise InvalidIdNumber(IdNumberProblem.FORMAT, document_type)
    return number


def validate_foreign_permanent_id(
    value: object, birth_date: date | None = None, *, today: date | None = None
) -> str:
    """Validate a 外国人永久居留身份证 number in either form and return it normalised.

    The 2023 form has 18 characters: ``9``, the province of acceptance (2), the nationality code (3),
    the birth date (8), an order code (3) and a MOD 11-2 check character. The earlier form has 15: the
    nationality's three letters and 12 digits.
    """
    document_type = DocumentType.FOREIGN_PERMANENT_RESIDENT_ID
    number = _normalised(value, document_type)
    if _FOREIGN_OLD.fullmatch(number):
        return number
    if len(number) != 18 or number[0] != "9":
        raise InvalidIdNumber(IdNumberProblem.FORMAT, document_type)
    body, check = number[:17], number[17]
    if not (body.isascii() and body.isdigit() and (check == "X" or (check.isascii() and check.isdigit()))):
        raise InvalidIdNumber(IdNumberProblem.FORMAT, document_type)
    if number[1:3] not in MAINLAND_PROVINCES:
        raise InvalidIdNumber(IdNumberProblem.REGION, document_type)
    _birth_date(number[6:14], birth_date, today, document_type)
    if check_character(body) != check:
        raise InvalidIdNumber(IdNumberProblem.CHECKSUM, document_type)
    return number


def validate_document(
    document_type: DocumentType, value: object, birth_date: date | None = None, *, today: date | None = None
) -> str:
    """Validate ``value`` as a number of ``document_type`` and return it normalised.

    ``birth_date`` is compared with the number for the documents that encode one.
    """
    if document_type is DocumentType.RESIDENT_ID:
        return validate_resident_id(value, birth_date, today=today).number
    if document_type is DocumentType.HMT_RESIDENCE_PERMIT:
        return validate_residence_permit(value, birth_date, today=today).number
    if document_type is DocumentType.FOREIGN_PERMANENT_RESIDENT_ID:
        return validate_foreign_permanent_id(value, birth_date, today=today)
    if document_type is DocumentType.HK_MACAO_PERMIT:
        return _by_pattern(value, _HK_MACAO, document_type)
    if document_type is DocumentType.TAIWAN_PERMIT:
        return _by_pattern(value, _TAIWAN, document_type)
    if document_type is DocumentType.PASSPORT:
        return _by_pattern(value, _PASSPORT, document_type)
    raise ValueError(f"unknown document type {document_type!r}")  # unreachable while the enum is complete


def generate_id_number(
    region: str | None = None,
    birth_date: date | None = None,
    seq: int | None = None,
    rng: random.Random | None = None,
) -> str:
    """A synthetic number with a valid check character, for simulators and tests.

    ``region`` is a 6-digit division code, ``seq`` the 3-digit order code (odd for men, even for
    women). Any argument left ``None`` is drawn from ``rng``.
    """
    if region is None or birth_date is None or seq is None:
        if rng is None:
            raise ValueError("rng is needed to draw the arguments left out")
        if region is None:
            region = rng.choice(MAINLAND_PROVINCES) + f"{rng.randint(1, 99):02d}{rng.randint(1, 99):02d}"
        if birth_date is None:
            birth_date = date(1950, 1, 1) + timedelta(days=rng.randint(0, 365 * 55))
        if seq is None:
            seq = rng.randint(0, 999)
    if len(region) != 6 or not region.isascii() or not region.isdigit() or region[:2] not in PROVINCES:
        raise ValueError("region must be 6 digits starting with a province-level code")
    if not 0 <= seq <= 999:
        raise ValueError("seq must be between 0 and 999")
    if not EARLIEST_BIRTH_DATE <= birth_date:
        raise ValueError("birth_date must not be before 1900")
    body = f"{region}{birth_date:%Y%m%d}{seq:03d}"
    return body + check_character(body)
