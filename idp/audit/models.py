"""The audit log table. Rows are only ever inserted; see :mod:`idp.audit.services`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Integer, String, Text, event
from sqlalchemy.orm import Mapped, Mapper, mapped_column

from idp.db import Base, UTCDateTime, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_events"

    # BIGINT on PostgreSQL; SQLite only auto-increments an INTEGER PRIMARY KEY.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    #: Dotted name such as ``login.success``, ``login.failure``, ``login.locked``.
    event: Mapped[str] = mapped_column(String(64), index=True)
    #: Who acted: a user id, ``system``, ``anonymous`` or an operator name.
    actor: Mapped[str] = mapped_column(String(64), index=True)
    ip: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    #: What was acted on: a user id, a client id, a masked reference.
    target: Mapped[str | None] = mapped_column(String(128), index=True)
    #: JSON object of further facts; never secrets (see ``services.FORBIDDEN_DETAIL_WORDS``).
    details: Mapped[str] = mapped_column(Text, default="{}")


def _refuse_change(_mapper: Mapper[Any], _connection: Any, target: AuditEvent) -> None:
    raise PermissionError(f"audit event {target.id} is append-only")


# The log is evidence: the ORM refuses to update or delete a row once written.
event.listen(AuditEvent, "before_update", _refuse_change)
event.listen(AuditEvent, "before_delete", _refuse_change)
