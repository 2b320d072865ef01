"""Masked display of personal numbers, and the log filter that keeps full numbers out of logs."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from idp.realname.masking import RedactingFilter, mask_email, mask_id_number, mask_mobile, redact

NUMBER = "142701199001012717"
MOBILE = "18012345512"


def test_id_number_keeps_first_four_last_four_and_length() -> None:
    assert mask_id_number(NUMBER) == "1427**********2717"
    assert mask_id_number("11010519491231002X") == "1101**********002X"
    assert len(mask_id_number(NUMBER)) == 18


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("USA110790123456", "USA*********456"),
        ("E12345678", "E1*****78"),
        ("H1234567", "H1****67"),
        ("AB123", "A***3"),
        ("ABC", "***"),
        ("", ""),
    ],
)
def test_shorter_numbers_hide_at_least_half(value: str, masked: str) -> None:
    assert mask_id_number(value) == masked
    assert masked.count("*") * 2 >= len(value)


def test_mobile_keeps_first_two_and_last_three() -> None:
    assert mask_mobile(MOBILE) == "18******512"
    assert mask_mobile(" 13912345678 ") == "13******678"
    assert mask_mobile("01058884232") == "01******232"
    assert mask_mobile("12345") == "****5"
    assert mask_mobile("") == ""


def test_email_keeps_first_character_and_domain() -> None:
    assert mask_email("zhang.san@example.com") == "z***@example.com"
    assert mask_email("a@example.cn") == "***@example.cn"
    assert mask_email("not-an-email-address") == "not-************ress"


def test_redact_masks_id_numbers_and_mobiles_in_text() -> None:
    text = f"user {NUMBER} with x-number 11010519491231002x called from +86{MOBILE} and 0086 13912345678"
    result = redact(text)
    assert NUMBER not in result and MOBILE not in result and "13912345678" not in result
    assert "11010519491231002x" not in result
    assert "1427**********2717" in result and "+8618******512" in result and "0086 13******678" in result


def test_redact_leaves_other_numbers_alone() -> None:
    text = "order 1234567, ts 1700000000123, phone 010-58884232, 20-digit 12345678901234567890, 12345678901"
    assert redact(text) == text


@pytest.fixture()
def logged() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s %(extra_field)s"))
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("test.masking")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    yield logger, stream
    logger.removeHandler(handler)


def test_filter_masks_message_and_arguments(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = logged
    logger.info("verify %s for %s", NUMBER, {"mobile": MOBILE}, extra={"extra_field": f"id={NUMBER}"})
    output = stream.getvalue()
    assert NUMBER not in output and MOBILE not in output
    assert output.count("1427**********2717") == 2 and "18******512" in output


def test_filter_masks_exception_text(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = logged
    try:
        raise ValueError(f"bad number {NUMBER}")
    except ValueError:
        logger.exception("failed", extra={"extra_field": "-"})
    output = stream.getvalue()
    assert "Traceback" in output and "ValueError" in output
    assert NUMBER not in output and "1427**********2717" in output


def test_filter_survives_malformed_records(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = logged
    logger.warning("two placeholders %s %s", NUMBER, extra={"extra_field": "-"})
    output = stream.getvalue()
    assert "two placeholders" in output and NUMBER not in output and "1427**********2717" in output


def test_filter_masks_stack_info(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = logged
    logger.debug(f"inline {NUMBER}", stack_info=True, extra={"extra_field": "-"})
    output = stream.getvalue()
    assert "Stack (most recent call last)" in output and NUMBER not in output
