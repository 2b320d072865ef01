"""The interface every way of sending a message implements, and the error it raises."""

from __future__ import annotations

from typing import Literal, Protocol

from idp.accounts import N_
from idp.errors import DomainError

Channel = Literal["email", "sms"]
CHANNELS: tuple[Channel, ...] = ("email", "sms")


class DeliveryFailed(DomainError):
    """The message could not be handed over; the person may try again later."""

    status_code = 503
    exit_code = 69

    def __init__(self, detail: str) -> None:
        super().__init__(N_("验证码发送失败,请稍后再试。"), detail)


class Sender(Protocol):
    """Hands one message to its channel; raises :class:`DeliveryFailed` when it cannot.

    ``body`` may carry a one-time code: implementations never log it (SECURITY.md "Personal data
    and logs").
    """

    def send(self, to: str, channel: Channel, subject: str, body: str) -> None: ...
