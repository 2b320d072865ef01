"""More properties of the credit-code validator: errors it catches and input it survives."""

from __future__ import annotations

import random

from hypothesis import assume, given
from hypothesis import strategies as st

from idp.orgs.creditcode import ALPHABET, InvalidCreditCode, generate_credit_code, validate_credit_code

seeds = st.integers(min_value=0, max_value=2**32)


def refused(value: object) -> bool:
    try:
        validate_credit_code(value)
    except InvalidCreditCode:
        return True
    return False


@given(seeds, st.integers(min_value=0, max_value=16))
def test_every_adjacent_transposition_is_caught(seed: int, position: int) -> None:
    """Weights 3^i mod 31 differ for neighbours and 31 is prime: a swap always changes the sum."""
    code = generate_credit_code(random.Random(seed))
    assume(code[position] != code[position + 1])
    swapped = code[:position] + code[position + 1] + code[position] + code[position + 2 :]
    assert refused(swapped)


@given(st.text(max_size=40))
def test_any_text_is_either_a_valid_code_or_refused_with_a_reason(value: str) -> None:
    try:
        code = validate_credit_code(value)
    except InvalidCreditCode as error:
        assert error.public and error.problem
        return
    assert len(code.code) == 18 and set(code.code) <= set(ALPHABET)


@given(st.one_of(st.none(), st.integers(), st.binary(), st.lists(st.text()), st.floats()))
def test_values_that_are_not_text_are_refused(value: object) -> None:
    assert refused(value)


@given(seeds, st.sampled_from(("lower", "spaces", "full_width")))
def test_harmless_spellings_of_a_valid_code_normalise_to_it(seed: int, spelling: str) -> None:
    code = generate_credit_code(random.Random(seed))
    typed = {
        "lower": code.lower(),
        "spaces": " ".join((code[:6], code[6:12], code[12:])),
        "full_width": "".join(chr(ord(ch) + 0xFEE0) for ch in code),
    }[spelling]
    assert validate_credit_code(typed).code == code


@given(seeds, st.sampled_from("IOSVZ"), st.integers(min_value=0, max_value=17))
def test_letters_outside_the_alphabet_are_refused_anywhere(seed: int, letter: str, position: int) -> None:
    code = generate_credit_code(random.Random(seed))
    assert refused(code[:position] + letter + code[position + 1 :])
