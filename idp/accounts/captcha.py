"""Image captchas for the sign-in form.

Rules (SECURITY.md "Sign-in"): an answer is checked on the server only, is bound to the form it was
shown on, lives :data:`TTL_SECONDS` (about two minutes), is usable once and is discarded after a
wrong answer. The image is rendered once and kept beside the answer, so reloading it shows the same
picture rather than handing out fresh distortions of one answer to an OCR script.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from functools import cache

from captcha.image import ImageCaptcha

from idp.store import EphemeralStore

TTL_SECONDS = 120
LENGTH = 4
#: Digits and capitals without look-alikes (0/O, 1/I/L, 2/Z, 5/S, 8/B) so people can read them.
ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"
ID_PATTERN = re.compile(r"[0-9a-f]{32}")
#: Form names are short identifiers such as ``login`` or ``register``.
FORM_PATTERN = re.compile(r"[a-z][a-z0-9_-]{0,31}")
#: Longest answer looked at; anything longer is simply wrong.
MAX_ANSWER_LENGTH = 16


@cache
def _renderer() -> ImageCaptcha:
    return ImageCaptcha(width=130, height=48, font_sizes=(34, 38, 40))


def _answer_key(captcha_id: str) -> str:
    return f"captcha:{{{captcha_id}}}"


def _image_key(captcha_id: str) -> str:
    return f"captcha:{{{captcha_id}}}:png"


class CaptchaService:
    def __init__(self, store: EphemeralStore, ttl: int = TTL_SECONDS) -> None:
        self.store = store
        self.ttl = ttl

    def new(self, form_id: str) -> tuple[str, bytes]:
        """A new captcha for the form named ``form_id``: its id and its PNG image."""
        if not FORM_PATTERN.fullmatch(form_id):
            raise ValueError("form_id must be a short lowercase identifier")
        captcha_id = secrets.token_hex(16)
        answer = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        png = _renderer().generate(answer, format="png").getvalue()
        self.store.put(_answer_key(captcha_id), f"{form_id}|{answer}", self.ttl)
        self.store.put(_image_key(captcha_id), base64.b64encode(png).decode("ascii"), self.ttl)
        return captcha_id, png

    def image(self, captcha_id: str) -> bytes | None:
        """The PNG of a live captcha, or None (unknown, expired or already used)."""
        if not ID_PATTERN.fullmatch(captcha_id):
            return None
        encoded = self.store.get(_image_key(captcha_id))
        if encoded is None:
            return None
        try:
            return base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            return None

    def verify(self, captcha_id: str, form_id: str, answer: str) -> bool:
        """Check ``answer`` once: the captcha is consumed whether the answer is right or wrong."""
        if not ID_PATTERN.fullmatch(captcha_id):
            return False
        stored = self.store.consume(_answer_key(captcha_id))
        self.store.delete(_image_key(captcha_id))
        if stored is None:
            return False
        bound_form, _, expected = stored.partition("|")
        given = answer.strip()
        if len(given) > MAX_ANSWER_LENGTH:
            return False
        form_ok = secrets.compare_digest(bound_form.encode("utf-8"), form_id.encode("utf-8"))
        answer_ok = secrets.compare_digest(given.upper().encode("utf-8"), expected.encode("utf-8"))
        return form_ok and answer_ok
