"""Exactly once at the border: every letter of a dispatch reaches Digital Post once, whatever happens.

- A real `sagspost worker` is killed with SIGKILL (the whole process group: Celery's prefork pool
  has children) in the middle of a 1,000-letter dispatch and started again; the simulator, which
  counts deliveries per messageUUID, must end with each of the 1,000 letters exactly once. The
  restarted worker takes the dead worker's job row and its letters again at once, as their claimant
  (host:pid) no longer exists (server/jobs/services.py, server/post/sending.py), not after the leases.
- The provider answers 5xx, times out, or loses its answer after recording the letter, on a share of
  requests; after the retries every letter is delivered exactly once all the same.

The letters go to CVR numbers (valid, modulus 11, unknown to the fictional business register: the
dispatch names them "CVR <number>"), as the fictional person register has only a handful of people.
Runs on SQLite, and on PostgreSQL when SAGSPOST_DATABASE_URL is set.
"""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from server.db import utcnow
from server.jobs import services as jobs
from server.jobs.models import Job, JobStatus
from server.post.models import Dispatch, Letter, LetterStatus
from tests.documents.conftest import upload
from tests.files import text_pdf
from tests.post.conftest import start_simulator

SENDER_CVR = "39990059"
DONE = {LetterStatus.SENT, LetterStatus.DELIVERED}  # delivered: the receipt poll got there first
PENDING = (LetterStatus.QUEUED, LetterStatus.SENDING)


def valid_cvrs(n: int, seed: int) -> list[str]:
    """n distinct CVR numbers: eight digits, not starting with 0, weights 2,7,6,5,4,3,2,1 sum to 0 mod 11."""
    rng = random.Random(seed)
    weights = (2, 7, 6, 5, 4, 3, 2)
    found: set[str] = set()
    while len(found) < n:
        digits = [rng.randrange(1, 10)] + [rng.randrange(10) for _ in range(6)]
        check = -sum(d * w for d, w in zip(digits, weights)) % 11
        if check < 10:
            found.add("".join(map(str, digits)) + str(check))
    return sorted(found)


def test_valid_cvrs_pass_the_modulus_11_check():
    from server.contacts.numbers import normalise_cvr

    numbers = valid_cvrs(200, 7)
    assert len(set(numbers)) == 200
    assert all(normalise_cvr(n) == n for n in numbers)


@pytest.fixture
def simulator(tmp_path):
    running = start_simulator(tmp_path / "post-simulator.sqlite", threads=8)
    # every recipient has a Digital Post mailbox: without this, the simulator's handy default rules
    # make numbers ending in 9999/8888/7777 exempt/closed/unknown (letters set aside for print)
    running.control("PUT", "contact-rules", json={"default": "REGISTERED", "rules": []})
    yield running
    running.stop()


@pytest.fixture
def app_overrides(simulator, request):
    overrides = {"post_api_url": simulator.api_url}
    overrides.update(getattr(request, "param", {}))
    return overrides


def _prepare(admin, caseworker):
    """A sender identity, the case template letters are archived with, and a one-page PDF letter."""
    sender = admin.post("/api/post/sender-identities", json={"name": "Testrup Kommune", "cvr": SENDER_CVR})
    assert sender.status_code == 201, sender.json
    template = admin.post("/api/case-templates", json={"name": "Standardsag", "access": "group"})
    assert template.status_code == 201, template.json
    doc = upload(caseworker, files=[("file", "brev.pdf", text_pdf("Kære virksomhed\nHer er et brev."))], title="Brev")
    assert doc.status_code == 201, doc.json
    return sender.json, doc.json


def _dispatch(caseworker, sender, doc, cvrs) -> str:
    started = time.monotonic()
    response = caseworker.post("/api/dispatches", json={
        "title": "Orientering", "sender_identity_id": sender["id"], "main_document_id": doc["id"],
        "recipients": [{"type": "cvr", "number": n} for n in cvrs],
    })
    assert response.status_code == 201, response.json
    print(f"dispatch of {len(cvrs)} letters created in {time.monotonic() - started:.1f} s")
    return uuid.UUID(response.json["id"])


def _counts(maker, dispatch_id) -> dict[str, int]:
    with maker() as session:
        rows = session.execute(select(Letter.status, func.count()).where(Letter.dispatch_id == dispatch_id)
                               .group_by(Letter.status))
        return {status.value: n for status, n in rows}


def _letters(maker, dispatch_id) -> dict[str, str]:
    """messageUUID -> status of every letter of the dispatch."""
    with maker() as session:
        rows = session.execute(select(Letter.message_uuid, Letter.status).where(Letter.dispatch_id == dispatch_id))
        return {str(u): s.value for u, s in rows}


def _describe(maker, message_uuids) -> list[dict]:
    """The database's view of some letters, for a failure message."""
    with maker() as session:
        rows = session.scalars(select(Letter).where(Letter.message_uuid.in_([uuid.UUID(u) for u in message_uuids])))
        return [{"uuid": str(l.message_uuid), "status": l.status.value, "attempts": l.attempts,
                 "answer": l.provider_answer, "sent_at": l.sent_at and l.sent_at.isoformat(),
                 "delivered_at": l.delivered_at and l.delivered_at.isoformat()} for l in rows]


