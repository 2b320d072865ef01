"""Forms of the unit pages: registration, unit information, matter requests, search and grants.

The forms bound lengths and mark required fields; every rule of the data (credit-code check
character, formats, who may grant what) belongs to the services in :mod:`idp.orgs`, whose public
messages the pages show.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField, TextAreaField
from wtforms.validators import AnyOf, EqualTo, InputRequired, Length, Optional, Regexp

from idp.accounts.passwords import MAX_LENGTH as MAX_PASSWORD_LENGTH
from idp.orgs.models import GRANTABLE_ROLES, UnitType
from idp.orgs.services import UnitInput

#: The platform's names of unit types, in form order.
UNIT_TYPE_LABELS = {
    UnitType.ENTERPRISE.value: _l("企业"),
    UnitType.INSTITUTION.value: _l("事业单位"),
    UnitType.GOVERNMENT.value: _l("机关"),
    UnitType.SOCIAL_ORGANISATION.value: _l("社会组织"),
    UnitType.OTHER.value: _l("其他"),
}
ROLES = [r.value for r in GRANTABLE_ROLES]


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class UnitFields(FlaskForm):  # type: ignore[misc]  # Flask-WTF ships no type information
    name = StringField(
        _l("单位名称"),
        filters=[_strip],
        validators=[InputRequired(message=_l("请填写单位名称。")), Length(max=200)],
    )
    unit_type = StringField(
        _l("单位类型"),
        validators=[AnyOf(list(UNIT_TYPE_LABELS), message=_l("请选择单位类型。"))],
    )
    address = StringField(_l("单位地址"), filters=[_strip], validators=[Optional(), Length(max=300)])
    contact_name = StringField(_l("联系人"), filters=[_strip], validators=[Optional(), Length(max=50)])
    contact_phone = StringField(_l("联系电话"), filters=[_strip], validators=[Optional(), Length(max=32)])
    contact_email = StringField(_l("电子邮箱"), filters=[_strip], validators=[Optional(), Length(max=254)])

    def unit_input(self, credit_code: str = "") -> UnitInput:
        return UnitInput(
            credit_code=credit_code,
            name=self.name.data or "",
            unit_type=self.unit_type.data or "",
            address=self.address.data or "",
            contact_name=self.contact_name.data or "",
            contact_phone=self.contact_phone.data or "",
            contact_email=self.contact_email.data or "",
        )


class RegisterForm(UnitFields):
    credit_code = StringField(
        _l("统一社会信用代码"),
        filters=[_strip],
        validators=[InputRequired(message=_l("请填写统一社会信用代码。")), Length(max=64)],
    )
    admin_username = StringField(
        _l("单位登录名"),
        filters=[_strip],
        validators=[InputRequired(message=_l("请填写单位登录名。")), Length(max=64)],
    )
    password = PasswordField(
        _l("密码"),
        validators=[InputRequired(message=_l("请输入密码。")), Length(max=MAX_PASSWORD_LENGTH)],
    )
    password_confirm = PasswordField(
        _l("确认密码"),
        validators=[
            InputRequired(message=_l("请再次输入密码。")),
            EqualTo("password", message=_l("两次输入的密码不一致。")),
        ],
    )
    captcha = StringField(_l("验证码"), filters=[_strip], validators=[Optional(), Length(max=16)])
    captcha_id = HiddenField(validators=[Optional(), Length(max=64)])


class UnitInfoForm(UnitFields):
    """The unit admin's edit of the unit information (the credit code is not editable)."""


class ApplyForm(FlaskForm):  # type: ignore[misc]
    client_id = StringField(
        _l("事项"), validators=[InputRequired(message=_l("请选择要申请的事项。")), Length(max=64)]
    )
    note = TextAreaField(_l("申请说明"), filters=[_strip], validators=[Optional(), Length(max=500)])


class SearchForm(FlaskForm):  # type: ignore[misc]
    query = StringField(
        _l("登录名或证件号码"),
        filters=[_strip],
        validators=[InputRequired(message=_l("请输入完整的登录名或证件号码。")), Length(max=64)],
    )


class GrantForm(FlaskForm):  # type: ignore[misc]
    user_id = HiddenField(validators=[InputRequired(), Regexp(r"^[0-9a-f]{32}$")])
    #: ``<unit_id>:<client_id>``: the manager console offers matters of several units.
    matter = StringField(_l("事项"), validators=[InputRequired(message=_l("请选择事项。")), Length(max=200)])
    role = StringField(_l("角色"), validators=[AnyOf(ROLES, message=_l("请选择授权角色。"))])


class ActionForm(FlaskForm):  # type: ignore[misc]
    """Only the CSRF token (revoke, approve): a state change another site must not trigger."""


class DecisionForm(FlaskForm):  # type: ignore[misc]
    decision = StringField(validators=[AnyOf(("approve", "reject"))])
    reason = StringField(_l("驳回原因"), filters=[_strip], validators=[Optional(), Length(max=500)])
