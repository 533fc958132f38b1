"""Digital Post: dispatch 10,000 one-page letters end to end, against sending them one by one.

    .venv/bin/python bench/run.py post                      # embedded, then PostgreSQL + Redis
    .venv/bin/python bench/run.py post --post-setups embedded --post-letters 2000   # a quick check
    .venv/bin/python bench/run.py post --post-profile       # py-spy the worker even when the target is met
    .venv/bin/python bench/run.py post --small              # 1,000 letters

Embedded setup (the product's default, judged against the target): a SQLite database file, the SQLite
Celery broker, and the real commands as subprocesses on one data folder — `sagspost serve` (the web
process), `sagspost worker --concurrency 2` and `sagspost simulator` (the local NgDP). For information
the same with PostgreSQL (a fresh schema of SAGSPOST_DATABASE_URL, else the local server) and a Redis
broker (--redis-url, an empty database).

One dispatch of --post-letters (10,000) recipients, all CVR numbers (valid, modulus 11; the fictional
business register does not know them, so the letters name them "CVR <number>") of a one-page PDF,
is created with POST /api/dispatches as the admin user with an API token. The clock runs from that
POST until the simulator has counted every letter (its /_sim/state, polled every 0.1 s); the POST
itself is timed too. The simulator answers every recipient as REGISTERED, with no latency and no
faults; receipts are fetched and letters archived by the worker as in production, while it sends.
Memory: the resident set (VmRSS from /proc) of the worker's process tree (Celery main + pool
processes + extraction children), of the web process and of the simulator, sampled every 0.25 s and
reported at 1k, 5k and 10k delivered letters (current and peak so far): flat means the peak at 10k
is about the one at 1k. CPU seconds per process over the run show where the 2 cores go.

Baseline, in the same run, before the dispatch: the same number of letters (same recipients, new
messageUUIDs) sent one by one by this process in one thread with the real NgdpClient — build_memo of
the MeMo, then send — to the same simulator (reset afterwards). The dispatch does more per letter
(the recipient look-up, the claim and the recorded outcome in the database, the receipts).

Target (the issue): at least 200 letters/s end to end on 2 cores with the embedded setup, flat
memory. Afterwards every letter must be sent (or delivered) and the simulator must hold each
messageUUID exactly once. Then the run reports what the dispatch left for later (receipts not yet
fetched, archiving and text-extraction jobs, the broker's queue) and sends a one-letter dispatch
to see how long a new dispatch waits (--post-followup-timeout). When the target is missed (or with
--post-profile), a fresh setup sends --post-profile-letters with py-spy recording the worker (all its
processes, active threads, 97 Hz), and the samples are summed by step, by where the innermost frame
is, and by the project's functions.
Exit code 1 when the embedded setup misses the target, memory grows, or a letter is lost or doubled.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

from common import DEFAULT_PG, ROOT, Database, _interrupt, _token, migrate, server_version  # noqa: E402

import requests  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from seed import _cvr  # noqa: E402
from server import create_app  # noqa: E402
from server.config import Settings  # noqa: E402
from server.db import make_engine  # noqa: E402

TARGET_LETTERS_S = 200.0
CLK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
SENDER_CVR = "39990059"
PDF = "application/pdf"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_options(parser)
    return parser


def add_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("post benchmark")
    group.add_argument("--post-letters", type=int, default=10_000, help="letters in the dispatch (10,000)")
    group.add_argument("--post-setups", default="embedded,pg-redis",
                       help="embedded (SQLite + SQLite broker), pg-redis (PostgreSQL + Redis broker), or both (default)")
    group.add_argument("--post-baseline", type=int, default=None, help="letters in the sequential baseline (as many)")
    group.add_argument("--post-timeout", type=float, default=1800, help="seconds the dispatch may take at most")
    group.add_argument("--post-profile", action="store_true", help="py-spy the worker even when the target is met")
    group.add_argument("--post-profile-letters", type=int, default=3_000,
                       help="letters of the profiled dispatch, in a fresh setup (3,000)")
    group.add_argument("--post-followup-timeout", type=float, default=60,
                       help="seconds a one-letter dispatch sent after the big one may take (60)")
    if not any(a.dest == "redis_url" for a in parser._actions):
        group.add_argument("--redis-url", default="redis://127.0.0.1:6379/0", help="Redis broker (an empty database)")
    if not any(a.dest == "seed" for a in parser._actions):
        group.add_argument("--seed", type=int, default=1, help="random seed of the recipients")


# ==================================================================== processes, from /proc


def _proc_stats() -> dict[int, tuple[int, float, int, str]]:
    """pid -> (parent pid, CPU seconds incl. reaped children, RSS bytes, command name)."""
    found = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                data = f.read()
        except OSError:
            continue
        comm = data[data.index("(") + 1:data.rindex(")")]
        rest = data[data.rindex(")") + 2:].split()
        cpu = sum(int(v) for v in rest[11:15]) / CLK  # utime stime cutime cstime
        found[int(name)] = (int(rest[1]), cpu, int(rest[21]) * PAGE, comm)  # rss in pages
    return found


def _tree(stats, root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, (ppid, *_rest) in stats.items():
        children.setdefault(ppid, []).append(pid)
    out, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid in stats and pid not in out:
            out.add(pid)
            todo.extend(children.get(pid, []))
    return out


def _machine_busy() -> tuple[float, float]:
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    return (sum(values[:8]) - values[3] - values[4]) / CLK, sum(values[:8]) / CLK


@dataclass
class Procs:
    """The processes of one setup: what their memory and CPU are summed over."""

    web: int
    worker: int
    simulator: int
    pg_pids: object = None  # a function giving this run's PostgreSQL backends

    def groups(self, stats) -> dict[str, set[int]]:
        worker_tree = _tree(stats, self.worker)
        pool = {pid for pid in worker_tree if stats[pid][0] == self.worker}
        groups = {
            "worker: Celery main (broker, sweep, receipts poll)": {self.worker} & worker_tree,
            **{f"worker: pool process {pid} (jobs: the dispatch, archiving, …)": {pid} for pid in sorted(pool)},
            "worker: extraction children": worker_tree - pool - {self.worker},
            "web: sagspost serve": _tree(stats, self.web),
            "simulator: sagspost simulator": _tree(stats, self.simulator),
            "bench process (polling, this script)": {os.getpid()},
        }
        if self.pg_pids is not None:
            groups["PostgreSQL: this run's backends"] = set(self.pg_pids())
            groups["redis-server"] = {pid for pid, s in stats.items() if s[3].startswith("redis-server")}
        return groups

    def rss(self) -> dict[str, int]:
        stats = _proc_stats()
        worker_tree = _tree(stats, self.worker)
        return {"worker": sum(stats[p][2] for p in worker_tree), "web": sum(stats[p][2] for p in _tree(stats, self.web)),
                "simulator": sum(stats[p][2] for p in _tree(stats, self.simulator))}

    def cpu(self) -> dict:
        stats = _proc_stats()
        return {"groups": {name: {pid: stats[pid][1] for pid in pids if pid in stats}
                           for name, pids in self.groups(stats).items()},
                "machine": _machine_busy()}


def _cpu_delta(before: dict, after: dict) -> dict[str, float]:
    out = {}
    for name, pids in after["groups"].items():
        earlier = before["groups"].get(name, {})
        out[name] = sum(max(0.0, cpu - earlier.get(pid, 0.0)) for pid, cpu in pids.items())
    ours = sum(out.values())
    out["machine busy (all processes)"] = after["machine"][0] - before["machine"][0]
    out["other processes on the machine (not this run's)"] = max(0.0, out["machine busy (all processes)"] - ours)
    out["machine capacity"] = after["machine"][1] - before["machine"][1]
    return out


def _backends(engine, db: Database):
    """A function giving the pids of this run's PostgreSQL backends (by application_name)."""
    from sqlalchemy import text

    def pids():
        with engine.connect() as conn:
            return conn.execute(text("SELECT pid FROM pg_stat_activity WHERE application_name = :n"),
                                {"n": db._app_name}).scalars().all()

    return pids


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _sagspost() -> str:
    return str(Path(sys.executable).with_name("sagspost"))


