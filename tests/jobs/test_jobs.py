"""Background jobs: outbox rows claimed once, retried with backoff, and carried by a real worker."""
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from server import create_app
from server.db import utcnow
from server.documents.models import Document
from server.jobs import services as jobs
from server.jobs.models import Job, JobStatus
from server.jobs.worker import run_periodic
from tests.conftest import make_settings
from tests.files import text_pdf

CALLS = []


@jobs.handler("test.record")
def _record(session, payload):
    CALLS.append(payload["n"])
    if payload.get("fail_times", 0) >= len([c for c in CALLS if c == payload["n"]]):
        raise jobs.Retry("provider busy")


@jobs.handler("test.bulk", priority=jobs.LATER)
def _bulk(session, payload):
    CALLS.append(payload["n"])


@jobs.handler("test.urgent", priority=jobs.URGENT)
def _urgent(session, payload):
    CALLS.append(payload["n"])


@pytest.fixture(autouse=True)
def _clear():
    CALLS.clear()


def _enqueue(app, payload, kind="test.record"):
    maker = app.extensions["sagspost.sessionmaker"]
    with maker() as session, session.begin():
        job = jobs.enqueue(session, kind, payload)
        jobs.forget_pending(session)  # run by hand below, not inline
        return job.id, maker


def test_a_job_runs_once_however_often_it_is_sent(app):
    job_id, maker = _enqueue(app, {"n": 1})
    assert jobs.run_job(maker, job_id) == JobStatus.DONE
    assert jobs.run_job(maker, job_id) is None
    assert CALLS == [1]


def test_an_urgent_job_is_taken_before_older_bulk_work(app):
    """A new dispatch must not wait behind the archiving of thousands of letters sent before it."""
    for n in range(3):
        _enqueue(app, {"n": n}, kind="test.bulk")
    _, maker = _enqueue(app, {"n": "urgent"}, kind="test.urgent")
    while (job_id := jobs.next_due_job(maker)) is not None:
        jobs.run_job(maker, job_id)
    assert CALLS == ["urgent", 0, 1, 2]


def test_a_passing_failure_is_retried_later_with_backoff(app):
    job_id, maker = _enqueue(app, {"n": 2, "fail_times": 1})
    assert jobs.run_job(maker, job_id) == JobStatus.QUEUED
    with maker() as session:
        job = session.get(Job, job_id)
        assert job.last_error == "provider busy" and job.run_after > utcnow()
    assert jobs.run_job(maker, job_id) is None  # not due yet
    with maker() as session, session.begin():
        session.execute(update(Job).where(Job.id == job_id).values(run_after=utcnow()))
    assert jobs.run_job(maker, job_id) == JobStatus.DONE
    assert CALLS == [2, 2]


def test_a_job_that_keeps_failing_ends_failed(app):
    maker = app.extensions["sagspost.sessionmaker"]
    with maker() as session, session.begin():
        job = jobs.enqueue(session, "test.record", {"n": 3, "fail_times": 99}, max_attempts=2)
        jobs.forget_pending(session)
    for _ in range(2):
        with maker() as session, session.begin():
            session.execute(update(Job).where(Job.id == job.id).values(run_after=utcnow()))
        status = jobs.run_job(maker, job.id)
    assert status == JobStatus.FAILED


def test_a_job_whose_worker_died_is_taken_again_after_its_lease(app):
    job_id, maker = _enqueue(app, {"n": 4})
    with maker() as session, session.begin():
        session.execute(update(Job).where(Job.id == job_id).values(status=JobStatus.RUNNING, started_at=utcnow()))
    assert jobs.run_job(maker, job_id) is None
    with maker() as session, session.begin():
        session.execute(update(Job).where(Job.id == job_id).values(started_at=utcnow() - jobs.LEASE - timedelta(seconds=1)))
    with maker() as session:
        assert job_id in [j for j, _ in jobs.due_jobs(session)]
    assert jobs.run_job(maker, job_id) == JobStatus.DONE


def test_trash_is_purged_after_the_administrable_period(app, caseworker, admin):
    from tests.documents.conftest import upload

    doc = upload(caseworker, files=[("file", "a.pdf", text_pdf("x"))], title="Gammel").json
    caseworker.delete(f"/api/documents/{doc['id']}")
    maker = app.extensions["sagspost.sessionmaker"]
    with maker() as session, session.begin():
        session.execute(update(Document).values(deleted_at=utcnow() - timedelta(days=31)))
    run_periodic(app, {})
    assert admin.get("/api/trash").json == []
    assert not app.extensions["sagspost.blobs"].exists(doc["files"][0]["versions"][0]["sha256"])


def test_a_real_worker_extracts_text_after_upload(tmp_path, database_url, make_user):
    """The web process only writes rows; `sagspost worker` (Celery on the SQLite broker) does the work."""
    settings = make_settings(tmp_path, database_url, jobs_inline=False)
    app = create_app(settings)
    caseworker = make_user("worker-test")
    client = app.test_client()
    from tests.documents.conftest import upload

    caseworker.client = client
    doc = upload(caseworker, files=[("file", "a.pdf", text_pdf("Skoleskift"))], title="Brev").json
    assert doc["files"][0]["versions"][0]["text_status"] == "pending"
    env = {**os.environ, "SAGSPOST_DATABASE_URL": database_url, "SAGSPOST_DATA_DIR": str(settings.data_dir),
           "SAGSPOST_LOG_LEVEL": "WARNING", "SAGSPOST_SECRET_KEY": "test-secret"}
    sagspost = Path(sys.executable).with_name("sagspost")
    worker = subprocess.Popen([str(sagspost), "worker", "--concurrency", "1"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        status = "pending"
        while time.monotonic() < deadline and status == "pending":
            time.sleep(0.5)
            status = client.get(f"/api/documents/{doc['id']}", headers={"Authorization": f"Bearer {caseworker.token}"}
                                ).json["files"][0]["versions"][0]["text_status"]
        assert status == "ok"
    finally:
        worker.terminate()
        output = worker.communicate(timeout=30)[0].decode(errors="replace")
    assert "Traceback" not in output, output
    app.extensions["sagspost.engine"].dispose()
