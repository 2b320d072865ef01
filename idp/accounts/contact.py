"""Mobiles and e-mail addresses of accounts, and changing them (我的信息 · 更改联系方式).

A change needs the current password and a code sent to the new contact, and the old contact is
told afterwards (SECURITY.md "Reset and contact changes"). The two steps are bound to the browser
and to the signed-in account by a flow ticket; the new contact is written, confirmed, in one
transaction with its audit row.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from idp.accounts import N_
from idp.accounts.codes import CodePurpose, FlowTickets, OneTimeCodes
from idp.accounts.models import User
from idp.accounts.services import AccountService, Client
from idp.audit.services import record
from idp.errors import Conflict, InvalidInput
from idp.notify.outbox import masked
from idp.notify.sender import Channel, Sender
from idp.notify.texts import code_message, contact_changed_message
from idp.notify.wiring import send_in_background

MAX_EMAIL_LENGTH = 254
#: An address codes can go to: the dot-atom form of RFC 5322 section 3.4.1 (no quoted local parts,
#: no comments, no address literals), which every mail system delivers to and no header can abuse.
EMAIL_ADDRESS = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
MAX_LOCAL_PART = 64
#: A mainland mobile, with an optional +86 / 0086 / 86 country prefix (spaces and hyphens removed).
MOBILE_PATTERN = re.compile(r"(?:\+86|0086|86)?(1[3-9][0-9]{9})")
#: Times in notices are Beijing time, as people there read them.
BEIJING = timezone(timedelta(hours=8))


@dataclass(frozen=True)
class Contact:
    """A normalised mobile (``channel`` ``sms``, 11 digits) or e-mail address (``email``)."""

    channel: Channel
    value: str

    @property
    def key(self) -> str:
        """The form codes and throttles are bound to: e-mail addresses compare without case."""
        return self.value.casefold() if self.channel == "email" else self.value

    def masked(self) -> str:
        return masked(self.value, self.channel)


def parse_contact(text: str) -> Contact:
    """A mobile or an e-mail address from what a person typed, or InvalidInput."""
    problem = InvalidInput(N_("请输入正确的手机号码或电子邮箱。"), "bad contact")
    raw = unicodedata.normalize("NFKC", text[: MAX_EMAIL_LENGTH + 1]).strip()
    if not raw or len(raw) > MAX_EMAIL_LENGTH or not raw.isprintable():
        raise problem
    if "@" in raw:
        local, _, domain = raw.rpartition("@")
        if not EMAIL_ADDRESS.fullmatch(raw) or len(local) > MAX_LOCAL_PART:
            raise problem
        return Contact("email", f"{local}@{domain.lower()}")
    match = MOBILE_PATTERN.fullmatch(re.sub(r"[ \-]", "", raw))
    if match is None:
        raise problem
    return Contact("sms", match.group(1))


def _parsed(text: str | None) -> Contact | None:
    if not text:
        return None
    try:
        return parse_contact(text)
    except InvalidInput:
        return None


def contacts_of(user: User, confirmed_only: bool = True) -> list[Contact]:
    """The account's mobile and e-mail address (only confirmed ones unless ``confirmed_only`` is False)."""
    found = []
    if user.phone_number and (user.phone_number_verified or not confirmed_only):
        mobile = _parsed(user.phone_number)
        if mobile is not None and mobile.channel == "sms":
            found.append(mobile)
    if user.email and (user.email_verified or not confirmed_only):
        email = _parsed(user.email)
        if email is not None and email.channel == "email":
            found.append(email)
    return found


@dataclass(frozen=True)
class ContactChanged:
    contact: Contact
    #: How many earlier contacts were sent a notice of the change.
    told: int


class ContactChangeService:
    KIND = "contact-change"

    def __init__(self, accounts: AccountService, codes: OneTimeCodes, sender: Sender) -> None:
        self.accounts = accounts
        self.codes = codes
        self.sender = sender
        self.tickets = FlowTickets(accounts.store, self.KIND)

    def request_code(self, user_id: str, password: str, new_contact: str, client: Client) -> str:
        """Check the password, send a code to the new contact; the ticket of the pending change."""
        contact = parse_contact(new_contact)
        user = self.accounts.confirm_password(user_id, password, client)
        if any(c.channel == contact.channel and c.key == contact.key for c in contacts_of(user)):
            raise Conflict(N_("新的联系方式与当前的相同。"), "same contact")
        code = self.codes.issue(CodePurpose.CONTACT, contact.key, client.ip or "", user.id)
        subject, body = code_message(
            CodePurpose.CONTACT.value, code, self.codes.limits.ttl // 60, contact.channel
        )
        self.sender.send(contact.value, contact.channel, subject, body)
        return self.tickets.open(
            {"user": user.id, "channel": contact.channel, "contact": contact.value}, self.codes.limits.ttl
        )

    def pending(self, ticket: str | None, user_id: str) -> Contact | None:
        """The new contact waiting for its code, if ``ticket`` belongs to ``user_id``."""
        data = self.tickets.read(ticket)
        if data is None or data.get("user") != user_id:
            return None
        return _parsed(data.get("contact"))

    def confirm(self, ticket: str, user_id: str, code: str, client: Client) -> ContactChanged:
        """Accept the code, write the new contact (confirmed) and tell the old one."""
        data = self.tickets.read(ticket)
        contact = _parsed(data.get("contact")) if data is not None and data.get("user") == user_id else None
        if data is None or contact is None:
            raise InvalidInput(N_("操作已过期,请重新开始。"), "no pending contact change")
        self.codes.verify(CodePurpose.CONTACT, contact.key, code, user_id)
        if not self.tickets.take(ticket, data):
            raise InvalidInput(N_("操作已过期,请重新开始。"), "contact change already finished")
        with self.accounts.db.transaction() as session:
            user = session.get(User, user_id)
            if user is None or user.disabled:
                raise InvalidInput(N_("账号不存在或已停用。"), "account vanished")
            before = contacts_of(user, confirmed_only=False)
            if contact.channel == "email":
                user.email, user.email_verified = contact.value, True
            else:
                user.phone_number, user.phone_number_verified = contact.value, True
            record(
                session,
                event="contact.changed",
                actor=user.id,
                ip=client.ip,
                request_id=client.request_id,
                target=user.id,
                channel=contact.channel,
                new=contact.masked(),
                old=[c.masked() for c in before if c.channel == contact.channel],
            )
            username = user.username
        return ContactChanged(contact, self._tell_old(before, contact, username))

    def _tell_old(self, before: list[Contact], new: Contact, username: str) -> int:
        # The old contact of the same kind; with none, the other kind, so the person hears of it.
        same = [c for c in before if c.channel == new.channel and c.key != new.key]
        targets = same or [c for c in before if c.channel != new.channel]
        when = datetime.now(UTC).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")
        for old in targets:
            subject, body = contact_changed_message(username, new.channel, new.masked(), when, old.channel)
            send_in_background(self.sender, old.value, old.channel, subject, body)
        return len(targets)
