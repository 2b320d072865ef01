"""The Chinese catalogue is complete, compiled, and covers every message the templates use."""

from __future__ import annotations

import gettext
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

PACKAGE = Path(__file__).resolve().parents[2] / "legacy_redirect"
PO = PACKAGE / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")


def load_po() -> dict[str, str]:
    with PO.open("rb") as f:
        catalog = read_po(f)
    return {str(m.id): str(m.string) for m in catalog if m.id and not m.fuzzy}


def test_every_message_is_translated() -> None:
    translations = load_po()
    assert translations
    assert all(translations.values()), [k for k, v in translations.items() if not v]


def test_compiled_catalogue_matches_the_source() -> None:
    with MO.open("rb") as f:
        compiled = gettext.GNUTranslations(f)
    for msgid, msgstr in load_po().items():
        assert compiled.gettext(msgid) == msgstr, msgid


def test_every_extracted_message_is_in_the_catalogue() -> None:
    method_map = [("**.py", "python"), ("templates/*.html", "jinja2")]
    extracted = {str(message[2]) for message in extract_from_dir(str(PACKAGE), method_map)}
    assert extracted
    assert extracted <= set(load_po()), extracted - set(load_po())


def test_placeholders_survive_translation() -> None:
    for msgid, msgstr in load_po().items():
        for placeholder in ("%(phone)s", "%(document)s"):
            assert (placeholder in msgid) == (placeholder in msgstr), msgid
