"""ID document numbers: GB 11643 resident ID numbers and the other documents' formats."""

from __future__ import annotations

import random
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from idp.errors import InvalidInput
from idp.realname.idnumber import (
    MAINLAND_PROVINCES,
    PROVINCES,
    IdNumberProblem,
    InvalidIdNumber,
    check_character,
    generate_id_number,
    validate_document,
    validate_foreign_permanent_id,
    validate_residence_permit,
    validate_resident_id,
)
from idp.realname.reference import DocumentType, Gender

TODAY = date(2025, 6, 1)
# The worked example of GB 11643-1999: Beijing Chaoyang, born 1949-12-31, order 002 (female), check X.
STANDARD_EXAMPLE = "11010519491231002X"


def problem_of(value: object, **kwargs: object) -> IdNumberProblem:
    with pytest.raises(InvalidIdNumber) as info:
        validate_resident_id(value, today=TODAY, **kwargs)  # type: ignore[arg-type]
    return info.value.problem


def test_standard_example_parses() -> None:
    parsed = validate_resident_id(STANDARD_EXAMPLE, today=TODAY)
    assert parsed.number == STANDARD_EXAMPLE
    assert parsed.region_code == "110105"
    assert parsed.province == "北京市"
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.gender is Gender.FEMALE


def test_lowercase_x_full_width_and_spaces_are_normalised() -> None:
    assert validate_resident_id("11010519491231002x", today=TODAY).number == STANDARD_EXAMPLE
    full_width = "１１０１０５１９４９１２３１００２ｘ"
    assert validate_resident_id(full_width, today=TODAY).number == STANDARD_EXAMPLE
    assert validate_resident_id(" 110105 19491231 002X ", today=TODAY).number == STANDARD_EXAMPLE


def test_check_character_of_standard_example() -> None:
    assert check_character(STANDARD_EXAMPLE[:17]) == "X"
    with pytest.raises(ValueError):
        check_character("1234")


def test_matching_birth_date_accepted_and_other_refused() -> None:
    assert validate_resident_id(STANDARD_EXAMPLE, date(1949, 12, 31), today=TODAY).birth_date == date(
        1949, 12, 31
    )
    assert problem_of(STANDARD_EXAMPLE, birth_date=date(1949, 12, 30)) is IdNumberProblem.BIRTH_DATE_MISMATCH


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", IdNumberProblem.EMPTY),
        ("   ", IdNumberProblem.EMPTY),
        (None, IdNumberProblem.EMPTY),
        (110105194912310020, IdNumberProblem.EMPTY),
        ("11010519491231002", IdNumberProblem.LENGTH),
        ("11010519491231002XX", IdNumberProblem.LENGTH),
        ("1" * 10_000, IdNumberProblem.LENGTH),
        ("1101051949123100AX", IdNumberProblem.CHARACTERS),
        ("X10105194912310020", IdNumberProblem.CHARACTERS),
        ("11010519491231002Y", IdNumberProblem.CHARACTERS),
        ("110105194912310０2X".replace("０", "\u0660"), IdNumberProblem.CHARACTERS),  # Arabic-Indic zero
        ("<script>alert(1)</script>", IdNumberProblem.LENGTH),
    ],
)
def test_malformed_numbers_are_refused(value: object, problem: IdNumberProblem) -> None:
    assert problem_of(value) is problem


def test_region_code_must_be_a_province() -> None:
    body = "001105" + "19491231002"
    assert problem_of(body + check_character(body)) is IdNumberProblem.REGION
    body = "991105" + "19491231002"
    assert problem_of(body + check_character(body)) is IdNumberProblem.REGION


@pytest.mark.parametrize("birth", ["19490230", "19491301", "19490000", "00000000"])
def test_impossible_birth_dates_are_refused(birth: str) -> None:
    body = "110105" + birth + "002"
    assert problem_of(body + check_character(body)) is IdNumberProblem.BIRTH_DATE


@pytest.mark.parametrize("birth", ["18991231", "18800101", "20250602", "20990101"])
def test_birth_dates_before_1900_or_in_the_future_are_refused(birth: str) -> None:
    body = "110105" + birth + "002"
    assert problem_of(body + check_character(body)) is IdNumberProblem.BIRTH_DATE_RANGE


def test_birth_date_today_is_accepted() -> None:
    number = generate_id_number("110105", TODAY, 1)
    assert validate_resident_id(number, today=TODAY).birth_date == TODAY


