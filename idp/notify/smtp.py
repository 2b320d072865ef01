"""E-mail through an SMTP relay (``smtplib``): STARTTLS or implicit TLS, login, and timeouts.

The connection is opened per message: codes are rare, and a relay that dropped an idle connection
cannot then fail the next code. With STARTTLS configured, a relay that does not offer it is refused
rather than used in plain text (RFC 3207 leaves that choice to the client; a code in clear text on
the wire is not acceptable). Every failure becomes :class:`DeliveryFailed` with the kind of error
for the log, never the message body.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from idp.notify.outbox import masked
from idp.notify.sender import Channel, DeliveryFailed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmtpOptions:
    host: str
    port: int = 587
    user: str = ""
    password: str = ""
    sender: str = ""
    #: Upgrade a plain connection with STARTTLS (port 587) and refuse relays that cannot.
    starttls: bool = True
    #: Implicit TLS from the first byte (port 465); excludes ``starttls``.
    implicit_tls: bool = False
    #: Seconds for connecting and for each reply of the relay.
    timeout: float = 10.0


class SmtpSender:
    """Sends ``email`` messages; it does not know SMS (see :class:`ChannelRouter`)."""

    def __init__(self, options: SmtpOptions, context: ssl.SSLContext | None = None) -> None:
        self.options = options
        # The system's trust store and hostname checks unless a caller (a test) brings its own.
        self.context = context or ssl.create_default_context()

    def send(self, to: str, channel: Channel, subject: str, body: str) -> None:
        if channel != "email":
            raise DeliveryFailed(f"the SMTP sender cannot deliver {channel}")
        try:
            message = self._message(to, subject, body)
            self._deliver(message)
        except (smtplib.SMTPException, OSError, ValueError) as exc:
            # OSError covers refused connections, timeouts and TLS failures (ssl.SSLError).
            raise DeliveryFailed(f"smtp: {exc.__class__.__name__}") from exc
        log.info("e-mail handed to the relay", extra={"fields": {"to": masked(to, "email")}})

    def _message(self, to: str, subject: str, body: str) -> EmailMessage:
        # email.policy.default refuses CR and LF in header values (no header injection).
        message = EmailMessage()
        message["From"] = self.options.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False, usegmt=True)
        domain = self.options.sender.rpartition("@")[2].strip("> ") or None
        message["Message-ID"] = make_msgid(domain=domain)
        message.set_content(body)
        return message

    def _deliver(self, message: EmailMessage) -> None:
        options = self.options
        client: smtplib.SMTP
        if options.implicit_tls:
            client = smtplib.SMTP_SSL(
                options.host, options.port, timeout=options.timeout, context=self.context
            )
        else:
            client = smtplib.SMTP(options.host, options.port, timeout=options.timeout)
        with client:
            client.ehlo()
            if options.starttls and not options.implicit_tls:
                if not client.has_extn("starttls"):
                    raise smtplib.SMTPNotSupportedError("relay does not offer STARTTLS")
                client.starttls(context=self.context)
                client.ehlo()
            if options.user:
                client.login(options.user, options.password)
            client.send_message(message)
