"""Which new passwords people may choose (SECURITY.md "Sign-in", NIST SP 800-63B section 5.1.1.2).

Rules, each reported with its own reason so a form can list every problem at once:

1. at least :data:`MIN_LENGTH` characters, counted as Unicode code points after NFKC normalisation;
   at most :data:`MAX_LENGTH`, which bounds hashing work but accepts any passphrase; any Unicode
   character counts and nothing is ever truncated;
2. at least one letter (any script) and one digit;
3. not the login name, and not containing it (case-insensitive);
4. not a common password: the shipped list (``data/common-passwords.txt``), a single repeated
   character or a straight run (``abcdefgh``, ``87654321``), a listed word or a word naming this
   service with a few digits or symbols around it (``dragon2019!``, ``Safea@123``), a listed number
   with a letter or two around it (``12345678a``), or any of these after undoing look-alike
   substitutions (``p@55w0rd``).

There is no rule about character classes beyond rule 2 and no forced periodic change (NIST).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path

from idp.errors import InvalidInput

MIN_LENGTH = 8
MAX_LENGTH = 1024
#: Shortest login name that is also refused as a part of the password (shorter ones would refuse too much).
MIN_LOGIN_PART = 3
#: Most non-letters that may surround a listed word before the password counts as a new one.
MAX_DECORATION = 6
#: Most letters that may surround a listed number (``12345678a``).
MAX_LETTER_DECORATION = 2
COMMON_PASSWORDS_FILE = Path(__file__).parent / "data" / "common-passwords.txt"
#: Words naming this service and its operator (context-specific words, NIST SP 800-63B).
CONTEXT_WORDS = frozenset(
    {"most", "safea", "fuwu", "kjb", "kejibu", "otm", "gov", "mostgov", "zhengwu", "peixun"}
)
_LOOKALIKES = str.maketrans(
    {"@": "a", "4": "a", "0": "o", "3": "e", "$": "s", "5": "s", "7": "t", "!": "i", "1": "i"}
)
_LOOKALIKES_L = str.maketrans(
    {"@": "a", "4": "a", "0": "o", "3": "e", "$": "s", "5": "s", "7": "t", "!": "l", "1": "l"}
)


class PasswordProblem(StrEnum):
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    LETTERS_AND_DIGITS = "letters_and_digits"
    LOGIN_NAME = "login_name"
    COMMON = "common"


MESSAGES = {
    PasswordProblem.TOO_SHORT: (
        f"密码至少需要 {MIN_LENGTH} 个字符。 The password must have at least {MIN_LENGTH} characters."
    ),
    PasswordProblem.TOO_LONG: (
        f"密码不能超过 {MAX_LENGTH} 个字符。 The password must not exceed {MAX_LENGTH} characters."
    ),
    PasswordProblem.LETTERS_AND_DIGITS: (
        "密码须同时包含字母和数字。 The password must contain both letters and digits."
    ),
    PasswordProblem.LOGIN_NAME: (
        "密码不能是登录名或包含登录名。 The password must not be or contain the login name."
    ),
    PasswordProblem.COMMON: (
        "该密码过于常见,容易被猜中,请换一个。"
        " This password is too common and easy to guess; please choose another."
    ),
}


@dataclass(frozen=True)
class PasswordIssue:
    problem: PasswordProblem
    #: Chinese, then English.
    message: str


class WeakPassword(InvalidInput):
    """The password breaks one or more rules; ``issues`` lists them all."""

    def __init__(self, issues: list[PasswordIssue]) -> None:
        super().__init__(
            " ".join(i.message for i in issues), "password refused: " + ",".join(i.problem for i in issues)
        )
        self.issues = issues


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list, lower case."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().casefold() for line in lines if line.strip() and not line.startswith("# "))


def _is_run(text: str) -> bool:
    if len(set(text)) == 1:
        return True
    steps = {ord(b) - ord(a) for a, b in zip(text, text[1:], strict=False)}
    return steps in ({1}, {-1})


def _trim(text: str, is_decoration: Callable[[str], bool], most: int) -> str | None:
    """``text`` without the decoration characters at either end, if there are at most ``most``."""
    start, end = 0, len(text)
    while start < end and is_decoration(text[start]):
        start += 1
    while end > start and is_decoration(text[end - 1]):
        end -= 1
    if start == 0 and end == len(text):
        return None
    return text[start:end] if len(text) - (end - start) <= most else None


def _is_known(text: str, listed: frozenset[str]) -> bool:
    return text in listed or text in CONTEXT_WORDS or (len(text) >= 4 and _is_run(text))


def is_common(password: str) -> bool:
    """True when ``password`` is on the list or a trivial variation of a listed or service word."""
    folded = unicodedata.normalize("NFKC", password).casefold()
    listed = common_passwords()
    cores = {folded}
    # "dragon2019!" is "dragon" decorated; "12345678a" is "12345678" decorated.
    cores.add(_trim(folded, lambda ch: not ch.isalpha(), MAX_DECORATION) or folded)
    cores.add(_trim(folded, str.isalpha, MAX_LETTER_DECORATION) or folded)
    candidates = set(cores)
    for core in cores:
        # "p@55w0rd" is "password" with look-alike characters.
        candidates.add(core.translate(_LOOKALIKES))
        candidates.add(core.translate(_LOOKALIKES_L))
    return any(_is_known(candidate, listed) for candidate in candidates if candidate)


def password_issues(password: str, login_name: str | None = None) -> list[PasswordIssue]:
    """Every rule ``password`` breaks, in rule order; empty when it may be chosen."""
    problems: list[PasswordProblem] = []
    text = unicodedata.normalize("NFKC", password)
    if len(text) < MIN_LENGTH:
        problems.append(PasswordProblem.TOO_SHORT)
    if len(text) > MAX_LENGTH:
        problems.append(PasswordProblem.TOO_LONG)
        # Nothing more is computed over an oversized input.
        return [PasswordIssue(p, MESSAGES[p]) for p in problems]
    if not (any(ch.isalpha() for ch in text) and any(ch.isdigit() for ch in text)):
        problems.append(PasswordProblem.LETTERS_AND_DIGITS)
    folded = text.casefold()
    login = unicodedata.normalize("NFKC", login_name or "").strip().casefold()
    if login and (
        folded == login or (len(login) >= MIN_LOGIN_PART and (login in folded or login[::-1] in folded))
    ):
        problems.append(PasswordProblem.LOGIN_NAME)
    if text and is_common(text):
        problems.append(PasswordProblem.COMMON)
    return [PasswordIssue(p, MESSAGES[p]) for p in problems]


def check_password(password: str, login_name: str | None = None) -> None:
    """Raise :class:`WeakPassword` listing every broken rule, or return when the password is fine."""
    issues = password_issues(password, login_name)
    if issues:
        raise WeakPassword(issues)