def test_wrong_check_character_is_refused() -> None:
    assert problem_of(STANDARD_EXAMPLE[:17] + "0") is IdNumberProblem.CHECKSUM


def test_error_is_invalid_input_with_bilingual_message_without_the_number() -> None:
    wrong = STANDARD_EXAMPLE[:17] + "5"
    with pytest.raises(InvalidInput) as info:
        validate_resident_id(wrong, today=TODAY)
    error = info.value
    assert "校验位" in error.public and "check character" in error.public
    assert wrong not in error.public and wrong not in error.detail and wrong not in str(error)


def test_every_problem_has_a_chinese_and_english_message() -> None:
    for problem in IdNumberProblem:
        for document in DocumentType:
            message = InvalidIdNumber(problem, document).public
            assert any("\u4e00" <= ch <= "\u9fff" for ch in message), (problem, document)
            assert any(ch.isascii() and ch.isalpha() for ch in message), (problem, document)


def test_parsed_value_repr_masks_the_number() -> None:
    text = repr(validate_resident_id(STANDARD_EXAMPLE, today=TODAY))
    assert STANDARD_EXAMPLE not in text and "1101" in text and "002X" in text


# --- properties ----------------------------------------------------------------------------------

regions = st.builds(
    lambda province, rest: province + f"{rest:04d}",
    st.sampled_from(sorted(PROVINCES)),
    st.integers(min_value=0, max_value=9999),
)
births = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)
seqs = st.integers(min_value=0, max_value=999)


@given(regions, births, seqs)
def test_any_generated_number_validates(region: str, born: date, seq: int) -> None:
    number = generate_id_number(region, born, seq)
    parsed = validate_resident_id(number, born, today=TODAY)
    assert parsed.number == number
    assert parsed.birth_date == born
    assert parsed.region_code == region
    assert parsed.gender is (Gender.MALE if seq % 2 else Gender.FEMALE)


@given(regions, births, seqs, st.integers(min_value=0, max_value=17), st.integers(min_value=1, max_value=10))
def test_any_single_character_change_is_refused(
    region: str, born: date, seq: int, position: int, shift: int
) -> None:
    number = generate_id_number(region, born, seq)
    alphabet = "0123456789X" if position == 17 else "0123456789"
    current = alphabet.index(number[position])
    replacement = alphabet[(current + shift) % len(alphabet)]
    if replacement == number[position]:
        replacement = alphabet[(current + 1) % len(alphabet)]
    changed = number[:position] + replacement + number[position + 1 :]
    with pytest.raises(InvalidIdNumber):
        validate_resident_id(changed, today=TODAY)


@given(regions, births, seqs, st.integers(min_value=0, max_value=15))
def test_any_adjacent_transposition_is_refused(region: str, born: date, seq: int, position: int) -> None:
    number = generate_id_number(region, born, seq)
    a, b = number[position], number[position + 1]
    if a == b:
        return
    swapped = number[:position] + b + a + number[position + 2 :]
    with pytest.raises(InvalidIdNumber):
        validate_resident_id(swapped, today=TODAY)


def test_generator_draws_missing_arguments_from_rng() -> None:
    rng = random.Random(7)
    numbers = {generate_id_number(rng=rng) for _ in range(50)}
    assert len(numbers) == 50
    for number in numbers:
        assert validate_resident_id(number, today=TODAY).region_code[:2] in MAINLAND_PROVINCES


@pytest.mark.parametrize(
    ("region", "born", "seq"),
    [("11010", date(1980, 1, 1), 1), ("990101", date(1980, 1, 1), 1), ("110101", date(1980, 1, 1), 1000),
     ("110101", date(1899, 12, 31), 1), ("11010a", date(1980, 1, 1), 1)],
)  # fmt: skip
def test_generator_refuses_impossible_arguments(region: str, born: date, seq: int) -> None:
    with pytest.raises(ValueError):
        generate_id_number(region, born, seq)


def test_generator_needs_rng_for_missing_arguments() -> None:
    with pytest.raises(ValueError):
        generate_id_number("110101", None, 1)


