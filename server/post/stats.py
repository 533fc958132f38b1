"""Statistics of sent post per period, sender identity or group, split by channel."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from server.auth import services as auth
from server.auth.principal import Principal
from server.auth.rights import Right
from server.post.models import Channel, Dispatch, Letter, LetterStatus, SenderIdentity

_SENT = [LetterStatus.SENT, LetterStatus.DELIVERED]


def statistics(session: Session, actor: Principal, *, by: str, since: datetime | None, until: datetime | None) -> list[dict]:
    """Rows of {key, label, digital, print, failed, total}; letters still under way are not counted."""
    if not actor.has(Right.POST_APPROVE):
        auth.require(actor, Right.POST_MANAGE)
    channel = case(
        (Letter.status == LetterStatus.FAILED, "failed"),
        (Letter.status == LetterStatus.TO_PRINT, "print"),
        ((Letter.status.in_(_SENT)) & (Letter.channel == Channel.PRINT), "print"),
        (Letter.status.in_(_SENT), "digital"),
        else_=None,
    ).label("channel")
    key = _key(session, by)
    stmt = (
        select(key, channel, func.count())
        .select_from(Letter)
        .join(Dispatch, Dispatch.id == Letter.dispatch_id)
        .where(channel.is_not(None))
        .group_by(key, channel)
        .order_by(key)
    )
    if since:
        stmt = stmt.where(Letter.queued_at >= since)
    if until:
        stmt = stmt.where(Letter.queued_at < until)
    rows: dict[str, dict] = {}
    for value, kind, count in session.execute(stmt):
        row = rows.setdefault(str(value), {"key": str(value), "digital": 0, "print": 0, "failed": 0, "total": 0})
        row[kind] += count
        row["total"] += count
    labels = _labels(session, by, list(rows))
    return [{**row, "label": labels.get(row["key"], row["key"])} for row in rows.values()]


def _key(session: Session, by: str):
    if by == "month":
        if session.get_bind().dialect.name == "postgresql":
            return func.to_char(func.timezone("UTC", Letter.queued_at), "YYYY-MM").label("key")
        return func.substr(Letter.queued_at, 1, 7).label("key")
    if by == "sender":
        return Dispatch.sender_identity_id.label("key")
    if by == "group":
        return Dispatch.group_id.label("key")
    raise ValueError(by)


def _labels(session: Session, by: str, keys: list[str]) -> dict[str, str]:
    if by == "sender":
        return {str(i.id): i.name for i in session.scalars(select(SenderIdentity))}
    if by == "group":
        labels = {"None": "(ingen gruppe)"}
        for key in keys:
            if key != "None":
                labels[key] = auth.get_group(session, uuid.UUID(key)).name
        return labels
    return {}
