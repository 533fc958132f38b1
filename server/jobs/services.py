"""Background jobs as outbox rows: written in the caller's transaction, run by a worker after commit.

The row is the truth; the Celery message only wakes a worker. A lost message, a crashed worker or a
broker restart leaves the row queued (or running past its lease), and the sweep sends it again.
"""
from __future__ import annotations

import logging
import os
import socket
import traceback
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from server.db import utcnow
from server.jobs.models import Job, JobStatus

log = logging.getLogger("sagspost.jobs")

Handler = Callable[[Session, dict], None]
_HANDLERS: dict[str, Handler] = {}
_PRIORITIES: dict[str, int] = {}
# housekeeping run by every worker now and then: name -> (seconds between runs, function of a sessionmaker)
PERIODIC: dict[str, tuple[float, Callable[[sessionmaker], None]]] = {}
LEASE = timedelta(minutes=10)
# a due job not taken for this long has probably lost its broker message
STALE = timedelta(seconds=20)
_PENDING = "sagspost.jobs.pending"


class Retry(Exception):
    """Raised by a handler for a passing failure (a timeout, a 5xx): try again later."""


NORMAL, URGENT, LATER = 5, 0, 9  # job priorities: lower runs first when several are due


def handler(kind: str, *, priority: int = NORMAL) -> Callable[[Handler], Handler]:
    """Register the handler of a job kind. `priority`: URGENT for what a user waits for (a new
    dispatch), LATER for bulk follow-up work (archiving thousands of sent letters)."""

    def register(fn: Handler) -> Handler:
        _HANDLERS[kind] = fn
        _PRIORITIES[kind] = priority
        return fn

    return register


def periodic(name: str, every_seconds: float):
    """Register housekeeping (purging the trash, …) that workers run every so often.

    Several workers may run it at the same time; it must be safe to repeat.
    """

    def register(fn: Callable[[sessionmaker], None]):
        PERIODIC[name] = (every_seconds, fn)
        return fn

    return register


def enqueue(session: Session, kind: str, payload: dict, *, run_after: datetime | None = None, max_attempts: int = 5) -> Job:
    if kind not in _HANDLERS:
        raise ValueError(f"no handler for job kind {kind!r}")
    job = Job(kind=kind, payload=payload, run_after=run_after or utcnow(), max_attempts=max_attempts,
              priority=_PRIORITIES[kind])
    session.add(job)
    session.flush()
    session.info.setdefault(_PENDING, []).append((job.id, job.run_after))
    return job


def take_pending(session: Session) -> list[tuple[uuid.UUID, datetime]]:
    """(id, run_after) of the jobs enqueued in the session's last transaction (for the after-commit wake-up)."""
    return session.info.pop(_PENDING, [])


def forget_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)


def run_job(maker: sessionmaker, job_id: uuid.UUID) -> JobStatus | None:
    """Claim the job, run its handler in its own transaction, record the outcome.

    Returns None when another worker has it or it is already finished.
    """
    with maker() as session, session.begin():
        job = _claim(session, job_id)
        if job is None:
            return None
        kind, payload = job.kind, dict(job.payload)
    try:
        with maker() as session, session.begin():
            _HANDLERS[kind](session, payload)
    except Retry as exc:
        return _finish(maker, job_id, error=str(exc) or "retry requested", retry=True)
    except Exception:  # a handler's bug must not kill the worker; the job records it
        log.exception("job failed", extra={"job_id": str(job_id), "kind": kind})
        return _finish(maker, job_id, error=traceback.format_exc(limit=5), retry=True)
    return _finish(maker, job_id, error=None, retry=False)


def _claim(session: Session, job_id: uuid.UUID) -> Job | None:
    now = utcnow()
    claimed = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.run_after <= now, _takeable(session, now))
        .values(status=JobStatus.RUNNING, started_at=now, attempts=Job.attempts + 1, claimed_by=worker_name())
    ).rowcount
    return session.get(Job, job_id) if claimed else None


def worker_name() -> str:
    """host:pid; read when needed, since a forked pool process has its own pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _takeable(session: Session, now: datetime):
    """Queued, or running under a worker that is gone: its lease ran out, or it was a process on
    this host that no longer exists (killed with -9, say)."""
    abandoned = Job.started_at < now - LEASE
    dead = dead_local_workers(session.scalars(select(Job.claimed_by).where(Job.status == JobStatus.RUNNING).distinct()))
    if dead:
        abandoned = abandoned | Job.claimed_by.in_(dead)
    return or_(Job.status == JobStatus.QUEUED, (Job.status == JobStatus.RUNNING) & abandoned)


def dead_local_workers(claimants) -> list[str]:
    """Of the host:pid[:…] claimants, those on this host whose process no longer exists."""
    host = socket.gethostname()
    dead = []
    for claimant in claimants:
        parts = (claimant or "").split(":")
        if len(parts) >= 2 and parts[0] == host and parts[1].isdigit() and not _alive(int(parts[1])):
            dead.append(claimant)
    return dead


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True


def _finish(maker: sessionmaker, job_id: uuid.UUID, *, error: str | None, retry: bool) -> JobStatus:
    with maker() as session, session.begin():
        job = session.get(Job, job_id)
        job.last_error = error
        if error is None:
            job.status, job.finished_at = JobStatus.DONE, utcnow()
        elif retry and job.attempts < job.max_attempts:
            job.status, job.run_after = JobStatus.QUEUED, utcnow() + backoff(job.attempts)
        else:
            job.status, job.finished_at = JobStatus.FAILED, utcnow()
        return job.status


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(2 ** attempts, 600))


def is_queued(session: Session, kind: str, payload: dict) -> bool:
    """Whether a job of this kind with this payload waits to run (payloads compared in Python:
    JSON equality differs between the databases)."""
    waiting = session.scalars(select(Job.payload).where(Job.kind == kind, Job.status == JobStatus.QUEUED))
    return any(p == payload for p in waiting)


def next_due_job(maker: sessionmaker) -> uuid.UUID | None:
    """A job that is due now (the most urgent, then the oldest), for a worker with time to spare; None
    when there is none."""
    with maker() as session:
        return session.scalar(
            select(Job.id).where(_takeable(session, utcnow()), Job.run_after <= utcnow())
            .order_by(Job.priority, Job.run_after).limit(1)
        )


def due_jobs(session: Session, limit: int = 500, stale: timedelta | None = None) -> list[tuple[uuid.UUID, datetime]]:
    """Jobs whose message was probably lost: due for a while and still not taken, or abandoned by
    their worker. Fresh jobs are left alone: their own message is on its way, and sending every
    queued job again each round flooded the broker."""
    now = utcnow()
    stmt = (
        select(Job.id, Job.run_after)
        .where(or_(
            (Job.status == JobStatus.QUEUED) & (Job.run_after <= now - (STALE if stale is None else stale)),
            (Job.status == JobStatus.RUNNING) & _takeable(session, now),
        ))
        .order_by(Job.run_after)
        .limit(limit)
    )
    return [(row.id, row.run_after) for row in session.execute(stmt)]
