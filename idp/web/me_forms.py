"""Forms of 我的信息 and the real-name pages, and the display values of a person's profile.

Form classes only bound lengths and mark the required (*) fields; the rules of the profile (valid
choices, ID number checksums, which document fits which region type) belong to
:class:`idp.realname.services.ProfileService`, whose per-field problems the page shows beside the
fields. Choices are rendered from :mod:`idp.realname.reference`, so the form and the service share
one list.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import AnyOf, InputRequired, Length, Optional, ValidationError

from idp.accounts.models import User
from idp.realname.masking import mask_mobile
from idp.realname.models import PersonProfile
from idp.realname.reference import (
    CONTINENTS,
    COUNTRIES,
    DOCUMENT_TYPES,
    ETHNICITIES,
    REGION_TYPES,
    Continent,
    Country,
    DocumentType,
    Ethnicity,
    Gender,
    RegionType,
    continent,
    country,
    ethnicity,
)
from idp.realname.review import SIDES
from idp.realname.services import IDENTITY_FIELDS, MAX_TEXT, ProfileInput
from idp.realname.status import RealnameStatus
from idp.web.i18n import current_language, translate

#: Fields marked with * on the form (the walkthrough: 带*号的为必填项).
REQUIRED_FIELDS = (
    "name",
    "gender",
    "birth_date",
    "region_type",
    "document_type",
    "id_number",
    "continent",
    "country",
)
#: Identity fields as the form names them (``id_number`` is never shown in full, see below).
LOCKED_WHEN_PROVEN = IDENTITY_FIELDS
MAX_ID_NUMBER = 32
MAX_CODE = 40
MAX_DATE = 10


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


def _most(limit: int) -> Length:
    return Length(max=limit, message=_l("内容过长,最多 %(max)d 个字符。"))


class ProfileForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF ships no type information
    """修改个人信息. Every field is bounded; values are checked by the profile service."""

    name = StringField(
        _l("姓名"),
        filters=[_strip],
        validators=[InputRequired(message=_l("请填写姓名。")), _most(MAX_TEXT["name"])],
    )
    gender = StringField(_l("性别"), validators=[InputRequired(message=_l("请选择性别。")), _most(MAX_CODE)])
    ethnicity = StringField(_l("民族"), validators=[Optional(), _most(MAX_CODE)])
    position = StringField(_l("职务"), filters=[_strip], validators=[Optional(), _most(MAX_TEXT["position"])])
    birth_date = StringField(
        _l("出生日期"),
        filters=[_strip],
        validators=[InputRequired(message=_l("请填写出生日期。")), _most(MAX_DATE)],
    )
    landline = StringField(_l("电话"), filters=[_strip], validators=[Optional(), _most(MAX_TEXT["landline"])])
    region_type = StringField(
        _l("类型"), validators=[InputRequired(message=_l("请选择类型。")), _most(MAX_CODE)]
    )
    document_type = StringField(
        _l("证件类型"), validators=[InputRequired(message=_l("请选择证件类型。")), _most(MAX_CODE)]
    )
    id_number = StringField(
        # No Optional(): it would stop validate_id_number, which decides whether blank is allowed.
        _l("证件号码"),
        filters=[_strip],
        validators=[_most(MAX_ID_NUMBER)],
    )
    id_valid_from = StringField(_l("有效期起"), filters=[_strip], validators=[Optional(), _most(MAX_DATE)])
    id_valid_to = StringField(_l("有效期止"), filters=[_strip], validators=[Optional(), _most(MAX_DATE)])
    continent = StringField(
        _l("所属大洲"), validators=[InputRequired(message=_l("请选择所属大洲。")), _most(MAX_CODE)]
    )
    country = StringField(
        _l("所属国家"), validators=[InputRequired(message=_l("请选择所属国家。")), _most(MAX_CODE)]
    )
    address = StringField(
        _l("详细地址"), filters=[_strip], validators=[Optional(), _most(MAX_TEXT["address"])]
    )

    #: Set by the view: a number is on file, so a blank field keeps it.
    has_stored_number = False

    def validate_id_number(self, field: StringField) -> None:
        if not field.data and not self.has_stored_number:
            raise ValidationError(gettext("请填写证件号码。"))

    def lock_identity(self, stored: dict[str, str]) -> None:
        """Use the stored identity values whatever was posted (the inputs are disabled once proven)."""
        for name in LOCKED_WHEN_PROVEN:
            if name != "id_number":
                getattr(self, name).data = stored.get(name, "")
        self.id_number.data = ""

    def to_input(self) -> ProfileInput:
        """The posted values; a blank ID number keeps the one on file."""
        values = {
            f.name: str(getattr(self, f.name).data or "") for f in fields(ProfileInput) if f.type == "str"
        }
        return ProfileInput(**values, keep_id_number=True)


class UploadForm(FlaskForm):  # type: ignore[misc]
    """One side of the ID card; the file itself is read from ``request.files`` by the view."""

    side = HiddenField(validators=[AnyOf(SIDES, message=_l("请选择正面或反面。"))])


class ConfirmForm(FlaskForm):  # type: ignore[misc]
    """Only the CSRF token: 提交 changes the real-name status."""


class DecisionForm(FlaskForm):  # type: ignore[misc]
    """A reviewer's approval or rejection; the service requires a reason to reject."""

    decision = HiddenField(validators=[AnyOf(("approve", "reject"), message=_l("请选择通过或驳回。"))])
    reason = TextAreaField(
        _l("审核意见"), filters=[_strip], validators=[Length(max=500, message=_l("审核意见过长。"))]
    )


