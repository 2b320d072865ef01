"""Field rules of the account forms, shared by the web forms, the services and the CLI.

Each rule returns the cleaned value or raises :class:`InvalidInput` naming its field, with a
message (a msgid) the user can act on.
"""

from __future__ import annotations

import re
import unicodedata

from training_rp import idnumber
from training_rp.errors import N_, InvalidInput

_USERNAME = re.compile(r"[A-Za-z0-9]{3,32}", re.ASCII)
_PHONE = re.compile(r"(?:0\d{2,3}-?)?\d{7,8}(?:-\d{1,6})?", re.ASCII)
_MOBILE = re.compile(r"1[3-9]\d{9}", re.ASCII)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+", re.ASCII)

REQUIRED = N_("此项为必填项。")
HAS_CONTROL = N_("不能包含控制字符或换行。")
USERNAME = N_("登录用户名只能包含英文字母和数字(3至32位),请勿加特殊符号。")
PHONE = N_("请输入正确的电话号码,例如 010-58884232。")
MOBILE = N_("请输入正确的11位手机号码。")
EMAIL = N_("请输入正确的电子邮件地址。")
UNIT_NAME = N_("单位名称应为2至100个字符。")
PERSON_NAME = N_("姓名应为1至50个字符。")
CONTACT = N_("联系人应为1至50个字符。")
DEPARTMENT = N_("部门名称应为2至100个字符。")


def text(value: str | None, field: str, min_len: int, max_len: int, message: str) -> str:
    """Trimmed free text of bounded length, without control characters (no CR/LF into logs or CSV)."""
    cleaned = (value or "").strip()
    if not cleaned:
        raise InvalidInput(REQUIRED, f"{field} missing", field=field)
    if any(unicodedata.category(ch).startswith("C") for ch in cleaned):
        raise InvalidInput(HAS_CONTROL, f"{field} has control characters", field=field)
    if not min_len <= len(cleaned) <= max_len:
        raise InvalidInput(message, f"{field} length {len(cleaned)}", field=field)
    return cleaned


def unit_name(value: str | None) -> str:
    return text(value, "unit_name", 2, 100, UNIT_NAME)


def person_name(value: str | None, field: str = "name") -> str:
    return text(value, field, 1, 50, CONTACT if field == "contact" else PERSON_NAME)


def department(value: str | None) -> str:
    return text(value, "department", 2, 100, DEPARTMENT)


def username(value: str | None) -> str:
    cleaned = (value or "").strip()
    if not cleaned:
        raise InvalidInput(REQUIRED, "username missing", field="username")
    if not _USERNAME.fullmatch(cleaned):
        raise InvalidInput(USERNAME, "username shape", field="username")
    return cleaned


def phone(value: str | None, field: str, required: bool) -> str | None:
    cleaned = (value or "").strip()
    if not cleaned:
        if required:
            raise InvalidInput(REQUIRED, f"{field} missing", field=field)
        return None
    if not _PHONE.fullmatch(cleaned):
        raise InvalidInput(PHONE, f"{field} shape", field=field)
    return cleaned


def mobile(value: str | None) -> str:
    cleaned = (value or "").strip()
    if not cleaned:
        raise InvalidInput(REQUIRED, "mobile missing", field="mobile")
    if not _MOBILE.fullmatch(cleaned):
        raise InvalidInput(MOBILE, "mobile shape", field="mobile")
    return cleaned


def email(value: str | None) -> str:
    cleaned = (value or "").strip()
    if not cleaned:
        raise InvalidInput(REQUIRED, "email missing", field="email")
    if len(cleaned) > 254 or not _EMAIL.fullmatch(cleaned) or ".." in cleaned:
        raise InvalidInput(EMAIL, "email shape", field="email")
    return cleaned


def id_number(value: str | None) -> str:
    if not (value or "").strip():
        raise InvalidInput(REQUIRED, "id_number missing", field="id_number")
    return idnumber.validated(value or "", field="id_number")