def _assert_exactly_once(simulator, letters: dict[str, str], maker=None):
    deliveries = simulator.deliveries()
    per_uuid = deliveries["per_uuid"]
    missing = sorted(set(letters) - set(per_uuid))
    foreign = sorted(set(per_uuid) - set(letters))
    twice = {u: n for u, n in per_uuid.items() if n != 1}
    assert not missing, (f"{len(missing)} letters never reached Digital Post, e.g. "
                         f"{_describe(maker, missing[:3]) if maker else missing[:3]}")
    assert not foreign, f"{len(foreign)} deliveries of unknown messageUUIDs"
    assert not twice, f"delivered more than once: {list(twice.items())[:5]}"
    assert deliveries["total"] == len(letters)
    not_done = {u: s for u, s in letters.items() if LetterStatus(s) not in DONE}
    assert not not_done, f"{len(not_done)} letters are not sent: {sorted(set(not_done.values()))}"
    return deliveries


# ---------------------------------------------------------------- kill -9 of a real worker


def _sagspost() -> str:
    return str(Path(sys.executable).with_name("sagspost"))


def _worker(env: dict, log: Path) -> subprocess.Popen:
    """`sagspost worker` in a process group of its own (the pool processes are in it too)."""
    with log.open("ab") as out:
        return subprocess.Popen([_sagspost(), "worker", "--concurrency", "2"], env=env, stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)


