"""Messages to people: one-time codes and notices, by e-mail or SMS, behind one small interface.

:class:`Sender` is all a service sees. :func:`build_sender` picks the implementation from the
settings: with ``IDP_SMTP_HOST`` empty every message goes to the development outbox (one file per
message under ``IDP_OUTBOX_DIR``); with it set e-mail goes through SMTP. SMS always goes to the
outbox, because no SMS gateway is configured by this product.
"""

from __future__ import annotations

from idp.notify.sender import CHANNELS, Channel, DeliveryFailed, Sender
from idp.notify.wiring import build_sender

__all__ = ["CHANNELS", "Channel", "DeliveryFailed", "Sender", "build_sender"]
