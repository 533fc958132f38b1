"""The dispatch log is kept for an administrable period; archived letters stay on their cases."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from server.admin import services as settings_
from server.db import utcnow
from server.jobs import services as jobs
from server.post.models import Dispatch, DispatchStatus


def purge_dispatch_log(session: Session) -> int:
    """Delete finished dispatches (with their letters and file rows) older than the setting."""
    cutoff = utcnow() - timedelta(days=settings_.get_setting(session, "post.log_retention_days"))
    old = list(session.scalars(
        select(Dispatch.id).where(Dispatch.status.in_([DispatchStatus.DONE, DispatchStatus.CANCELLED]),
                                  Dispatch.finished_at < cutoff)
    ))
    if old:
        session.execute(delete(Dispatch).where(Dispatch.id.in_(old)))
    return len(old)


@jobs.periodic("post.purge_dispatch_log", every_seconds=6 * 3600)
def _purge(maker: sessionmaker) -> None:
    with maker() as session, session.begin():
        purge_dispatch_log(session)
