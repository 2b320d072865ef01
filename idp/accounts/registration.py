"""立即注册账号: a natural person registers with a login name, a password and a confirmed contact.

Two steps, bound to one browser by a flow ticket:

1. :meth:`RegistrationService.request_code` sends a one-time code to the mobile or e-mail address
   (throttled per contact and per client IP, :mod:`idp.accounts.codes`);
2. :meth:`RegistrationService.complete` checks the login name, the password policy and the code, and
   only then creates the account, with that contact marked as confirmed.

Nothing about existing accounts is revealed before step 2, where a taken login name has to be said.
"""

from __future__ import annotations

from dataclasses import dataclass

from idp.accounts import N_
from idp.accounts.codes import CodePurpose, FlowTickets, OneTimeCodes
from idp.accounts.contact import Contact, parse_contact
from idp.accounts.models import AccountType, User
from idp.accounts.password_policy import check_password, password_issues
from idp.accounts.services import AccountService, Client, validate_username
from idp.errors import Conflict, InvalidInput
from idp.notify.sender import Sender
from idp.notify.texts import code_message

#: ``actor`` of the audit row of a self-registered account.
SELF_REGISTRATION = "self-registration"


@dataclass(frozen=True)
class PendingRegistration:
    contact: Contact


class RegistrationExpired(InvalidInput):
    def __init__(self, detail: str) -> None:
        super().__init__(N_("注册已过期,请重新获取验证码。"), detail)


class RegistrationService:
    KIND = "register"

    def __init__(self, accounts: AccountService, codes: OneTimeCodes, sender: Sender) -> None:
        self.accounts = accounts
        self.codes = codes
        self.sender = sender
        self.tickets = FlowTickets(accounts.store, self.KIND)

    def request_code(self, raw_contact: str, client: Client) -> str:
        """Send a code to the contact; the ticket the browser keeps for step 2."""
        contact = parse_contact(raw_contact)
        code = self.codes.issue(CodePurpose.REGISTER, contact.key, client.ip or "")
        subject, body = code_message(
            CodePurpose.REGISTER.value, code, self.codes.limits.ttl // 60, contact.channel
        )
        self.sender.send(contact.value, contact.channel, subject, body)
        return self.tickets.open(
            {"channel": contact.channel, "contact": contact.value}, self.codes.limits.ttl
        )

    def pending(self, ticket: str | None) -> PendingRegistration | None:
        data = self.tickets.read(ticket)
        if data is None:
            return None
        try:
            return PendingRegistration(parse_contact(data.get("contact", "")))
        except InvalidInput:
            return None

    @staticmethod
    def field_problems(username: str, password: str) -> list[str]:
        """Every problem of the chosen login name and password (message ids), for one form message."""
        problems = []
        if username.strip():
            try:
                validate_username(username)
            except InvalidInput as exc:
                problems.append(exc.public)
        if password:
            problems.extend(issue.message for issue in password_issues(password, username.strip()))
        return problems

    def complete(self, ticket: str, username: str, password: str, code: str, client: Client) -> User:
        """Create the account once the code is right; the ticket is used up by success."""
        data = self.tickets.read(ticket)
        pending = self.pending(ticket)
        if data is None or pending is None:
            raise RegistrationExpired("no pending registration")
        # Everything that can be wrong with the form is said before the code is spent.
        login = validate_username(username)
        check_password(password, login)
        if self.accounts.find_by_username(login) is not None:
            raise Conflict(N_("该登录名已被注册。"), "username taken")
        contact = pending.contact
        self.codes.verify(CodePurpose.REGISTER, contact.key, code)
        if not self.tickets.take(ticket, data):
            raise RegistrationExpired("registration already completed")
        is_email = contact.channel == "email"
        return self.accounts.create_user(
            login,
            password,
            email=contact.value if is_email else None,
            phone_number=None if is_email else contact.value,
            email_verified=is_email,
            phone_number_verified=not is_email,
            account_type=AccountType.NATURAL.value,
            actor=SELF_REGISTRATION,
            client=client,
        )