# --- other documents -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "value", "normalised"),
    [
        (DocumentType.HK_MACAO_PERMIT, "H12345678", "H12345678"),
        (DocumentType.HK_MACAO_PERMIT, "m1234567890", "M1234567890"),
        (DocumentType.TAIWAN_PERMIT, "12345678", "12345678"),
        (DocumentType.PASSPORT, "e12345678", "E12345678"),
        (DocumentType.PASSPORT, "AB123", "AB123"),
        (DocumentType.PASSPORT, "A" * 17, "A" * 17),
        (DocumentType.FOREIGN_PERMANENT_RESIDENT_ID, "usa110790123456", "USA110790123456"),
        (DocumentType.RESIDENT_ID, STANDARD_EXAMPLE.lower(), STANDARD_EXAMPLE),
    ],
)
def test_other_documents_accept_their_formats(document: DocumentType, value: str, normalised: str) -> None:
    assert validate_document(document, value, today=TODAY) == normalised


@pytest.mark.parametrize(
    ("document", "value"),
    [
        (DocumentType.HK_MACAO_PERMIT, "H1234567"),
        (DocumentType.HK_MACAO_PERMIT, "H123456789"),
        (DocumentType.HK_MACAO_PERMIT, "A12345678"),
        (DocumentType.HK_MACAO_PERMIT, "12345678"),
        (DocumentType.TAIWAN_PERMIT, "1234567"),
        (DocumentType.TAIWAN_PERMIT, "T1234567"),
        (DocumentType.PASSPORT, "E123"),
        (DocumentType.PASSPORT, "E" * 18),
        (DocumentType.PASSPORT, "E-1234567"),
        (DocumentType.PASSPORT, "护照12345"),
        (DocumentType.FOREIGN_PERMANENT_RESIDENT_ID, "US1107901234567"),
        (DocumentType.FOREIGN_PERMANENT_RESIDENT_ID, "810000199001010011"),
    ],
)
def test_other_documents_refuse_other_formats(document: DocumentType, value: str) -> None:
    with pytest.raises(InvalidIdNumber) as info:
        validate_document(document, value, today=TODAY)
    assert info.value.document_type is document
    assert value not in info.value.public


def residence_permit(region: str = "810000", born: date = date(1990, 1, 1), seq: int = 3) -> str:
    return generate_id_number(region, born, seq)


def test_residence_permit_needs_region_81_82_or_83() -> None:
    for region in ("810000", "820000", "830000"):
        number = residence_permit(region)
        assert validate_residence_permit(number, today=TODAY).number == number
    with pytest.raises(InvalidIdNumber) as info:
        validate_residence_permit(STANDARD_EXAMPLE, today=TODAY)
    assert info.value.problem is IdNumberProblem.REGION


def test_residence_permit_checks_check_character_and_birth_date() -> None:
    number = residence_permit(born=date(1990, 1, 1))
    with pytest.raises(InvalidIdNumber) as info:
        validate_residence_permit(number[:17] + ("0" if number[17] != "0" else "1"), today=TODAY)
    assert info.value.problem is IdNumberProblem.CHECKSUM
    with pytest.raises(InvalidIdNumber) as info:
        validate_document(DocumentType.HMT_RESIDENCE_PERMIT, number, date(1991, 1, 1), today=TODAY)
    assert info.value.problem is IdNumberProblem.BIRTH_DATE_MISMATCH


def foreign_id(
    province: str = "11", nationality: str = "840", birth: str = "19800101", seq: str = "123"
) -> str:
    body = "9" + province + nationality + birth + seq
    return body + check_character(body)


def test_foreign_permanent_id_new_form() -> None:
    number = foreign_id()
    assert validate_foreign_permanent_id(number, date(1980, 1, 1), today=TODAY) == number
    with pytest.raises(InvalidIdNumber) as info:
        validate_foreign_permanent_id(number[:17] + ("0" if number[17] != "0" else "1"), today=TODAY)
    assert info.value.problem is IdNumberProblem.CHECKSUM
    with pytest.raises(InvalidIdNumber) as info:
        validate_foreign_permanent_id(foreign_id(province="81"), today=TODAY)
    assert info.value.problem is IdNumberProblem.REGION
    with pytest.raises(InvalidIdNumber) as info:
        validate_foreign_permanent_id(foreign_id(birth="19801301"), today=TODAY)
    assert info.value.problem is IdNumberProblem.BIRTH_DATE
    with pytest.raises(InvalidIdNumber) as info:
        validate_foreign_permanent_id(number, date(1981, 1, 1), today=TODAY)
    assert info.value.problem is IdNumberProblem.BIRTH_DATE_MISMATCH


@pytest.mark.parametrize("document", list(DocumentType))
def test_every_document_refuses_empty_and_huge_input(document: DocumentType) -> None:
    for value in ("", "  ", None, "9" * 100_000):
        with pytest.raises(InvalidIdNumber):
            validate_document(document, value, today=TODAY)
