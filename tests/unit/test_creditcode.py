"""Unified social credit codes (GB 32100-2015)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from idp.errors import InvalidInput
from idp.orgs.creditcode import (
    ALPHABET,
    WEIGHTS,
    CreditCodeProblem,
    InvalidCreditCode,
    check_character,
    generate_credit_code,
    organisation_code_check,
    validate_credit_code,
)

# The example used in the standard's explanatory material (an enterprise registered in Fuzhou).
PUBLISHED_EXAMPLE = "91350100M000100Y43"


def problem_of(value: object) -> CreditCodeProblem:
    with pytest.raises(InvalidCreditCode) as info:
        validate_credit_code(value)
    return info.value.problem


def test_alphabet_and_weights_are_those_of_the_standard() -> None:
    assert len(ALPHABET) == 31 and not set("IOSVZ") & set(ALPHABET)
    assert WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def test_published_example_validates_and_parses() -> None:
    code = validate_credit_code(PUBLISHED_EXAMPLE)
    assert code.code == PUBLISHED_EXAMPLE
    assert code.registration_authority == "9"
    assert code.organisation_category == "1"
    assert code.region_code == "350100"
    assert code.organisation_code == "M000100Y4"


def test_lower_case_full_width_and_spaces_are_normalised() -> None:
    assert validate_credit_code(" 91350100m000100y43 ").code == PUBLISHED_EXAMPLE
    assert validate_credit_code("９１３５０１００Ｍ０００１００Ｙ４３").code == PUBLISHED_EXAMPLE


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", CreditCodeProblem.EMPTY),
        (None, CreditCodeProblem.EMPTY),
        (913501, CreditCodeProblem.EMPTY),
        ("91350100M000100Y4", CreditCodeProblem.LENGTH),
        ("91350100M000100Y433", CreditCodeProblem.LENGTH),
        ("9" * 5000, CreditCodeProblem.LENGTH),
        ("91350100M000100I43", CreditCodeProblem.CHARACTERS),
        ("91350100O000100Y43", CreditCodeProblem.CHARACTERS),
        ("91350100M000100Y4-", CreditCodeProblem.CHARACTERS),
        ("9135010<M000100Y43", CreditCodeProblem.CHARACTERS),
        ("91A50100M000100Y43", CreditCodeProblem.REGION),
        ("91350100M000100Y44", CreditCodeProblem.CHECKSUM),
    ],
)
def test_malformed_codes_are_refused(value: object, problem: CreditCodeProblem) -> None:
    assert problem_of(value) is problem


def test_errors_are_invalid_input_with_chinese_and_english() -> None:
    for problem in CreditCodeProblem:
        error = InvalidCreditCode(problem)
        assert isinstance(error, InvalidInput)
        assert "统一社会信用代码" in error.public and "code" in error.public


def test_check_character_needs_17_alphabet_characters() -> None:
    assert check_character(PUBLISHED_EXAMPLE[:17]) == "3"
    for bad in ("", "9135", "91350100M000100I4"):
        with pytest.raises(ValueError):
            check_character(bad)


def test_generated_codes_carry_a_valid_organisation_code() -> None:
    code = generate_credit_code(random.Random(1))
    org = code[8:17]
    assert organisation_code_check(org[:8]) == org[8]


def test_generator_refuses_bad_parts() -> None:
    with pytest.raises(ValueError):
        generate_credit_code(random.Random(1), region_code="11010A")
    with pytest.raises(ValueError):
        generate_credit_code(random.Random(1), registration_authority="I")


seeds = st.integers(min_value=0, max_value=2**32)
authorities = st.sampled_from("123456789ANY")
regions = st.integers(min_value=100000, max_value=999999).map(str)


@given(seeds, authorities, regions)
def test_any_generated_code_validates(seed: int, authority: str, region: str) -> None:
    code = generate_credit_code(random.Random(seed), authority, "1", region)
    assert validate_credit_code(code).code == code


@given(seeds, st.integers(min_value=0, max_value=17), st.integers(min_value=1, max_value=30))
def test_any_single_character_change_is_refused(seed: int, position: int, shift: int) -> None:
    code = generate_credit_code(random.Random(seed))
    replacement = ALPHABET[(ALPHABET.index(code[position]) + shift) % 31]
    changed = code[:position] + replacement + code[position + 1 :]
    with pytest.raises(InvalidCreditCode):
        validate_credit_code(changed)
