"""Web forms: 组团单位信息 and the record of a competent-department user.

Each field runs the same rule as the service (:mod:`training_rp.validation`), so the form shows
the message a later check would give, next to the field it belongs to.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import gettext, lazy_gettext
from flask_wtf import FlaskForm
from wtforms import Field, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from training_rp import validation
from training_rp.errors import InvalidInput
from training_rp.services.accounts import PersonInput, UnitInput

ACTIVE_CHOICES = [SelectChoice("1", lazy_gettext("有效")), SelectChoice("0", lazy_gettext("无效"))]


class Rule:
    """A WTForms validator running one rule of :mod:`training_rp.validation`."""

    def __init__(self, rule: Callable[[str | None], Any], optional: bool = False) -> None:
        self.rule = rule
        self.optional = optional

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if self.optional and not (field.data or "").strip():
            return
        try:
            self.rule(field.data)
        except InvalidInput as exc:
            raise ValidationError(gettext(exc.public)) from exc


def _phone(field: str, required: bool) -> Callable[[str | None], Any]:
    return lambda value: validation.phone(value, field, required)


class UnitForm(FlaskForm):  # type: ignore[misc]
    """组团单位信息; on edit a blank 身份证号 keeps the recorded one."""

    unit_name = StringField(lazy_gettext("单位名称"), validators=[Rule(validation.unit_name)])
    username = StringField(
        lazy_gettext("登录用户名"),
        validators=[Rule(validation.username)],
        render_kw={"placeholder": lazy_gettext("请输入英文字母和数字,请勿加特殊符号")},
    )
    contact = StringField(
        lazy_gettext("联系人"), validators=[Rule(lambda v: validation.person_name(v, "contact"))]
    )
    office_phone = StringField(lazy_gettext("办公电话"), validators=[Rule(_phone("office_phone", True))])
    mobile = StringField(lazy_gettext("移动电话"), validators=[Rule(validation.mobile)])
    fax = StringField(lazy_gettext("传真"), validators=[Rule(_phone("fax", False))])
    email = StringField(lazy_gettext("电子邮件"), validators=[Rule(validation.email)])
    active = SelectField(lazy_gettext("有效性"), choices=ACTIVE_CHOICES, default="1")
    id_number = StringField(lazy_gettext("身份证号"), render_kw={"autocomplete": "off"})

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.id_number.validators = [Rule(validation.id_number, optional=editing)]

    def to_input(self) -> UnitInput:
        return UnitInput(
            unit_name=self.unit_name.data or "",
            username=self.username.data or "",
            contact=self.contact.data or "",
            office_phone=self.office_phone.data or "",
            mobile=self.mobile.data or "",
            fax=self.fax.data or "",
            email=self.email.data or "",
            active=self.active.data == "1",
            id_number=(self.id_number.data or "").strip() or None,
        )


class PersonForm(FlaskForm):  # type: ignore[misc]
    """A competent-department user as 引智司 records them: name, department, ID number."""

    name = StringField(lazy_gettext("姓名"), validators=[Rule(validation.person_name)])
    department = StringField(lazy_gettext("所在部门"), validators=[Rule(validation.department)])
    active = SelectField(lazy_gettext("有效性"), choices=ACTIVE_CHOICES, default="1")
    id_number = StringField(lazy_gettext("身份证号"), render_kw={"autocomplete": "off"})

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.id_number.validators = [Rule(validation.id_number, optional=editing)]

    def to_input(self) -> PersonInput:
        return PersonInput(
            name=self.name.data or "",
            department=self.department.data or "",
            id_number=(self.id_number.data or "").strip() or None,
            active=self.active.data == "1",
        )
