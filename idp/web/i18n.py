"""Interface language: Chinese by default, English on request.

The language is, in order: ``?lang=zh|en`` on the URL (then remembered in the ``lang`` cookie), the
``lang`` cookie, the browser's ``Accept-Language``, and finally ``settings.default_locale``. The
message ids of the catalogs are the Chinese texts, so Chinese needs no catalog of its own.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, g, request, url_for
from flask_babel import Babel, get_locale, gettext
from werkzeug.routing import BuildError

from idp.context import services

LANGUAGES = ("zh", "en")
COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
#: The ``lang`` attribute of pages, per interface language.
HTML_LANG = {"zh": "zh-CN", "en": "en"}


def select_locale() -> str:
    chosen = request.args.get("lang", "")
    if chosen in LANGUAGES:
        g.lang_chosen = chosen
        return chosen
    remembered = request.cookies.get(COOKIE, "")
    if remembered in LANGUAGES:
        return remembered
    default = services().settings.default_locale
    best = request.accept_languages.best_match(LANGUAGES)
    return best or (default if default in LANGUAGES else LANGUAGES[0])


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale is not None and locale.language in LANGUAGES else LANGUAGES[0]


# Some services (real names, the password policy, credit codes) write "中文。 English." in one string:
# sentences break at whitespace after a terminator; each belongs to the language most of it is in.
_SENTENCE_BREAK = re.compile(r"(?<=[。！？.!?])\s+")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")


def _is_chinese(sentence: str) -> bool:
    if sentence.endswith(("。", "！", "？")):
        return True
    return len(_HAN.findall(sentence)) > len(_LATIN.findall(sentence))


def translate(text: str) -> str:
    """A message that a service produced, in the page's language.

    Either a Chinese message id (marked with ``N_``), looked up in the catalog, or a bilingual
    "中文。 English." text, of which the half in the page's language is shown. Unknown texts pass
    unchanged.
    """
    if not text:
        return text
    sentences = _SENTENCE_BREAK.split(text.strip())
    chinese = [s for s in sentences if _is_chinese(s)]
    english = [s for s in sentences if not _is_chinese(s)]
    if not chinese or not english:
        return str(gettext(text))
    return "".join(chinese) if current_language() == "zh" else " ".join(english)


def language_url(code: str) -> str:
    """The current page in language ``code``; only real endpoints of this site, never the raw path."""
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k != "lang"}
    args.update(request.view_args or {})
    args["lang"] = code
    if request.url_rule is not None and request.endpoint:
        try:
            return url_for(request.endpoint, **args)
        except BuildError:
            pass
    return "/?" + urlencode({"lang": code})


def _remember_choice(response: Response) -> Response:
    chosen: str | None = g.get("lang_chosen")
    if chosen:
        response.set_cookie(
            COOKIE,
            chosen,
            max_age=COOKIE_MAX_AGE,
            secure=services().settings.https,
            httponly=True,
            samesite="Lax",
            path="/",
        )
    return response


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", _default_locale(app))
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai")
    Babel(app, locale_selector=select_locale)
    app.after_request(_remember_choice)
    app.jinja_env.globals.update(
        language_url=language_url,
        current_language=current_language,
        html_lang=lambda: HTML_LANG[current_language()],
        translate=translate,
    )


def _default_locale(app: Flask) -> str:
    default: str = app.extensions["idp"].settings.default_locale
    return default if default in LANGUAGES else LANGUAGES[0]