def _group_pids(pgid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.getpgid(int(entry)) == pgid:
                    pids.append(int(entry))
            except ProcessLookupError:
                pass
    return pids


def _kill_group(worker: subprocess.Popen) -> None:
    try:
        os.killpg(worker.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    worker.wait(timeout=10)
    deadline = time.monotonic() + 10  # the pool processes are reaped by init
    while _group_pids(worker.pid) and time.monotonic() < deadline:
        time.sleep(0.05)


def _stop_group(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.terminate()  # the main process: Celery's warm shutdown lets the pool finish its job
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
    _kill_group(worker)


def _tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


@pytest.mark.slow
@pytest.mark.timeout(240)
@pytest.mark.parametrize("app_overrides", [{"jobs_inline": False}], indirect=True)
def test_kill_9_mid_dispatch_and_restart_delivers_every_letter_exactly_once(
        app, admin, caseworker, simulator, database_url, tmp_path):
    settings = app.config["SAGSPOST"]
    maker = app.extensions["sagspost.sessionmaker"]
    seed = int(os.environ.get("SAGSPOST_TEST_SEED") or random.SystemRandom().randrange(10**6))
    rng = random.Random(seed)
    kill_at = rng.randint(100, 400)
    print(f"seed {seed}: the worker is killed once {kill_at} letters are delivered")
    simulator.set_faults(latency_ms=[2, 10], endpoints=["send", "contacts"], seed=seed)

    sender, doc = _prepare(admin, caseworker)
    dispatch_id = _dispatch(caseworker, sender, doc, valid_cvrs(1000, seed))
    letters = _letters(maker, dispatch_id)
    assert len(letters) == 1000

    env = {k: v for k, v in os.environ.items() if not k.startswith("SAGSPOST_")}
    env.update(SAGSPOST_DATABASE_URL=database_url, SAGSPOST_DATA_DIR=str(settings.data_dir),
               SAGSPOST_POST_API_URL=simulator.api_url, SAGSPOST_SECRET_KEY=settings.secret_key,
               SAGSPOST_LOG_LEVEL="WARNING", SAGSPOST_LOG_FORMAT="text")
    log = tmp_path / "worker.log"
    worker = _worker(env, log)
    try:
        deadline = time.monotonic() + 60
        while (delivered := simulator.control("GET", "state").json()["total"]) < kill_at:
            assert worker.poll() is None, f"the worker exited {worker.returncode}:\n{_tail(log)}"
            assert time.monotonic() < deadline, f"only {delivered} letters delivered in 60 s:\n{_tail(log)}"
            time.sleep(0.01)
        _kill_group(worker)
        state = simulator.control("GET", "state").json()
        counts = _counts(maker, dispatch_id)
        with maker() as session:
            running = session.scalars(select(Job).where(Job.kind == "post.run_dispatch")).all()
        print(f"killed at {state['total']} delivered; letters then: {counts}; "
              f"run_dispatch jobs: {[(j.status.value, j.attempts) for j in running]}")
        assert state["total"] < 1000, "the dispatch finished before the kill: nothing was tested"
        # what the database calls sent was delivered (a letter is marked sent only after the provider's answer)
        sent_now = {u for u, s in _letters(maker, dispatch_id).items() if s in ("sent", "delivered")}
        assert sent_now <= set(simulator.deliveries()["per_uuid"])

        worker = _worker(env, log)
        restarted = time.monotonic()
        deadline = restarted + 60
        while (pending := sum(_counts(maker, dispatch_id).get(s.value, 0) for s in PENDING)) and time.monotonic() < deadline:
            assert worker.poll() is None, f"the restarted worker exited {worker.returncode}:\n{_tail(log)}"
            time.sleep(0.25)
        if pending:
            with maker() as session:
                jobs_now = [(j.status.value, j.attempts, j.started_at) for j in
                            session.scalars(select(Job).where(Job.kind == "post.run_dispatch"))]
            # A worker killed mid-job leaves its job row `running`: it must be taken again at once when
            # its claimant (host:pid) is dead, not only after the job lease (server/jobs/services.py).
            pytest.fail(f"60 s after the restart {pending} letters are still queued or sending "
                        f"({_counts(maker, dispatch_id)}); simulator total {simulator.control('GET', 'state').json()['total']}; "
                        f"run_dispatch jobs (status, attempts, started_at): {jobs_now}")
        print(f"the restarted worker finished the dispatch in {time.monotonic() - restarted:.1f} s")
    finally:
        _stop_group(worker)
    deliveries = _assert_exactly_once(simulator, _letters(maker, dispatch_id), maker)
    print(f"exactly once: {deliveries['total']} deliveries, resends refused as duplicates: "
          f"{deliveries['duplicates_refused']}")
    with maker() as session:
        assert session.get(Dispatch, dispatch_id).status.value == "done"
        # the killed worker's job row was taken again (a second attempt), not left to its lease
        runs = [(j.status.value, j.attempts) for j in session.scalars(select(Job).where(Job.kind == "post.run_dispatch"))]
    print(f"run_dispatch jobs (status, attempts): {runs}")
    assert all(status == "done" for status, _ in runs) and max(a for _, a in runs) >= 2, runs
    assert "Traceback" not in log.read_text(errors="replace"), _tail(log, 80)


# ---------------------------------------------------------------- faults at the provider


def _run_due_jobs(app, maker) -> int:
    """What a worker does when the backoff has passed, without waiting for it: make the queued
    letters and the dispatch's follow-up job due now, and run the job."""
    with maker() as session, session.begin():
        session.execute(update(Letter).where(Letter.status == LetterStatus.QUEUED).values(next_attempt_at=utcnow()))
        ids = list(session.scalars(select(Job.id).where(Job.kind == "post.run_dispatch", Job.status == JobStatus.QUEUED)))
        session.execute(update(Job).where(Job.id.in_(ids)).values(run_after=utcnow()))
    with app.app_context():
        for job_id in ids:
            jobs.run_job(maker, job_id)
    return len(ids)


@pytest.mark.slow
@pytest.mark.timeout(240)
@pytest.mark.parametrize("app_overrides", [{"post_timeout_s": 1}], indirect=True)
def test_5xx_timeouts_and_lost_answers_still_deliver_every_letter_exactly_once(app, admin, caseworker, simulator):
    """Inline jobs: the dispatch runs after the commit, each failed letter goes back to queued
    with a backoff, and each follow-up job run sends the due ones again with the same UUID."""
    maker = app.extensions["sagspost.sessionmaker"]
    assert app.config["SAGSPOST"].post_timeout_s == 1
    # sends and recipient look-ups: 10 % 503, 5 % hang longer than the client waits (1 s),
    # and 10 % of the accepted sends are recorded but their answer is lost (a 503 after delivery)
    simulator.set_faults(error_rate=0.10, timeout_rate=0.05, timeout_s=2, lost_response_rate=0.10,
                         endpoints=["send", "contacts"], seed=20240611)
    sender, doc = _prepare(admin, caseworker)
    dispatch_id = _dispatch(caseworker, sender, doc, valid_cvrs(200, 11))
    first = _counts(maker, dispatch_id)
    print(f"after the first run: {first}")
    assert first.get("queued", 0) > 0, "no fault struck: the test proves nothing"
    assert first.get("failed", 0) == 0

    rounds = 0
    while _counts(maker, dispatch_id).keys() & {s.value for s in PENDING}:
        rounds += 1
        assert rounds <= 12, f"still pending after {rounds} rounds: {_counts(maker, dispatch_id)}"
        assert _run_due_jobs(app, maker) == 1, "a pending dispatch has exactly one follow-up job queued"
    simulator.set_faults()  # the switches off
    time.sleep(2.2)  # requests the simulator holds in a timeout (2 s) answer before it is stopped
    deliveries = _assert_exactly_once(simulator, _letters(maker, dispatch_id), maker)
    with maker() as session:
        attempts = session.execute(select(func.max(Letter.attempts), func.sum(Letter.attempts))
                                   .where(Letter.dispatch_id == dispatch_id)).one()
        assert session.get(Dispatch, dispatch_id).status.value == "done"
    print(f"{rounds} retry rounds, at most {attempts[0]} attempts for a letter, {attempts[1]} in all; "
          f"duplicates refused (resends after a lost answer): {deliveries['duplicates_refused']}")
    assert deliveries["duplicates_refused"] > 0, "no lost answer was resent: the duplicate path went untested"
