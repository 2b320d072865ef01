"""Natural- and legal-person accounts: the user model, password hashing, sign-in throttling and captchas.

Services here never import Flask. Their :class:`idp.errors.DomainError` messages are Chinese texts
marked with :func:`N_`; the web layer translates them when it renders them, so the same message
reads in English on an English page.
"""

from __future__ import annotations


def N_(text: str) -> str:
    """Mark ``text`` for the translation catalog without translating it here."""
    return text
