"""Celery carries job ids from the web process to workers; the jobs table holds the work itself."""
from __future__ import annotations

import logging
import threading
import time
import uuid
from datetime import timedelta

from celery import Celery
from celery.signals import worker_process_init, worker_ready
from sqlalchemy import event

from server.db import utcnow
from server.jobs import services
from server.jobs.models import Job

log = logging.getLogger("sagspost.jobs")
celery = Celery("sagspost")
SWEEP_SECONDS = 15
DRAIN_SECONDS = 30
_worker_app = None


def init_app(app) -> None:
    settings = app.config["SAGSPOST"]
    celery.conf.update(
        broker_url=settings.celery_broker_url,
        task_ignore_result=True,
        task_acks_late=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
    )
    maker = app.extensions["sagspost.sessionmaker"]
    inline = settings.jobs_inline

    @event.listens_for(maker, "after_commit")
    def _wake_workers(session):
        for job_id, run_after in services.take_pending(session):
            if inline:
                services.run_job(maker, job_id)
            else:
                run_job_task.apply_async(args=[str(job_id)], countdown=max(0.0, (run_after - utcnow()).total_seconds()))

    @event.listens_for(maker, "after_rollback")
    def _drop_pending(session):
        services.forget_pending(session)

    app.extensions["sagspost.celery"] = celery


@celery.task(name="sagspost.run_job")
def run_job_task(job_id: str) -> None:
    """Run the job, then keep taking other due jobs from the table for a while.

    A message only wakes a worker; the work is in the jobs table. Draining it here means one
    message can carry many jobs, which matters on the embedded SQLite broker: it hands out only a
    couple of messages a second, while a dispatch makes a job per delivered letter.
    """
    app = _flask_app()
    maker = app.extensions["sagspost.sessionmaker"]
    deadline = time.monotonic() + DRAIN_SECONDS
    next_id: uuid.UUID | None = uuid.UUID(job_id)
    with app.app_context():
        while next_id is not None:
            status = services.run_job(maker, next_id)
            if status is not None and status.value == "queued":
                _send_when_due(app, next_id)
            next_id = services.next_due_job(maker) if time.monotonic() < deadline else None


def _send_when_due(app, job_id: uuid.UUID) -> None:
    with app.extensions["sagspost.sessionmaker"]() as session:
        job = session.get(Job, job_id)
        delay = max(0.0, (job.run_after - utcnow()).total_seconds())
    run_job_task.apply_async(args=[str(job_id)], countdown=delay)


def sweep(app, *, everything: bool = False) -> int:
    """Send again the jobs whose message was probably lost (`everything`: every queued job, as a
    starting worker does, since messages a killed worker held are gone); claiming is atomic, so a
    job sent twice still runs once."""
    with app.extensions["sagspost.sessionmaker"]() as session:
        due = services.due_jobs(session, stale=timedelta(0) if everything else None)
    now = utcnow()
    for job_id, run_after in due:
        run_job_task.apply_async(args=[str(job_id)], countdown=max(0.0, (run_after - now).total_seconds()))
    return len(due)


def use_app(app) -> None:
    """Run tasks in this app (the `sagspost worker` command's), instead of building another."""
    global _worker_app
    _worker_app = app


def run_periodic(app, last_run: dict[str, float]) -> None:
    """Run each housekeeping task whose interval has passed since this worker last ran it."""
    now = time.monotonic()
    for name, (every, fn) in services.PERIODIC.items():
        if now - last_run.get(name, float("-inf")) < every:
            continue
        last_run[name] = now
        with app.app_context():
            fn(app.extensions["sagspost.sessionmaker"])


def _flask_app():
    if _worker_app is None:
        from server import create_app

        use_app(create_app())
    return _worker_app


@worker_process_init.connect
def _fresh_connections_after_fork(**_kwargs):
    # A forked pool process must not share the parent's open database connections.
    if _worker_app is not None:
        _worker_app.extensions["sagspost.engine"].dispose(close=False)


@worker_ready.connect
def _start_sweeping(**_kwargs):
    app = _flask_app()

    def loop():
        last_run: dict[str, float] = {}
        first = True
        while True:
            try:
                sweep(app, everything=first)
                first = False
                run_periodic(app, last_run)
            except Exception:  # the database may be briefly away; try again next round
                log.exception("job sweep failed")
            threading.Event().wait(SWEEP_SECONDS)

    threading.Thread(target=loop, name="job-sweep", daemon=True).start()
