"""Which new passwords may be chosen."""

from __future__ import annotations

import pytest

from idp.accounts.password_policy import (
    MAX_LENGTH,
    PasswordProblem,
    WeakPassword,
    check_password,
    common_passwords,
    is_common,
    password_issues,
)
from idp.errors import InvalidInput


def problems(password: str, login: str | None = "zhangsan") -> list[PasswordProblem]:
    return [issue.problem for issue in password_issues(password, login)]


@pytest.mark.parametrize(
    "password",
    [
        "river7-Lantern-oak",
        "Zq7xmP2w",
        "长城2024登高望远",
        "我的第1个很长很长的密码句子，包含标点和空格 also English words 42 " * 2,
        "correct horse battery staple 9",
        "Ünïcödé-Pässwörd-9",
    ],
)
def test_good_passwords_pass(password: str) -> None:
    assert password_issues(password, "zhangsan") == []
    check_password(password, "zhangsan")


def test_long_passwords_are_accepted_up_to_the_limit() -> None:
    long = ("Passphrase of a careful person number 7 " * 30)[:MAX_LENGTH]
    assert len(long) == MAX_LENGTH and problems(long) == []
    assert problems("x7" * 40) == []  # 80 characters


def test_too_short() -> None:
    assert problems("Ab3$xyz") == [PasswordProblem.TOO_SHORT]
    assert PasswordProblem.TOO_SHORT in problems("")


def test_too_long() -> None:
    assert problems("a1" * (MAX_LENGTH // 2 + 1)) == [PasswordProblem.TOO_LONG]


def test_letters_and_digits_are_both_needed() -> None:
    assert problems("onlyletterstoday") == [PasswordProblem.LETTERS_AND_DIGITS]
    assert problems("8203917465") == [PasswordProblem.LETTERS_AND_DIGITS]
    assert problems("!@#$%^&*()_+") == [PasswordProblem.LETTERS_AND_DIGITS]


def test_login_name_is_refused_case_insensitively() -> None:
    assert PasswordProblem.LOGIN_NAME in problems("ZhangSan2024x", "zhangsan")
    assert PasswordProblem.LOGIN_NAME in problems("x9NASGNAHZ-9", "zhangsan")  # reversed
    assert PasswordProblem.LOGIN_NAME in problems("Test_User42", "test_user42")
    assert PasswordProblem.LOGIN_NAME in problems("ｚｈａｎｇｓａｎ99k", "zhangsan")  # full-width


def test_short_login_names_are_only_compared_whole() -> None:
    assert problems("river7-Lantern-oak", "ri") == []
    assert PasswordProblem.LOGIN_NAME in problems("ab", "ab")


@pytest.mark.parametrize(
    "password",
    [
        "password1",
        "Password123",
        "qwerty123",
        "1qaz2wsx",
        "woaini1314",
        "P@ssw0rd",
        "p@55w0rd1",
        "Dragon2019!",
        "abc123456",
        "Safea@2024",
        "fuwu1234",
        "abcdefgh1",
        "12345678a",
        "a1a1a1a1",
        "iloveyou520",
    ],
)
def test_common_passwords_are_refused(password: str) -> None:
    assert PasswordProblem.COMMON in problems(password, None)


def test_all_problems_are_reported_together() -> None:
    assert problems("zhang", "zhang") == [
        PasswordProblem.TOO_SHORT,
        PasswordProblem.LETTERS_AND_DIGITS,
        PasswordProblem.LOGIN_NAME,
    ]


def test_check_password_raises_with_every_reason_in_chinese_and_english() -> None:
    with pytest.raises(WeakPassword) as info:
        check_password("password", "zhangsan")
    error = info.value
    assert isinstance(error, InvalidInput)
    assert [i.problem for i in error.issues] == [PasswordProblem.LETTERS_AND_DIGITS, PasswordProblem.COMMON]
    assert "字母和数字" in error.public and "letters and digits" in error.public
    assert "常见" in error.public and "common" in error.public
    assert "password" not in error.detail.replace("password refused", "")


def test_shipped_list_is_large_lower_case_and_has_the_classics() -> None:
    listed = common_passwords()
    assert len(listed) > 5000
    assert all(p == p.casefold() for p in listed)
    for classic in ("123456", "password", "qwerty", "111111", "abc123", "5201314", "88888888", "iloveyou"):
        assert classic in listed
    assert not any(p.startswith("# ") for p in listed)


def test_is_common_ignores_case_and_full_width_forms() -> None:
    assert is_common("QWERTY123")
    assert is_common("ｐａｓｓｗｏｒｄ１")
    assert not is_common("river7-Lantern-oak")
