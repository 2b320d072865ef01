"""Forms of the sign-in pages. Every field has a length bound, so no input is too large to handle."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import AnyOf, InputRequired, Length, Optional

from idp.accounts.passwords import MAX_LENGTH as MAX_PASSWORD_LENGTH

ACCOUNT_TYPES = ("natural", "legal")


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class LoginForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF ships no type information
    username = StringField(
        _l("登录名"),
        filters=[_strip],
        validators=[InputRequired(message=_l("请输入登录名。")), Length(max=64, message=_l("登录名过长。"))],
    )
    password = PasswordField(
        _l("密码"),
        validators=[
            InputRequired(message=_l("请输入密码。")),
            Length(max=MAX_PASSWORD_LENGTH, message=_l("密码过长。")),
        ],
    )
    captcha = StringField(_l("验证码"), filters=[_strip], validators=[Optional(), Length(max=16)])
    captcha_id = HiddenField(validators=[Optional(), Length(max=64)])
    account_type = HiddenField(
        default="natural", validators=[AnyOf(ACCOUNT_TYPES, message=_l("账号类型无效。"))]
    )


class LogoutForm(FlaskForm):  # type: ignore[misc]
    """Only the CSRF token: logging out is a state change a third-party page must not trigger."""
