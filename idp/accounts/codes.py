"""One-time codes sent to a mobile or an e-mail address, and the tickets of the flows they unlock.

Rules (SECURITY.md "Sign-in" and "Personal data and logs", NIST SP 800-63B section 5.1.3):

* six random digits, valid :attr:`CodeLimits.ttl` seconds (ten minutes), usable once;
* stored only as an HMAC (keyed with the application secret) under a key derived from what the code
  is for: the purpose, the contact and, where there is one, the account. A code sent for one
  purpose, contact or account is never accepted for another;
* at most :attr:`CodeLimits.max_tries` wrong entries; the last wrong one discards the code. The
  tries are counted atomically before the comparison, so parallel guesses cannot slip past the limit;
* sending is throttled per contact (a pause between two codes and a cap per window) and per client
  IP, whatever the purpose, so the platform cannot be used to flood a phone or a mailbox;
* the store failing makes every call fail (:class:`idp.errors.StoreUnavailable`): no code that
  cannot be made single use;
* a code is never logged and never written to the audit log; callers hand it to the sender only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from idp.accounts import N_
from idp.accounts.throttle import ip_tag
from idp.errors import DomainError, InvalidInput
from idp.store import EphemeralStore

DIGITS = 6
CODE_PATTERN = re.compile(r"[0-9]{6}")


class CodePurpose(StrEnum):
    REGISTER = "register"
    RESET = "reset"
    CONTACT = "contact"


@dataclass(frozen=True)
class CodeLimits:
    #: Seconds a code stays valid.
    ttl: int = 600
    #: Wrong entries before the code is discarded.
    max_tries: int = 5
    #: Seconds between two codes to the same contact.
    resend_after: int = 60
    #: Codes to one contact within ``window``.
    per_contact: int = 5
    #: Codes requested from one client IP within ``window``.
    per_ip: int = 20
    #: Seconds of the sending counters.
    window: int = 3600


class CodeThrottled(DomainError):
    status_code = 429

    def __init__(self, detail: str) -> None:
        super().__init__(N_("获取验证码过于频繁,请稍后再试。"), detail)


class CodeRejected(InvalidInput):
    """The code entered is not the one sent (``expired`` False) or there is no usable code any more."""

    def __init__(self, expired: bool, detail: str) -> None:
        message = N_("验证码已失效,请重新获取。") if expired else N_("验证码错误,请重新输入。")
        super().__init__(message, detail)
        self.expired = expired


def normalise_code(text: str) -> str | None:
    """The six ASCII digits a person meant (full-width digits from a Chinese keyboard count), or None."""
    folded = unicodedata.normalize("NFKC", text[:32]).strip().replace(" ", "")
    return folded if CODE_PATTERN.fullmatch(folded) else None


class OneTimeCodes:
    def __init__(self, store: EphemeralStore, secret: str, limits: CodeLimits | None = None) -> None:
        self.store = store
        self.limits = limits or CodeLimits()
        # A key of its own, so a code's HMAC says nothing under any other use of the secret.
        self._key = hashlib.sha256(b"idp one-time codes\0" + secret.encode("utf-8")).digest()

    # --- keys -----------------------------------------------------------------------------------------

    @staticmethod
    def _binding(purpose: CodePurpose, contact_key: str, user_id: str | None) -> str:
        material = "\0".join((purpose.value, contact_key, user_id or ""))
        return hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]

    @staticmethod
    def _contact_tag(contact_key: str) -> str:
        return hashlib.sha256(contact_key.encode("utf-8")).hexdigest()[:32]

    def _digest(self, binding: str, code: str) -> str:
        return hmac.new(self._key, f"{binding}\0{code}".encode("ascii"), hashlib.sha256).hexdigest()

    # --- sending ----------------------------------------------------------------------------------------

    def sent_from(self, ip: str) -> int:
        """Codes requested from ``ip`` within the window (for showing a captcha after a few)."""
        return int(self.store.get(f"otp-send:{{ip:{ip_tag(ip)}}}") or 0)

    def issue(self, purpose: CodePurpose, contact_key: str, ip: str, user_id: str | None = None) -> str:
        """A new code for ``purpose`` at ``contact_key`` (replacing an earlier one), or CodeThrottled.

        ``contact_key`` is the normalised contact (see :mod:`idp.accounts.contact`).
        """
        limits = self.limits
        # The IP is counted first and on every request, so a client over its limit stays there.
        if self.store.incr(f"otp-send:{{ip:{ip_tag(ip)}}}", limits.window) > limits.per_ip:
            raise CodeThrottled("client IP over the code limit")
        tag = self._contact_tag(contact_key)
        if not self.store.add(f"otp-send:{{c:{tag}}}:wait", "1", limits.resend_after):
            raise CodeThrottled("contact asked again within the pause")
        if self.store.incr(f"otp-send:{{c:{tag}}}:count", limits.window) > limits.per_contact:
            raise CodeThrottled("contact over the code limit")
        code = f"{secrets.randbelow(10**DIGITS):0{DIGITS}d}"
        binding = self._binding(purpose, contact_key, user_id)
        self.store.put(f"otp:{{{binding}}}", self._digest(binding, code), limits.ttl)
        self.store.delete(f"otp:{{{binding}}}:tries")
        return code

    # --- checking ---------------------------------------------------------------------------------------

    def verify(self, purpose: CodePurpose, contact_key: str, given: str, user_id: str | None = None) -> None:
        """Accept ``given`` once, or raise CodeRejected (wrong, expired, used up or already used)."""
        code = normalise_code(given)
        if code is None:
            # Not six digits: a typing slip, not a guess; it costs no try.
            raise InvalidInput(N_("验证码为 6 位数字。"), "malformed code")
        binding = self._binding(purpose, contact_key, user_id)
        key = f"otp:{{{binding}}}"
        tries = self.store.incr(f"{key}:tries", self.limits.ttl)
        stored = self.store.get(key)
        if stored is None:
            raise CodeRejected(True, "no live code")
        if tries > self.limits.max_tries:
            self.store.delete(key)
            raise CodeRejected(True, "tries used up")
        if not hmac.compare_digest(stored, self._digest(binding, code)):
            if tries >= self.limits.max_tries:
                self.store.delete(key)
                raise CodeRejected(True, "last try wrong")
            raise CodeRejected(False, "wrong code")
        # Of two requests with the right code, only the one that takes it from the store succeeds.
        if self.store.consume(key) != stored:
            raise CodeRejected(True, "used concurrently")
        self.store.delete(f"{key}:tries")


# --- tickets of the flows a code unlocks ------------------------------------------------------------------

TICKET_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")
TicketData = dict[str, str]


class FlowTickets:
    """Server-side state of a multi-step flow (registration, reset, contact change) for one browser.

    The browser holds only the ticket (256 random bits, in its signed session cookie); the store
    holds the state under the ticket's hash, so a dump of the store cannot be replayed as a cookie.
    Moving to the next step takes the state out of the store atomically: of two submissions of the
    same step only one proceeds, and a step cannot be repeated or skipped (SECURITY.md "Reset and
    contact changes").
    """

    def __init__(self, store: EphemeralStore, kind: str) -> None:
        self.store = store
        self.kind = kind

    def _key(self, ticket: str) -> str:
        return f"{self.kind}:{{{hashlib.sha256(ticket.encode('ascii')).hexdigest()[:32]}}}"

    def open(self, data: TicketData, ttl: int) -> str:
        ticket = secrets.token_urlsafe(32)
        self.store.put(self._key(ticket), json.dumps(data, sort_keys=True), ttl)
        return ticket

    def read(self, ticket: str | None) -> TicketData | None:
        if not isinstance(ticket, str) or not TICKET_PATTERN.fullmatch(ticket):
            return None
        return _parse(self.store.get(self._key(ticket)))

    def take(self, ticket: str, expected: TicketData) -> bool:
        """Remove the state if it still is ``expected``; False when another request moved it first."""
        if not TICKET_PATTERN.fullmatch(ticket):
            return False
        return _parse(self.store.consume(self._key(ticket))) == expected

    def advance(self, ticket: str, expected: TicketData, new: TicketData, ttl: int) -> bool:
        """Replace ``expected`` by ``new`` under the same ticket, once."""
        if not self.take(ticket, expected):
            return False
        self.store.put(self._key(ticket), json.dumps(new, sort_keys=True), ttl)
        return True

    def drop(self, ticket: str | None) -> None:
        if isinstance(ticket, str) and TICKET_PATTERN.fullmatch(ticket):
            self.store.delete(self._key(ticket))


def _parse(raw: str | None) -> TicketData | None:
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        return None
    return {str(k): v for k, v in data.items()}
