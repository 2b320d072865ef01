"""The unified social credit code (统一社会信用代码, GB 32100-2015) of a legal person.

18 characters from a 31-character alphabet (digits and upper-case letters without I, O, S, V, Z)::

    A B RRRRRR OOOOOOOOO C
    | | |      |         check character
    | | |      organisation code (GB 11714, 9 characters)
    | | administrative division code (6 digits)
    | organisation category
    registration authority

The check character makes the weighted sum (weights ``3^i mod 31``) of all 18 values a multiple of
31. Validation is a list of ordered steps that stops at the first failure with an
:class:`InvalidCreditCode` naming it.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from idp.errors import InvalidInput

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUES = {ch: i for i, ch in enumerate(ALPHABET)}
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
# GB 11714 organisation-code weights and check characters.
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
LENGTH = 18


class CreditCodeProblem(StrEnum):
    EMPTY = "empty"
    LENGTH = "length"
    CHARACTERS = "characters"
    REGION = "region"
    CHECKSUM = "checksum"


_MESSAGES = {
    CreditCodeProblem.EMPTY: "请填写统一社会信用代码。 Please enter the unified social credit code.",
    CreditCodeProblem.LENGTH: (
        "统一社会信用代码应为 18 位。 A unified social credit code has 18 characters."
    ),
    CreditCodeProblem.CHARACTERS: (
        "统一社会信用代码只能包含数字和除 I、O、S、V、Z 以外的大写字母。"
        " The code may only contain digits and upper-case letters other than I, O, S, V and Z."
    ),
    CreditCodeProblem.REGION: (
        "统一社会信用代码第 3 至 8 位应为行政区划码(数字)。"
        " Characters 3 to 8 of the code must be the administrative division code (digits)."
    ),
    CreditCodeProblem.CHECKSUM: (
        "统一社会信用代码校验位错误,请核对。 The check character of the code is wrong; please check it."
    ),
}


class InvalidCreditCode(InvalidInput):
    def __init__(self, problem: CreditCodeProblem) -> None:
        super().__init__(_MESSAGES[problem], f"invalid unified social credit code: {problem.value}")
        self.problem = problem


@dataclass(frozen=True)
class CreditCode:
    code: str

    @property
    def registration_authority(self) -> str:
        return self.code[0]

    @property
    def organisation_category(self) -> str:
        return self.code[1]

    @property
    def region_code(self) -> str:
        return self.code[2:8]

    @property
    def organisation_code(self) -> str:
        return self.code[8:17]


def check_character(first17: str) -> str:
    """The check character of 17 characters of the alphabet."""
    if len(first17) != 17 or any(ch not in _VALUES for ch in first17):
        raise ValueError("check_character needs 17 characters of the credit-code alphabet")
    total = sum(_VALUES[ch] * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def validate_credit_code(value: object) -> CreditCode:
    """Validate a unified social credit code; full-width characters and lower case are normalised."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidCreditCode(CreditCodeProblem.EMPTY)
    if len(value) > 64:
        raise InvalidCreditCode(CreditCodeProblem.LENGTH)
    code = "".join(unicodedata.normalize("NFKC", value).split()).upper()
    if len(code) != LENGTH:
        raise InvalidCreditCode(CreditCodeProblem.LENGTH)
    if any(ch not in _VALUES for ch in code):
        raise InvalidCreditCode(CreditCodeProblem.CHARACTERS)
    if not code[2:8].isdigit():
        raise InvalidCreditCode(CreditCodeProblem.REGION)
    if check_character(code[:17]) != code[17]:
        raise InvalidCreditCode(CreditCodeProblem.CHECKSUM)
    return CreditCode(code)


def organisation_code_check(first8: str) -> str:
    """GB 11714 check character of an 8-character organisation code body."""
    total = sum(int(ch, 36) * w for ch, w in zip(first8, _ORG_WEIGHTS, strict=True))
    value = 11 - total % 11
    return "X" if value == 10 else "0" if value == 11 else str(value)


def generate_credit_code(
    rng: random.Random,
    registration_authority: str = "9",
    organisation_category: str = "1",
    region_code: str = "110108",
) -> str:
    """A synthetic, valid code for simulators and tests (enterprise registered in Beijing by default)."""
    if len(region_code) != 6 or not region_code.isdigit():
        raise ValueError("region_code must be 6 digits")
    if registration_authority not in _VALUES or organisation_category not in _VALUES:
        raise ValueError("registration authority and category must be characters of the alphabet")
    body = "".join(rng.choice(ALPHABET) for _ in range(8))
    org_code = body + organisation_code_check(body)
    first17 = registration_authority + organisation_category + region_code + org_code
    return first17 + check_character(first17)