def _start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen([_sagspost(), *args], env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True, cwd=str(log.parent))


def _stop(proc: subprocess.Popen | None) -> None:
    if proc is None:
        return
    if proc.poll() is None:
        proc.terminate()  # the main process only: Celery's warm shutdown ends its pool itself; waitress ends
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # whatever is left of the group (pool processes)
    except ProcessLookupError:
        pass
    if proc.poll() is None:
        proc.wait(timeout=10)


def _wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: the process exited {proc.returncode}:\n{_tail(log)}")
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.ConnectionError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"no answer on {url} within {timeout:.0f} s:\n{_tail(log)}")
        time.sleep(0.1)


def _tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


def _clean_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    keys = [k for pattern in ("celery*", "_kombu.*", "unacked*") for k in client.scan_iter(match=pattern)]
    if keys:
        client.delete(*keys)


def recipients(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    found: dict[str, None] = {}
    while len(found) < n:
        found[_cvr(rng)] = None
    return list(found)


# ==================================================================== the parts


def baseline(sim_api: str, numbers: list[str], pdf: bytes) -> tuple[float, int]:
    """The letters one by one in this thread: build the MeMo, send it with the real client."""
    from server.post import memo
    from server.post.providers import NgdpClient

    client = NgdpClient(sim_api, cert=None, system_id="sagspost-bench", delegated_cvr=None, timeout_s=30)
    sender = memo.MemoParty("CVR", SENDER_CVR, "Benchrup Kommune")
    accepted = 0
    started = time.perf_counter()
    for number in numbers:
        letter = memo.MemoLetter(message_uuid=uuid.uuid4(), label="Orientering", sender=sender,
                                 recipient=memo.MemoParty("CVR", number), main=memo.MemoFile("brev.pdf", PDF, pdf))
        outcome = client.send(letter.message_uuid, memo.build_memo(letter))
        accepted += outcome.status == "accepted"
    seconds = time.perf_counter() - started
    client.close()
    return seconds, accepted


@dataclass
class Milestone:
    letters: int
    seconds: float  # since the POST started
    rss: dict[str, int]  # now
    peak: dict[str, int]  # the peak so far


@dataclass
class Run:
    letters: int = 0
    post_s: float = 0.0
    done_s: float = 0.0  # POST start -> all delivered
    delivered: int = 0
    milestones: list[Milestone] = field(default_factory=list)
    peak: dict[str, int] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    exactly_once: str = ""
    lost_or_doubled: bool = False
    timed_out: bool = False
    load: tuple[float, float] = (0.0, 0.0)

    @property
    def letters_s(self) -> float:
        return self.letters / self.done_s if self.done_s else 0.0

    @property
    def sending_letters_s(self) -> float:
        return self.letters / (self.done_s - self.post_s) if self.done_s > self.post_s else 0.0


class Sampler(threading.Thread):
    """Polls the simulator's delivery count and the processes' memory while the dispatch runs."""

    def __init__(self, sim_url: str, procs: Procs, start_total: int, n: int, marks: list[int], started: float):
        super().__init__(name="post-bench-sampler", daemon=True)
        self.sim_url, self.procs, self.start_total, self.n, self.started = sim_url, procs, start_total, n, started
        self.marks = sorted(set(marks))
        self.milestones: list[Milestone] = []
        self.peak: dict[str, int] = {}
        self.delivered = 0
        self.done = threading.Event()
        self.stop_event = threading.Event()
        self.http = requests.Session()

    def run(self):
        last_rss = 0.0
        rss = self.procs.rss()
        while not self.stop_event.is_set():
            try:
                total = self.http.get(self.sim_url + "/_sim/state", timeout=10).json()["total"]
                self.delivered = total - self.start_total
            except (requests.RequestException, ValueError):
                pass
            now = time.perf_counter()
            if now - last_rss >= 0.25 or (self.marks and self.delivered >= self.marks[0]):
                rss, last_rss = self.procs.rss(), now
                for key, value in rss.items():
                    self.peak[key] = max(self.peak.get(key, 0), value)
            while self.marks and self.delivered >= self.marks[0]:
                self.milestones.append(Milestone(self.marks.pop(0), now - self.started, dict(rss), dict(self.peak)))
            if self.delivered >= self.n:
                self.done.set()
                return
            time.sleep(0.1)


def dispatch(base: str, token: str, sender_id: str, doc_id: str, numbers: list[str], title: str) -> tuple[float, str]:
    started = time.perf_counter()
    response = requests.post(base + "/api/dispatches", headers={"Authorization": f"Bearer {token}"}, timeout=3600, json={
        "title": title, "sender_identity_id": sender_id, "main_document_id": doc_id,
        "recipients": [{"type": "cvr", "number": n} for n in numbers],
    })
    if response.status_code != 201:
        raise RuntimeError(f"POST /api/dispatches answered {response.status_code}: {response.text[:500]}")
    return time.perf_counter() - started, response.json()["id"]


def measure_dispatch(args, base, token, sender_id, doc_id, numbers, sim_url, procs, engine) -> Run:
    from server.post.models import Letter

    n = len(numbers)
    marks = [m for m in (1_000, 5_000, 10_000) if m < n] + [n] if n >= 10_000 else [max(1, n // 10), max(1, n // 2), n]
    start_total = requests.get(sim_url + "/_sim/state", timeout=10).json()["total"]
    run_load = os.getloadavg()[0]
    cpu_before = procs.cpu()
    started = time.perf_counter()
    sampler = Sampler(sim_url, procs, start_total, n, marks, started)
    sampler.start()
    run = Run(letters=n)
    run.post_s, dispatch_id = dispatch(base, token, sender_id, doc_id, numbers, "Orientering")
    print(f"    POST /api/dispatches with {n:,} recipients answered in {run.post_s:.1f} s", flush=True)
    last_print, last_count = time.perf_counter(), 0
    while not sampler.done.wait(1.0):
        now = time.perf_counter()
        if now - started > args.post_timeout:
            run.timed_out = True
            break
        if now - last_print >= 10:
            rate = (sampler.delivered - last_count) / (now - last_print)
            print(f"    {sampler.delivered:,} delivered after {now - started:.0f} s ({rate:.0f}/s lately)", flush=True)
            last_print, last_count = now, sampler.delivered
    run.done_s = time.perf_counter() - started
    sampler.stop_event.set()
    sampler.join(timeout=10)
    run.cpu = _cpu_delta(cpu_before, procs.cpu())
    run.load = (run_load, os.getloadavg()[0])
    run.delivered, run.milestones, run.peak = sampler.delivered, sampler.milestones, sampler.peak
    # every letter recorded as sent, and each of them exactly once at the simulator
    deadline = time.monotonic() + 60
    while True:
        with engine.connect() as conn:
            rows = conn.execute(select(Letter.status, func.count()).where(Letter.dispatch_id == uuid.UUID(dispatch_id))
                                .group_by(Letter.status)).all()
        run.statuses = {getattr(s, "value", s): c for s, c in rows}
        if not ({"queued", "sending"} & run.statuses.keys()) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    with engine.connect() as conn:
        ours = {str(u) for u in conn.execute(select(Letter.message_uuid).where(Letter.dispatch_id == uuid.UUID(dispatch_id))).scalars()}
    sim = requests.get(sim_url + "/_sim/deliveries", timeout=60).json()
    per_uuid = sim["per_uuid"]
    missing = len(ours - set(per_uuid))
    doubled = sum(1 for u in ours if per_uuid.get(u, 0) > 1)
    not_sent = sum(c for s, c in run.statuses.items() if s not in ("sent", "delivered"))
    run.lost_or_doubled = bool(missing or doubled or not_sent or run.timed_out)
    run.exactly_once = (f"{len(ours):,} letters: {len(ours) - missing:,} at the simulator, {missing} missing, {doubled} more than "
                        f"once; duplicates refused: {sim['duplicates_refused']}; statuses {run.statuses}")
    return run


def _broker_backlog(broker_url: str) -> int | None:
    """Messages waiting in the Celery queue."""
    try:
        if broker_url.startswith("redis"):
            import redis

            return redis.Redis.from_url(broker_url).llen("celery")
        import sqlite3

        path = broker_url[len("sqla+sqlite:///"):]
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10) as conn:
            return conn.execute("SELECT count(*) FROM kombu_message WHERE visible = 1").fetchone()[0]
    except Exception:
        return None


def _jobs(engine) -> dict[str, int]:
    from server.jobs.models import Job

    with engine.connect() as conn:
        rows = conn.execute(select(Job.kind, Job.status, func.count()).group_by(Job.kind, Job.status)).all()
    return {f"{kind} {getattr(status, 'value', status)}": n for kind, status, n in rows}


def backlog(engine, sim_url: str, broker_url: str) -> str:
    """What the dispatch leaves for later: receipts not fetched, archiving and extraction jobs."""
    from server.post.models import Letter

    with engine.connect() as conn:
        statuses = dict(conn.execute(select(Letter.status, func.count()).group_by(Letter.status)).all())
    state = requests.get(sim_url + "/_sim/state", timeout=30).json()
    jobs = {k: v for k, v in _jobs(engine).items() if not k.endswith(" done")}
    return (f"letters {({getattr(k, 'value', k): v for k, v in statuses.items()})}; receipts waiting at the simulator: "
            f"{state['receipts_waiting']:,}; jobs not done: {jobs}; broker queue: {_broker_backlog(broker_url)} messages")


def followup(args, base, token, sender_id, doc_id, sim_url, engine, broker_url) -> str:
    """A one-letter dispatch sent right after the big one: how long until it is delivered."""
    start_total = requests.get(sim_url + "/_sim/state", timeout=10).json()["total"]
    number = recipients(args.post_letters + 1, args.seed)[-1]
    started = time.perf_counter()
    dispatch(base, token, sender_id, doc_id, [number], "Opfølgning")
    while time.perf_counter() - started < args.post_followup_timeout:
        if requests.get(sim_url + "/_sim/state", timeout=10).json()["total"] > start_total:
            return f"delivered after {time.perf_counter() - started:.1f} s"
        time.sleep(0.2)
    queued = {k: v for k, v in _jobs(engine).items() if k.endswith(" queued")}
    return (f"NOT delivered within {args.post_followup_timeout:.0f} s: its post.run_dispatch job waits in the broker's "
            f"queue behind {_broker_backlog(broker_url)} messages (jobs queued: {queued})")


# ==================================================================== profiling with py-spy


def py_spy() -> str | None:
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


def profile_dispatch(spy: str, args, base, token, sender_id, doc_id, numbers, sim_url, procs, out_dir: Path,
                     gil: bool = False) -> list[str]:
    """A dispatch with py-spy recording the worker's processes at 97 Hz: every active thread (what
    the threads wait in, too: a lock, an answer), or with `gil` only the thread holding the GIL (where
    the CPU of each process goes)."""
    raw = out_dir / "worker.pyspy.txt"
    start_total = requests.get(sim_url + "/_sim/state", timeout=10).json()["total"]
    spy_proc = subprocess.Popen([spy, "record", "--pid", str(procs.worker), "--subprocesses", "--format", "raw",
                                 "--rate", "97", "--nonblocking", "--output", str(raw), "--duration", "600",
                                 *(["--gil"] if gil else [])],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    web_raw = out_dir / "web.pyspy.txt"
    web_spy = subprocess.Popen([spy, "record", "--pid", str(procs.web), "--format", "raw", "--rate", "97", "--nonblocking",
                                "--gil", "--output", str(web_raw), "--duration", "600"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1.0)
    started = time.perf_counter()
    post_s, _ = dispatch(base, token, sender_id, doc_id, numbers, "Profil")
    web_spy.send_signal(signal.SIGINT)
    try:
        web_spy.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        web_spy.kill()
        web_spy.communicate()
    while requests.get(sim_url + "/_sim/state", timeout=10).json()["total"] - start_total < len(numbers):
        if time.perf_counter() - started > args.post_timeout:
            break
        time.sleep(0.2)
    seconds = time.perf_counter() - started
    spy_proc.send_signal(signal.SIGINT)  # py-spy writes what it has on Ctrl-C
    try:
        _, err = spy_proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        spy_proc.kill()
        _, err = spy_proc.communicate()
    if not raw.exists():
        return [f"  py-spy wrote nothing: {err.decode(errors='replace')[-500:]}"]
    kept = Path(tempfile.gettempdir()) / f"sagspost-bench-post-pyspy-{'gil' if gil else 'active'}-{int(time.time())}.txt"
    shutil.copyfile(raw, kept)
    what = "the thread holding the GIL (CPU)" if gil else "every active thread (CPU and waits)"
    lines = [f"  py-spy on the worker, {what} ({len(numbers):,} letters in {seconds:.1f} s, {len(numbers) / seconds:.0f}/s under "
             f"the profiler; the POST took {post_s:.1f} s); raw samples kept in {kept}:"]
    lines += summarise_pyspy(raw.read_text(errors="replace"), gil=gil)
    if web_raw.exists() and not gil:
        lines += ["", f"  py-spy on the web process during POST /api/dispatches ({len(numbers):,} recipients, {post_s:.1f} s; "
                      "the thread holding the GIL):"]
        lines += summarise_pyspy(web_raw.read_text(errors="replace"), top=20, gil=True, show_steps=False)
    return lines


_DRIVER_CALLS = {"do_execute", "do_executemany", "do_execute_no_params", "do_commit", "do_rollback", "do_begin"}
_AREAS = (  # (label, what the innermost frame's file path contains), the first match wins
    ("SQLAlchemy (ORM, Core, pool)", ("sqlalchemy/",)),
    ("psycopg (PostgreSQL driver, Python part)", ("psycopg",)),
    ("HTTP client (requests, urllib3, http.client, socket)", ("requests/", "urllib3/", "http/client.py", "socket.py", "ssl.py")),
    ("MeMo XML (lxml, base64)", ("lxml", "base64.py", "server/post/memo.py")),
    ("JSON", ("json/",)),
    ("logging", ("logging/",)),
    ("Celery / kombu", ("celery/", "kombu/", "billiard/", "vine/")),
    ("threads, queues, waits", ("threading.py", "queue.py", "concurrent/futures", "selectors.py")),
    ("the project's own code (server/)", ("server/",)),
)


def _parse_frame(frame: str) -> tuple[str, str]:
    """'name (path/file.py:12)' -> (name, path/file.py)."""
    name, _, where = frame.partition(" (")
    return name, where.rsplit(":", 1)[0].rstrip(")")


def _project(path: str) -> str | None:
    """server/... for a file of the project, else None (py-spy shortens paths, sometimes not)."""
    if path.startswith("server/"):
        return path
    if "/server/" in path and "site-packages" not in path:
        return "server/" + path.split("/server/", 1)[1]
    return None


def summarise_pyspy(raw: str, top: int = 25, gil: bool = False, show_steps: bool = True) -> list[str]:
    """Samples summed: by step of the worker's work, by where the innermost frame is, and inclusive
    per project function (counted once per sample however deep the recursion)."""
    total = 0
    areas: Counter = Counter()
    inclusive: Counter = Counter()
    steps: Counter = Counter()
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        count = int(count)
        total += count
        frames = [_parse_frame(f) for f in stack.split(";") if not f.startswith("process ")]
        if not frames:
            continue
        leaf_name, leaf_path = frames[-1]
        if leaf_name in _DRIVER_CALLS and "sqlalchemy/" in leaf_path:
            area = "database driver call (SQLite C library or psycopg: statements, commits, lock waits)"
        else:
            area = next((label for label, keys in _AREAS if any(k in leaf_path for k in keys)),
                        "other (Python stdlib, builtins)")
        areas[area] += count
        seen = set()
        for name, path in frames:
            project = _project(path)
            if project and (project, name) not in seen:
                seen.add((project, name))
                inclusive[f"{project} {name}"] += count
        names = [name for name, _ in frames]
        if "send_letter" in names:
            i = names.index("send_letter")
            step = names[i + 1] if i + 1 < len(names) else "send_letter itself"
            steps["send_letter -> " + step] += count
        elif "claim" in names:
            steps["claim (a batch of 64 letters)"] += count
        elif "archive_letter" in names:
            steps["archive_letter (archiving a delivered letter)"] += count
        elif "apply_receipts" in names or "poll" in names:
            steps["receipts poll (fetch, apply, acknowledge)"] += count
        elif "sweep" in names or "run_periodic" in names:
            steps["job sweep"] += count
        elif any(_project(p) for _, p in frames):
            steps["other project code: " + next(n for n, p in reversed(frames) if _project(p))] += count
        else:
            steps["outside the project (Celery, broker polling, pool management)"] += count
    if not total:
        return ["  no samples"]
    processes: Counter = Counter()
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if count.isdigit():
            procs = [f.split(":")[0] for f in stack.split(";") if f.startswith("process ")]
            processes[procs[-1] if procs else "?"] += int(count)
    out = [f"  {total:,} samples in all processes ("
           + ("one per process per tick, when a thread holds its GIL" if gil else "one per active thread per tick") + "):"]
    if set(processes) != {"?"}:
        out += [f"    {n:6,}  {name}" for name, n in processes.most_common()]
    if show_steps:
        out.append("  By step of the work (share of all samples):")
        out += [f"    {100 * c / total:5.1f} %  {name}" for name, c in steps.most_common(15)]
    out.append("  By where the innermost frame is (self time):")
    out += [f"    {100 * c / total:5.1f} %  {name}" for name, c in areas.most_common()]
    out.append(f"  The project's functions, inclusive (top {top}):")
    out += [f"    {100 * c / total:5.1f} %  {name}" for name, c in inclusive.most_common(top)]
    return out


# ==================================================================== one setup


@dataclass
class Setup:
    name: str
    db_label: str = ""
    broker_label: str = ""
    version: str = ""
    baseline_n: int = 0
    baseline_s: float = 0.0
    baseline_ok: int = 0
    run: Run | None = None
    profile: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    worker_log: str = ""
    backlog: str = ""
    followup: str = ""

    @property
    def baseline_letters_s(self) -> float:
        return self.baseline_n / self.baseline_s if self.baseline_s else 0.0

    @property
    def judged(self) -> bool:
        return self.name == "embedded"

    @property
    def memory_flat(self) -> bool | None:
        if not self.run or len(self.run.milestones) < 2:
            return None
        first, last = self.run.milestones[0].peak, self.run.milestones[-1].peak
        # flat: what the worker and the web process hold grows by less than 25 % (and 30 MB) from the first mark
        return all(last.get(k, 0) <= max(first.get(k, 0) * 1.25, first.get(k, 0) + 30 * 2**20) for k in ("worker", "web"))

    @property
    def passed(self) -> bool | None:
        if not self.judged or not self.run:
            return None
        return self.run.letters_s >= TARGET_LETTERS_S and bool(self.memory_flat) and not self.run.lost_or_doubled


def run_setup(args, name: str, profile_only: bool = False, gil: bool = False) -> Setup:
    from server import bootstrap
    from tests.files import text_pdf

    setup = Setup(name)
    broker_url = ""
    if name == "pg-redis":
        import redis

        client = redis.Redis.from_url(args.redis_url)
        foreign = [k for k in client.scan_iter(count=1000) if not k.startswith(b"_kombu.")]
        if foreign:
            setup.notes.append(f"Redis database {args.redis_url} holds {len(foreign)} keys: not used, setup skipped")
            return setup
        broker_url = args.redis_url
        db = Database.postgres(os.environ.get("SAGSPOST_DATABASE_URL") or DEFAULT_PG)
    else:
        db = Database.sqlite()
    setup.db_label = db.label
    data_dir = Path(tempfile.mkdtemp(prefix="sagspost-bench-post-"))
    setup.broker_label = broker_url or "sqla+sqlite:///<data dir>/broker.sqlite (the default)"
    engine = app = web = worker = sim = None
    logs = {k: data_dir / f"{k}.log" for k in ("web", "worker", "simulator")}
    try:
        engine = make_engine(db.url)
        migrate(engine)
        setup.version = server_version(engine)
        settings = Settings.from_env({}, data_dir=data_dir, database_url=db.url, secret_key="bench", log_level="WARNING",
                                     log_format="text", broker_url=broker_url, argon2_time_cost=1, argon2_memory_cost_kib=1024)
        app = create_app(settings)
        with app.extensions["sagspost.sessionmaker"]() as session, session.begin():
            bootstrap.initialise(session, app.extensions["sagspost.passwords"], "bench-password-not-used")
        with app.extensions["sagspost.sessionmaker"]() as session:
            from server.auth.models import User

            admin_id = session.scalar(select(User.id).where(User.username == "admin"))
        token = _token(app, admin_id)

        web_port, sim_port = _free_port(), _free_port()
        sim_url, base = f"http://127.0.0.1:{sim_port}", f"http://127.0.0.1:{web_port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("SAGSPOST_")}
        env.update(SAGSPOST_DATABASE_URL=db.url, SAGSPOST_DATA_DIR=str(data_dir), SAGSPOST_SECRET_KEY="bench",
                   SAGSPOST_POST_API_URL=sim_url + "/apis/v1", SAGSPOST_SIMULATOR_PORT=str(sim_port),
                   SAGSPOST_LOG_LEVEL="WARNING", SAGSPOST_LOG_FORMAT="text")
        if broker_url:
            env["SAGSPOST_BROKER_URL"] = broker_url
        sim = _start(["simulator", "--port", str(sim_port), "--state-file", str(data_dir / "post-simulator.sqlite")], env,
                     logs["simulator"])
        web = _start(["serve", "--port", str(web_port), "--threads", "8"], env, logs["web"])
        worker = _start(["worker", "--concurrency", "2"], env, logs["worker"])
        _wait_http(sim_url + "/_sim/state", sim, logs["simulator"])
        _wait_http(base + "/healthz", web, logs["web"])

        def all_registered():
            response = requests.put(sim_url + "/_sim/contact-rules", json={"default": "REGISTERED", "rules": []}, timeout=10)
            response.raise_for_status()

        all_registered()
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {token}"
        sender = http.post(base + "/api/post/sender-identities", json={"name": "Benchrup Kommune", "cvr": SENDER_CVR})
        sender.raise_for_status()
        pdf = text_pdf("Kære virksomhed\nKommunen orienterer hermed om nye regler for affaldssortering.\n"
                       "Med venlig hilsen\nBenchrup Kommune")
        doc = http.post(base + "/api/documents", data={"title": "Orientering"},
                        files={"file": ("orientering.pdf", pdf, PDF)})
        doc.raise_for_status()
        # the worker is up when it has extracted the letter's text
        deadline = time.monotonic() + 120
        while http.get(f"{base}/api/documents/{doc.json()['id']}").json()["files"][0]["versions"][0]["text_status"] == "pending":
            if worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not take the first job:\n{_tail(logs['worker'])}")
            time.sleep(0.2)

        procs = Procs(web.pid, worker.pid, sim.pid, _backends(engine, db) if db.kind == "postgresql" else None)
        sender_id, doc_id = sender.json()["id"], doc.json()["id"]

        if profile_only:
            spy = py_spy()
            if spy is None:
                setup.profile = ["  py-spy is not installed (.venv/bin/pip install py-spy): no profile"]
            else:
                print(f"  [{name}] profiling the worker with py-spy over {args.post_profile_letters:,} letters "
                      f"(a fresh setup) …", flush=True)
                setup.profile = profile_dispatch(spy, args, base, token, sender_id, doc_id,
                                                 recipients(args.post_profile_letters, args.seed + 1), sim_url, procs,
                                                 data_dir, gil=gil)
            return setup

        numbers = recipients(args.post_letters, args.seed)
        setup.baseline_n = min(args.post_baseline or len(numbers), len(numbers))
        print(f"  [{name}] baseline: {setup.baseline_n:,} letters one by one with NgdpClient …", flush=True)
        setup.baseline_s, setup.baseline_ok = baseline(sim_url + "/apis/v1", numbers[:setup.baseline_n], pdf)
        print(f"    {setup.baseline_n / setup.baseline_s:.0f} letters/s", flush=True)
        requests.post(sim_url + "/_sim/reset", timeout=60).raise_for_status()
        all_registered()

        print(f"  [{name}] dispatch of {len(numbers):,} letters …", flush=True)
        setup.run = measure_dispatch(args, base, token, sender_id, doc_id, numbers, sim_url, procs, engine)
        print(f"    {setup.run.letters_s:.0f} letters/s end to end; {setup.run.exactly_once}", flush=True)
        setup.backlog = backlog(engine, sim_url, broker_url or settings.celery_broker_url)
        print(f"    left behind: {setup.backlog}", flush=True)
        setup.followup = followup(args, base, token, sender_id, doc_id, sim_url, engine,
                                  broker_url or settings.celery_broker_url)
        print(f"    a one-letter dispatch right after: {setup.followup}", flush=True)
        http.close()
        return setup
    finally:
        for proc in (worker, web, sim):
            _stop(proc)
        log = _tail(logs["worker"], 200)
        setup.worker_log = "\n".join(line for line in log.splitlines()
                                     if "Traceback" in line or "ERROR" in line or "Error" in line)[-2000:]
        if app is not None:
            app.extensions["sagspost.engine"].dispose()
        if engine is not None:
            engine.dispose()
        try:
            db.drop()
        except Exception as exc:
            print(f"could not drop the benchmark database: {exc}", file=sys.stderr)
        shutil.rmtree(data_dir, ignore_errors=True)
        if broker_url:
            _clean_redis(broker_url)


# ==================================================================== the report


def _mb(value: int) -> str:
    return f"{value / 2**20:.0f}"


def report(setups: list[Setup], wall: float) -> None:
    out = print
    out("")
    out("=" * 118)
    out(f"Digital Post benchmark — dispatch end to end vs one by one — {os.cpu_count()} CPUs")
    for s in setups:
        out("")
        out(f"[{s.name}] {s.version or ''} — {s.db_label}; Celery broker {s.broker_label}")
        for note in s.notes:
            out(f"  NOTE {note}")
        if not s.run:
            continue
        r = s.run
        header = f"  {'':<66} {'letters':>8} {'seconds':>8} {'letters/s':>10}  {'target':<16}"
        out(header)
        out("  " + "-" * (len(header) - 2))
        out(f"  {'baseline: NgdpClient build_memo + send, one by one, 1 thread':<66} {s.baseline_n:>8,} "
            f"{s.baseline_s:>8.1f} {s.baseline_letters_s:>10.1f}  {'baseline':<16}")
        out(f"  {'POST /api/dispatches (creating the dispatch, its letters, contacts)':<66} {r.letters:>8,} {r.post_s:>8.1f} "
            f"{r.letters / r.post_s if r.post_s else 0:>10.1f}")
        out(f"  {'  then sending (POST answered -> all delivered in the simulator)':<66} {r.letters:>8,} "
            f"{r.done_s - r.post_s:>8.1f} {r.sending_letters_s:>10.1f}")
        verdict = (f">={TARGET_LETTERS_S:.0f}/s {'PASS' if r.letters_s >= TARGET_LETTERS_S else 'FAIL'}"
                   + ("" if s.judged else " (info)"))
        out(f"  {'dispatch end to end (POST start -> all delivered)':<66} {r.delivered:>8,} {r.done_s:>8.1f} "
            f"{r.letters_s:>10.1f}  {verdict:<16}")
        out(f"  end to end vs baseline: {r.letters_s / s.baseline_letters_s if s.baseline_letters_s else 0:.2f}x"
            f"{'; TIMED OUT' if r.timed_out else ''}")
        out(f"  exactly once: {r.exactly_once} — {'OK' if not r.lost_or_doubled else 'LOST, DOUBLED OR UNFINISHED LETTERS'}")
        out(f"  left behind when the last letter was delivered: {s.backlog}")
        out(f"  a one-letter dispatch sent right after: {s.followup}")
        out("  Memory, RSS in MB (now / peak so far), sampled every 0.25 s:")
        out(f"    {'delivered':>10} {'at s':>7}   {'worker tree':>13} {'web':>11} {'simulator':>11}")
        for m in r.milestones:
            out(f"    {m.letters:>10,} {m.seconds:>7.1f}   {_mb(m.rss['worker']):>6} / {_mb(m.peak['worker']):<4} "
                f"{_mb(m.rss['web']):>5} / {_mb(m.peak['web']):<4} {_mb(m.rss['simulator']):>5} / {_mb(m.peak['simulator']):<4}")
        flat = s.memory_flat
        out(f"    memory of worker and web: {'flat' if flat else 'GROWS' if flat is False else 'not measured'} "
            f"(peak at the last mark within +25 % or +30 MB of the first)")
        capacity = r.cpu.get("machine capacity", 0)
        out(f"  CPU seconds during the run ({r.done_s:.0f} s wall, {capacity:.0f} CPU-s available; load average "
            f"{r.load[0]:.2f} before, {r.load[1]:.2f} after — other work on the machine slows this run down):")
        for key, value in sorted(r.cpu.items(), key=lambda kv: -kv[1]):
            if key != "machine capacity":
                out(f"    {value:7.1f}  {100 * value / capacity if capacity else 0:5.1f} %  {key}")
        if s.profile:
            out("")
            out("\n".join(s.profile))
        if s.worker_log:
            out("  worker log (errors):")
            out("    " + s.worker_log.replace("\n", "\n    "))
    out("")
    judged = [s for s in setups if s.judged and s.run]
    for s in judged:
        r = s.run
        if s.passed:
            out(f"RESULT: PASS — {r.letters_s:.0f} letters/s end to end with the embedded setup (target ≥ "
                f"{TARGET_LETTERS_S:.0f}), memory flat, every letter exactly once")
        else:
            why = []
            if r.letters_s < TARGET_LETTERS_S:
                why.append(f"{r.letters_s:.0f} letters/s < {TARGET_LETTERS_S:.0f}")
            if not s.memory_flat:
                why.append("memory grows")
            if r.lost_or_doubled:
                why.append("letters lost, doubled or unfinished")
            out(f"RESULT: FAIL — embedded setup: {'; '.join(why)}")
    out(f"Total run time: {wall:.0f} s")


def main(argv=None, args=None) -> int:
    if args is None:
        args = build_parser().parse_args(argv)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    wall = time.perf_counter()
    if getattr(args, "small", False) and args.post_letters == 10_000:
        args.post_letters = 1_000  # run.py --small: a quick check
    names = [n.strip() for n in args.post_setups.split(",") if n.strip()]
    unknown = set(names) - {"embedded", "pg-redis"}
    if unknown:
        raise SystemExit(f"unknown --post-setups {', '.join(sorted(unknown))}: embedded, pg-redis")
    print(f"Digital Post benchmark: {args.post_letters:,} letters, setups {', '.join(names)}", flush=True)
    setups = []
    for name in names:
        setup = run_setup(args, name)
        if setup.run and (args.post_profile or (setup.judged and not setup.passed)):
            # fresh setups: a second dispatch in this one would wait behind the receipts' jobs
            setup.profile = (run_setup(args, name, profile_only=True).profile + [""]
                             + run_setup(args, name, profile_only=True, gil=True).profile)
        setups.append(setup)
    report(setups, time.perf_counter() - wall)
    failed = [s for s in setups if s.judged and s.run and not s.passed]
    lost = [s for s in setups if s.run and s.run.lost_or_doubled]
    return 1 if failed or lost else 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
