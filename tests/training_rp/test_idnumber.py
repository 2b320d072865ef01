"""Resident ID numbers: checksum, date and region checks, normalisation and masking."""

from __future__ import annotations

from datetime import date

import pytest

from tests.training_rp.helpers import synthetic_id
from training_rp import idnumber
from training_rp.errors import InvalidInput


def test_a_well_formed_number_passes_and_is_masked_first4_last4() -> None:
    number = synthetic_id(123)
    assert idnumber.problem(number) is None
    masked = idnumber.mask(number)
    assert masked == number[:4] + "*" * 10 + number[-4:]
    assert len(masked) == 18


def test_the_published_sample_checksum() -> None:
    # GB 11643 worked example: 11010519491231002 has check character X.
    assert idnumber.check_digit("11010519491231002") == "X"
    assert idnumber.problem("11010519491231002X") is None


def test_a_lower_case_x_is_normalised() -> None:
    assert idnumber.validated(" 11010519491231002x ") == "11010519491231002X"


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("", "shape"),
        ("1101051949123100", "shape"),
        ("11010519491231002X1", "shape"),
        ("11010519491231002Y", "shape"),
        ("１１０１０５１９４９１２３１００２X", "shape"),  # full-width digits are not ASCII digits
        ("1101051949123100２", "shape"),
        ("99010519491231002X", "region"),
        ("110000194912310025", "region"),
        ("110105194902300029", "date"),
        ("110105189912310020", "date"),
        ("110105194912310021", "checksum"),
    ],
)
def test_malformed_numbers_are_refused_with_the_reason(number: str, reason: str) -> None:
    assert idnumber.problem(idnumber.normalise(number)) == reason


def test_a_birth_date_in_the_future_is_refused() -> None:
    first17 = "11010120990101001"
    number = first17 + idnumber.check_digit(first17)
    assert idnumber.problem(number, today=date(2025, 1, 1)) == "date"


def test_validated_names_the_field_and_never_echoes_the_number() -> None:
    with pytest.raises(InvalidInput) as caught:
        idnumber.validated("110105194912310021", field="id_number")
    assert caught.value.field == "id_number"
    assert "110105194912310021" not in caught.value.detail
    assert "110105194912310021" not in caught.value.public


def test_short_values_are_fully_masked() -> None:
    assert idnumber.mask("1234") == "****"
