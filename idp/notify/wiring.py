"""Choosing the sender from the settings, and sending without holding up the request."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from idp.notify.outbox import OutboxSender, masked
from idp.notify.sender import Channel, DeliveryFailed, Sender
from idp.notify.smtp import SmtpOptions, SmtpSender

if TYPE_CHECKING:
    from idp.config import Settings

log = logging.getLogger(__name__)


class ChannelRouter:
    """E-mail to one sender, SMS to another (the outbox, until an SMS gateway is configured)."""

    def __init__(self, email: Sender, sms: Sender) -> None:
        self.email = email
        self.sms = sms

    def send(self, to: str, channel: Channel, subject: str, body: str) -> None:
        target = self.email if channel == "email" else self.sms
        target.send(to, channel, subject, body)


def build_sender(settings: Settings) -> Sender:
    """The outbox when ``smtp_host`` is empty; otherwise SMTP for e-mail and the outbox for SMS."""
    outbox = OutboxSender(settings.outbox_dir)
    if not settings.smtp_host:
        return outbox
    smtp = SmtpSender(
        SmtpOptions(
            host=settings.smtp_host,
            port=settings.smtp_port,
            user=settings.smtp_user,
            password=settings.smtp_password,
            sender=settings.smtp_from,
            starttls=settings.smtp_starttls,
            implicit_tls=settings.smtp_ssl,
            timeout=settings.smtp_timeout,
        )
    )
    return ChannelRouter(email=smtp, sms=outbox)


def send_in_background(
    sender: Sender, to: str, channel: Channel, subject: str, body: str
) -> threading.Thread:
    """Send on a thread of its own, so the answer to the request does not wait for the relay.

    Used where the time of an answer must not tell whether a message was sent at all (password
    reset: SECURITY.md asks for the same answer in about the same time for unknown accounts).
    A failure is logged (channel and masked recipient only) and otherwise dropped: the person
    sees no code and asks again.
    """

    def run() -> None:
        try:
            sender.send(to, channel, subject, body)
        except DeliveryFailed as exc:
            detail = exc.detail
        except Exception as exc:  # noqa: BLE001 - a background thread has nobody else to report to
            detail = f"unexpected {exc.__class__.__name__}"
        else:
            return
        log.warning(
            "message not delivered",
            extra={"fields": {"channel": channel, "to": masked(to, channel), "detail": detail}},
        )

    thread = threading.Thread(target=run, name="notify", daemon=True)
    thread.start()
    return thread
