"""Writing and reading the audit log.

The log is append-only: this module offers :func:`record` and read-only queries, nothing that
updates or deletes. A row is written in the caller's transaction, so the event and the change it
describes are committed together or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from idp.audit.models import AuditEvent
from idp.db import Database
from idp.realname.masking import redact

#: Detail keys that could carry a secret or a full identity number (SECURITY.md "Personal data and
#: logs"). A key with one of these words as a ``_``-separated part, or one of the exact names, is
#: refused, so a careless caller fails loudly in tests instead of leaking quietly in production.
FORBIDDEN_DETAIL_WORDS = frozenset({"password", "passwd", "secret", "token", "captcha", "answer", "otp"})
FORBIDDEN_DETAIL_KEYS = frozenset(
    {"code", "auth_code", "authorization_code", "id_number", "id_card", "idcard"}
)
#: Longest text kept for one detail value.
MAX_DETAIL_TEXT = 200


def _clip(value: str | None, limit: int) -> str | None:
    return None if value is None else value[:limit]


def _clean_detail(key: str, value: Any) -> Any:
    lowered = key.lower()
    if lowered in FORBIDDEN_DETAIL_KEYS or FORBIDDEN_DETAIL_WORDS.intersection(lowered.split("_")):
        raise ValueError(f"audit detail {key!r} may hold a secret and is not recorded")
    if isinstance(value, str):
        return redact(value)[:MAX_DETAIL_TEXT]
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, list | tuple):
        return [_clean_detail(key, v) for v in value]
    return str(value)[:MAX_DETAIL_TEXT]


def record(
    session: Session,
    *,
    event: str,
    actor: str | None,
    ip: str | None,
    request_id: str | None,
    target: str | None = None,
    **details: Any,
) -> AuditEvent:
    """Append one event to the log in ``session``'s transaction."""
    row = AuditEvent(
        event=event[:64],
        actor=(actor or "anonymous")[:64],
        ip=_clip(ip, 64),
        request_id=_clip(request_id, 64),
        # A login name typed as a full ID number must not land in the log unmasked.
        target=_clip(redact(target) if target else target, 128),
        details=json.dumps(
            {key: _clean_detail(key, value) for key, value in sorted(details.items())}, ensure_ascii=False
        ),
    )
    session.add(row)
    session.flush()
    return row


def record_event(
    db: Database,
    *,
    event: str,
    actor: str | None,
    ip: str | None,
    request_id: str | None,
    target: str | None = None,
    **details: Any,
) -> None:
    """Append one event in a transaction of its own (for events that change nothing else)."""
    with db.transaction() as session:
        record(session, event=event, actor=actor, ip=ip, request_id=request_id, target=target, **details)


def events(
    session: Session,
    *,
    event: str | None = None,
    actor: str | None = None,
    target: str | None = None,
    limit: int = 100,
) -> Sequence[AuditEvent]:
    """The newest events first, optionally filtered."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(max(1, min(limit, 1000)))
    if event is not None:
        query = query.where(AuditEvent.event == event)
    if actor is not None:
        query = query.where(AuditEvent.actor == actor)
    if target is not None:
        query = query.where(AuditEvent.target == target)
    return session.scalars(query).all()


def details_of(row: AuditEvent) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(row.details or "{}")
    return loaded
