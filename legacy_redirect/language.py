"""Which language a visitor reads: the switch (``?lang=``), then its cookie, then
``Accept-Language``, then the configured default (Chinese)."""

from __future__ import annotations

from collections.abc import Mapping

from werkzeug.datastructures import LanguageAccept

from legacy_redirect.config import LOCALES

COOKIE_NAME = "legacy_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
HTML_LANG = {"zh": "zh-CN", "en": "en"}


def switch_choice(args: Mapping[str, str]) -> str | None:
    """The language explicitly chosen with the switch, if it is one we offer."""
    value = args.get("lang", "")
    return value if value in LOCALES else None


def choose_locale(
    args: Mapping[str, str],
    cookies: Mapping[str, str],
    accept: LanguageAccept,
    default: str,
) -> str:
    chosen = switch_choice(args)
    if chosen:
        return chosen
    remembered = cookies.get(COOKIE_NAME, "")
    if remembered in LOCALES:
        return remembered
    return accept.best_match(LOCALES) or default
