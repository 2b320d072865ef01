"""Forms of registration, password reset, password change and contact change.

Every field has a length bound, so no input is too large to handle; what a value must look like is
the services' business (they say why in a form message), the forms only bound and require.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length, Optional

from idp.accounts.passwords import MAX_LENGTH as MAX_PASSWORD_LENGTH

MAX_CONTACT_LENGTH = 254
MAX_USERNAME_LENGTH = 64
MAX_CODE_LENGTH = 16


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def _contact() -> StringField:
    return StringField(
        _l("手机号码或电子邮箱"),
        filters=[_strip],
        validators=[
            InputRequired(message=_l("请输入手机号码或电子邮箱。")),
            Length(max=MAX_CONTACT_LENGTH, message=_l("手机号码或电子邮箱过长。")),
        ],
    )


def _username() -> StringField:
    return StringField(
        _l("登录名"),
        filters=[_strip],
        validators=[
            InputRequired(message=_l("请输入登录名。")),
            Length(max=MAX_USERNAME_LENGTH, message=_l("登录名过长。")),
        ],
    )


def _code() -> StringField:
    return StringField(
        _l("验证码"),
        filters=[_strip],
        validators=[
            InputRequired(message=_l("请输入收到的验证码。")),
            Length(max=MAX_CODE_LENGTH, message=_l("验证码为 6 位数字。")),
        ],
    )


def _password(label: Any, missing: Any) -> PasswordField:
    return PasswordField(
        label,
        validators=[
            InputRequired(message=missing),
            Length(max=MAX_PASSWORD_LENGTH, message=_l("密码过长。")),
        ],
    )


def _password_again(label: Any) -> PasswordField:
    return PasswordField(
        label,
        validators=[
            InputRequired(message=_l("请再次输入新密码。")),
            Length(max=MAX_PASSWORD_LENGTH, message=_l("密码过长。")),
            EqualTo("password", message=_l("两次输入的密码不一致。")),
        ],
    )


class CaptchaFields:
    """The image captcha's answer and id, as the sign-in form carries them."""

    captcha = StringField(_l("图形验证码"), filters=[_strip], validators=[Optional(), Length(max=16)])
    captcha_id = HiddenField(validators=[Optional(), Length(max=64)])


class RegisterContactForm(FlaskForm, CaptchaFields):  # type: ignore[misc]  # Flask-WTF ships no types
    contact = _contact()


class RegisterAccountForm(FlaskForm):  # type: ignore[misc]
    username = _username()
    password = _password(_l("密码"), _l("请输入密码。"))
    password_again = _password_again(_l("确认密码"))
    code = _code()


class ForgotForm(FlaskForm, CaptchaFields):  # type: ignore[misc]
    username = _username()
    contact = _contact()


class CodeForm(FlaskForm):  # type: ignore[misc]
    code = _code()


class NewPasswordForm(FlaskForm):  # type: ignore[misc]
    password = _password(_l("新密码"), _l("请输入新密码。"))
    password_again = _password_again(_l("确认新密码"))


class ChangePasswordForm(FlaskForm):  # type: ignore[misc]
    current_password = _password(_l("当前密码"), _l("请输入当前密码。"))
    password = _password(_l("新密码"), _l("请输入新密码。"))
    password_again = _password_again(_l("确认新密码"))


class ChangeContactForm(FlaskForm):  # type: ignore[misc]
    current_password = _password(_l("当前密码"), _l("请输入当前密码。"))
    contact = _contact()
