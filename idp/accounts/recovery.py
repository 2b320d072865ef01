"""忘记密码: resetting a forgotten password with a code sent to the account's confirmed contact.

The reset is a transaction on the server with explicit steps (:class:`ResetStep`), held in the
short-lived store under a ticket that only the browser that started it has:

``start`` -> :attr:`ResetStep.CODE_SENT` -> ``confirm_code`` -> :attr:`ResetStep.CODE_CONFIRMED`
-> ``set_password`` -> finished (the ticket is gone).

Each step checks the state it expects and moves it atomically, so no step can be skipped, repeated
or replayed (SECURITY.md "Reset and contact changes"). ``start`` answers the same way, with the same
work, whether or not the login name exists and the contact is its confirmed one: a code is made and
throttled in every case but sent only to the real owner, on a background thread, so neither the
answer nor its timing tells who has an account. After a reset every session of the person ends.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from idp.accounts import N_
from idp.accounts.codes import CodePurpose, CodeRejected, FlowTickets, OneTimeCodes, TicketData
from idp.accounts.contact import Contact, contacts_of, parse_contact
from idp.accounts.models import User
from idp.accounts.password_policy import check_password
from idp.accounts.services import AccountService, Client, validate_username
from idp.audit.services import record_event
from idp.errors import InvalidInput
from idp.notify.sender import Sender
from idp.notify.texts import code_message
from idp.notify.wiring import send_in_background


class ResetStep(StrEnum):
    CODE_SENT = "code_sent"
    CODE_CONFIRMED = "code_confirmed"


class ResetOutOfOrder(InvalidInput):
    """No reset in progress in this browser, or not at the step the request belongs to."""

    def __init__(self, detail: str) -> None:
        super().__init__(N_("重置密码的操作已过期或步骤不正确,请重新开始。"), detail)


class RecoveryService:
    KIND = "reset"

    def __init__(
        self,
        accounts: AccountService,
        codes: OneTimeCodes,
        sender: Sender,
        end_sessions: Callable[[str], None],
    ) -> None:
        self.accounts = accounts
        self.codes = codes
        self.sender = sender
        self.end_sessions = end_sessions
        self.tickets = FlowTickets(accounts.store, self.KIND)

    # --- step 1 ---------------------------------------------------------------------------------------

    def start(self, username: str, raw_contact: str, client: Client) -> str:
        """Begin a reset; the ticket for the browser. The same outcome for every well-formed input."""
        login = validate_username(username)
        contact = parse_contact(raw_contact)
        owner = self._owner(login, contact)
        owner_id = owner.id if owner is not None else None
        code = self.codes.issue(CodePurpose.RESET, contact.key, client.ip or "", owner_id)
        if owner is not None:
            subject, body = code_message(
                CodePurpose.RESET.value, code, self.codes.limits.ttl // 60, contact.channel
            )
            send_in_background(self.sender, contact.value, contact.channel, subject, body)
        record_event(
            self.accounts.db,
            event="password.reset.requested",
            actor=owner_id,
            ip=client.ip,
            request_id=client.request_id,
            target=owner_id,
            channel=contact.channel,
            matched=owner is not None,
        )
        return self.tickets.open(
            {
                "step": ResetStep.CODE_SENT.value,
                "user": owner_id or "",
                "channel": contact.channel,
                "contact": contact.value,
            },
            self.codes.limits.ttl,
        )

    def _owner(self, login: str, contact: Contact) -> User | None:
        user = self.accounts.find_by_username(login)
        if user is None or user.disabled:
            return None
        confirmed = contacts_of(user)
        return user if any(c.channel == contact.channel and c.key == contact.key for c in confirmed) else None

    # --- where a browser stands -----------------------------------------------------------------------

    def step(self, ticket: str | None) -> ResetStep | None:
        data = self.tickets.read(ticket)
        if data is None:
            return None
        try:
            return ResetStep(data.get("step", ""))
        except ValueError:
            return None

    def contact(self, ticket: str | None) -> Contact | None:
        """The contact the browser typed (shown masked on the code page)."""
        data = self.tickets.read(ticket)
        if data is None:
            return None
        try:
            return parse_contact(data.get("contact", ""))
        except InvalidInput:
            return None

    def _at(self, ticket: str, step: ResetStep) -> TicketData:
        data = self.tickets.read(ticket)
        if data is None or data.get("step") != step.value:
            raise ResetOutOfOrder(f"not at {step.value}")
        return data

    # --- step 2 ---------------------------------------------------------------------------------------

    def confirm_code(self, ticket: str, code: str, client: Client) -> None:
        data = self._at(ticket, ResetStep.CODE_SENT)
        contact = parse_contact(data.get("contact", ""))
        owner_id = data.get("user") or None
        self.codes.verify(CodePurpose.RESET, contact.key, code, owner_id)
        if owner_id is None:
            # No code was sent for this reset; a lucky guess must still lead nowhere.
            raise CodeRejected(True, "reset without an account")
        moved = self.tickets.advance(
            ticket, data, {**data, "step": ResetStep.CODE_CONFIRMED.value}, self.codes.limits.ttl
        )
        if not moved:
            raise ResetOutOfOrder("code step finished by another request")

    # --- step 3 ---------------------------------------------------------------------------------------

    def set_password(self, ticket: str, password: str, client: Client) -> User:
        data = self._at(ticket, ResetStep.CODE_CONFIRMED)
        user = self.accounts.get(data.get("user", ""))
        if user is None or user.disabled:
            self.tickets.drop(ticket)
            raise ResetOutOfOrder("account gone")
        # A refused password leaves the step open, so the person can choose another.
        check_password(password, user.username)
        if not self.tickets.take(ticket, data):
            raise ResetOutOfOrder("reset finished by another request")
        changed = self.accounts.set_password(user.id, password, event="password.reset", client=client)
        self.end_sessions(changed.id)
        return changed