# --- choices -------------------------------------------------------------------------------------


def _name(item: Ethnicity | RegionType | DocumentType | Continent | Country) -> str:
    return item.name_zh if current_language() == "zh" else item.name_en


def gender_name(value: str | None) -> str:
    names = {Gender.MALE.value: gettext("男"), Gender.FEMALE.value: gettext("女")}
    return str(names.get(value or "", ""))


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    #: For the script that narrows the list: the region type / continent the option belongs to.
    group: str = ""


def choices() -> dict[str, Any]:
    """Every option list of the form, labelled in the page's language."""
    return {
        "genders": [Choice(g.value, gender_name(g.value)) for g in Gender],
        "ethnicities": [Choice(e.code, _name(e)) for e in ETHNICITIES],
        "region_types": [Choice(r.value, _name(r)) for r in REGION_TYPES],
        "document_types": [
            Choice(d.value, _name(d), " ".join(r.value for r in d.region_types)) for d in DOCUMENT_TYPES
        ],
        "continents": [Choice(c.code, _name(c)) for c in CONTINENTS],
        "countries": [
            (
                _name(c),
                c.code,
                [Choice(n.code, _name(n), c.code) for n in COUNTRIES if n.continent == c.code],
            )
            for c in CONTINENTS
            if any(n.continent == c.code for n in COUNTRIES)
        ],
    }


# --- what 我的信息 shows -------------------------------------------------------------------------


def _iso(value: date | None) -> str:
    return value.isoformat() if value else ""


def stored_values(user: User, profile: PersonProfile) -> dict[str, str]:
    """The form's initial values: everything except the ID number, which pages never show in full."""
    return {
        "name": user.name or "",
        "gender": profile.gender or "",
        "ethnicity": profile.ethnicity or "",
        "position": profile.position or "",
        "birth_date": _iso(profile.birth_date),
        "landline": profile.landline or "",
        "region_type": profile.region_type or "",
        "document_type": profile.document_type or "",
        "id_number": "",
        "id_valid_from": _iso(profile.id_valid_from),
        "id_valid_to": _iso(profile.id_valid_to),
        "continent": profile.continent or "",
        "country": profile.country or "",
        "address": profile.address or "",
    }


def _reference_name(found: Any) -> str:
    return _name(found) if found is not None else ""


def validity(start: date | None, end: date | None) -> str:
    """身份证有效日期 as the platform writes it: ``2016-11-11 至 2036-11-11``."""
    if start is None and end is None:
        return ""
    until = _iso(end) if end else gettext("长期")
    return str(gettext("%(start)s 至 %(end)s", start=_iso(start), end=until))


def profile_display(user: User, profile: PersonProfile, masked_number: str | None) -> dict[str, str]:
    """Display values of 自然人用户基本信息; the mobile and the ID number masked."""
    region = RegionType(profile.region_type) if profile.region_type in set(RegionType) else None
    return {
        "username": user.username,
        "name": user.name or "",
        "gender": gender_name(profile.gender),
        "ethnicity": _reference_name(ethnicity(profile.ethnicity or "")),
        "position": profile.position or "",
        "birth_date": _iso(profile.birth_date),
        "email": user.email or "",
        "mobile": mask_mobile(user.phone_number) if user.phone_number else "",
        "landline": profile.landline or "",
        "region_type": _reference_name(region),
        "document_type": document_type_name(profile.document_type),
        "id_number": masked_number or "",
        "validity": validity(profile.id_valid_from, profile.id_valid_to),
        "continent": _reference_name(continent(profile.continent or "")),
        "country": _reference_name(country(profile.country or "")),
        "address": profile.address or "",
    }


def document_type_name(code: str | None) -> str:
    return _name(DocumentType(code)) if code in set(DocumentType) else ""


def incomplete(display: dict[str, str]) -> bool:
    """Whether a required field is still empty (the page then asks to complete the profile)."""
    return any(not display[name] for name in REQUIRED_FIELDS)


def status_label(status: str) -> str:
    """The platform's wording of a real-name status (实名认证状态: ...)."""
    labels: dict[RealnameStatus, str] = {
        RealnameStatus.UNVERIFIED: gettext("未实名认证"),
        RealnameStatus.VERIFIED: gettext("国家平台实名认证通过"),
        RealnameStatus.FAILED: gettext("实名认证未通过"),
        RealnameStatus.PENDING_REVIEW: gettext("实名认证审核中"),
        RealnameStatus.REVIEWED: gettext("已审核认证"),
    }
    try:
        return labels[RealnameStatus(status)]
    except ValueError:
        return labels[RealnameStatus.UNVERIFIED]


# --- service messages ----------------------------------------------------------------------------


def public_message(text: str) -> str:
    """A service's public message in the page's language (see :func:`idp.web.i18n.translate`)."""
    return translate(text)
