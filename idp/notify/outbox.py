"""The development outbox: every message becomes one file, so a developer (or a test) can read it.

Files are named ``<UTC time>-<random>-<channel>.txt`` (no recipient in the name) and hold a few
header lines, an empty line and the body. Each is written under a temporary name and renamed into
place, so a reader never sees half a message. The directory and files are private to the
process's user, because bodies hold one-time codes. The log line names the channel, the masked
recipient and the file, never the body.
"""

from __future__ import annotations

import logging
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path

from idp.notify.sender import Channel, DeliveryFailed
from idp.realname.masking import mask_email, mask_mobile

log = logging.getLogger(__name__)

SUFFIX = ".txt"


def masked(to: str, channel: Channel) -> str:
    """The recipient as logs and pages may show it."""
    return mask_email(to) if channel == "email" else mask_mobile(to)


def _header_value(text: str) -> str:
    # One line per header whatever the caller passes: a CR or LF would start a forged header.
    return " ".join(text.split())


class OutboxSender:
    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def send(self, to: str, channel: Channel, subject: str, body: str) -> None:
        now = datetime.now(UTC)
        name = f"{now:%Y%m%dT%H%M%S%f}Z-{secrets.token_hex(4)}-{channel}{SUFFIX}"
        text = (
            f"To: {_header_value(to)}\n"
            f"Channel: {channel}\n"
            f"Subject: {_header_value(subject)}\n"
            f"Date: {now.isoformat(timespec='seconds')}\n"
            f"\n{body}\n"
        )
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            partial = self.directory / f".{name}.part"
            descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(text)
            partial.replace(self.directory / name)
        except OSError as exc:
            raise DeliveryFailed(f"outbox not writable: {exc.__class__.__name__}") from exc
        log.info(
            "message written to the outbox",
            extra={"fields": {"channel": channel, "to": masked(to, channel), "file": name}},
        )


def read_outbox(directory: str | Path) -> list[dict[str, str]]:
    """Every message in the outbox, oldest first: its headers (lower-case names) and ``body``."""
    folder = Path(directory)
    if not folder.is_dir():
        return []
    messages = []
    for path in sorted(folder.glob(f"*{SUFFIX}")):
        if path.name.startswith("."):
            continue
        head, _, body = path.read_text(encoding="utf-8").partition("\n\n")
        message = {"file": path.name, "body": body.rstrip("\n")}
        for line in head.splitlines():
            key, _, value = line.partition(": ")
            message[key.lower()] = value
        messages.append(message)
    return messages
