"""The audit trail of changes and the access log of reads."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from server.auth.principal import Principal
from server.auth.rights import Right
from server.audit.models import AccessLogEntry, AuditEvent
from server.db import utcnow
from server.errors import Forbidden


def record_change(
    session: Session,
    actor: Principal | None,
    action: str,
    entity_type: str,
    entity_id: uuid.UUID | None,
    *,
    case_id: uuid.UUID | None = None,
    summary: str = "",
    before: dict | None = None,
    after: dict | None = None,
) -> None:
    session.add(AuditEvent(**_event(actor, Change(action, entity_type, entity_id, case_id, summary, before, after))))


@dataclass(frozen=True)
class Change:
    """One change for record_changes; the fields as record_change takes them."""

    action: str
    entity_type: str
    entity_id: uuid.UUID | None
    case_id: uuid.UUID | None = None
    summary: str = ""
    before: dict | None = None
    after: dict | None = None


def record_changes(session: Session, actor: Principal | None, changes: list[Change]) -> None:
    """record_change for many changes, written at once with one statement (a batch of uploads)."""
    if changes:
        now = utcnow()
        session.execute(insert(AuditEvent), [{**_event(actor, change), "id": uuid.uuid4(), "at": now} for change in changes])


def _event(actor: Principal | None, change: Change) -> dict:
    return dict(
        actor_id=actor.user_id if actor else None,
        actor_name=actor.username if actor else "system",
        action=change.action,
        entity_type=change.entity_type,
        entity_id=change.entity_id,
        case_id=change.case_id,
        summary=change.summary[:500],
        before=_jsonable(change.before),
        after=_jsonable(change.after),
    )


def changed_fields(before: dict, after: dict) -> tuple[dict, dict]:
    """The before/after pair reduced to the keys whose values differ."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def record_case_read(
    session: Session, actor: Principal, case_id: uuid.UUID, *, action: str = "read", channel: str = "api"
) -> None:
    session.add(AccessLogEntry(user_id=actor.user_id, case_id=case_id, action=action, channel=channel))


def case_history(session: Session, case_id: uuid.UUID, *, offset: int, limit: int) -> tuple[list[AuditEvent], int]:
    base = select(AuditEvent).where(AuditEvent.case_id == case_id)
    total = session.scalar(select(func.count()).select_from(base.subquery()))
    rows = session.scalars(base.order_by(AuditEvent.at.desc(), AuditEvent.id).offset(offset).limit(limit)).all()
    return list(rows), total


@dataclass(frozen=True)
class AccessLogFilter:
    user_id: uuid.UUID | None = None
    case_id: uuid.UUID | None = None
    since: datetime | None = None
    until: datetime | None = None


def query_access_log(
    session: Session, actor: Principal, flt: AccessLogFilter, *, offset: int, limit: int
) -> tuple[list[AccessLogEntry], int]:
    if not actor.has(Right.AUDIT_READ):
        raise Forbidden("Reading the access log needs the right audit.read.")
    stmt = select(AccessLogEntry)
    if flt.user_id:
        stmt = stmt.where(AccessLogEntry.user_id == flt.user_id)
    if flt.case_id:
        stmt = stmt.where(AccessLogEntry.case_id == flt.case_id)
    if flt.since:
        stmt = stmt.where(AccessLogEntry.at >= flt.since)
    if flt.until:
        stmt = stmt.where(AccessLogEntry.at < flt.until)
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = session.scalars(stmt.order_by(AccessLogEntry.at.desc()).offset(offset).limit(limit)).all()
    return list(rows), total


def query_changes(
    session: Session, actor: Principal, *, entity_type: str | None, entity_id: uuid.UUID | None, offset: int, limit: int
) -> tuple[list[AuditEvent], int]:
    if not actor.has(Right.AUDIT_READ):
        raise Forbidden("Reading the audit trail needs the right audit.read.")
    stmt = select(AuditEvent)
    if entity_type:
        stmt = stmt.where(AuditEvent.entity_type == entity_type)
    if entity_id:
        stmt = stmt.where(AuditEvent.entity_id == entity_id)
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = session.scalars(stmt.order_by(AuditEvent.at.desc()).offset(offset).limit(limit)).all()
    return list(rows), total


def _jsonable(values: dict | None) -> dict | None:
    if values is None:
        return None
    return {k: _plain(v) for k, v in values.items()}


def _plain(value):
    if isinstance(value, (uuid.UUID, datetime)):
        return str(value)
    if hasattr(value, "value") and not isinstance(value, (int, float, str)):
        return value.value
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    return value


def query_entity_history(
    session: Session, entity_type: str, entity_id: uuid.UUID, *, offset: int, limit: int
) -> tuple[list[AuditEvent], int]:
    """One entity's changes, newest first; the caller has checked the reader's access."""
    stmt = select(AuditEvent).where(AuditEvent.entity_type == entity_type, AuditEvent.entity_id == entity_id)
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = session.scalars(stmt.order_by(AuditEvent.at.desc()).offset(offset).limit(limit)).all()
    return list(rows), total


def erase_case_trail(session: Session, case_id: uuid.UUID) -> None:
    """When a case is disposed of, its history goes with it: the summaries name people."""
    session.execute(delete(AuditEvent).where(AuditEvent.case_id == case_id))
