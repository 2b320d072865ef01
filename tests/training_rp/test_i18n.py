"""Chinese by default, English available, and every interface text has its English translation."""

from __future__ import annotations

import html
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient

from tests.training_rp.forging_issuer import ForgingIssuer
from tests.training_rp.helpers import sign_in

PACKAGE = Path(__file__).resolve().parents[2] / "training_rp"


def test_every_message_has_an_english_translation() -> None:
    method_map = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "N_": None, "lazy_gettext": None}
    ids = {
        message for _f, _l, message, _c, _x in extract_from_dir(str(PACKAGE), method_map, keywords=keywords)
    }
    with (PACKAGE / "translations/en/LC_MESSAGES/messages.po").open("rb") as f:
        catalog = read_po(f)
    translated = {m.id for m in catalog if m.id and m.string}
    assert ids - translated == set(), "run the pybabel commands in training_rp/babel.cfg"
    assert (PACKAGE / "translations/en/LC_MESSAGES/messages.mo").is_file(), "compile the catalog"


def test_chinese_is_the_default_and_english_is_one_click_away(app: Flask, client: FlaskClient) -> None:
    assert "登录" in client.get("/").data.decode()
    client.get("/lang/en")
    page = client.get("/").data.decode()
    assert "Sign in" in page and "Overseas Training Program Application and Management System" in page
    assert "登录前须在平台完成实名认证" not in page


def test_refusals_are_translated_too(app: Flask, client: FlaskClient, issuer: ForgingIssuer) -> None:
    client.get("/lang/en")
    issuer.person.realname_status = "unverified"
    text = html.unescape(sign_in(client).data.decode())
    assert "You have not completed real-name verification" in text
