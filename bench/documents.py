"""Documents: ingest throughput (upload + text extraction + indexing) and search latency, through HTTP.

    make bench BENCH_ARGS=documents                        # PostgreSQL: both parts at full size
    .venv/bin/python bench/run.py documents --small        # 1,000 documents ingested, 10,000 searched
    .venv/bin/python bench/run.py documents --parts search --sqlite   # the search part on SQLite
    .venv/bin/python bench/run.py documents --parts ingest --broker redis   # ingest, Redis broker only
    .venv/bin/python bench/documents.py --help             # the same benchmark, run directly

Ingest. A mixed set of --docs documents (default 10,000: 80 % text PDFs of 1-3 pages, 10 % Word
files, 10 % e-mails; made with tests/files.py from Danish text, bench/corpus.py) is uploaded by
--clients threads (4), each with its own keep-alive `requests.Session` and the benchmark user's API
token, in batches of --batch files (50) to POST /api/documents/batch (a document per file, all of a
request in one transaction, one extraction job per 50 files), each request onto one of the user's
cases, served by the real app (waitress in a thread, jobs_inline off). For comparison a third phase
uploads --single-docs text PDFs (500) one per POST /api/documents, the path a single file takes
(one extraction job each). After the warm-up the tables are analyzed, and on a PostgreSQL without
autovacuum the ingest's tables are analyzed every 10 s in its stead (else the foreign-key checks keep
plans made for empty tables). Text extraction and indexing run where they do in production: a real
`sagspost worker` (Celery, --concurrency 2 processes) started as a subprocess on the same database
and blob folder, on the SQLite broker the product uses by default (or Redis with --broker redis,
both with --broker both). The clock runs from the first upload until no uploaded document's file
version has text_status = pending (the database is polled every 0.2 s once the uploads are done).
Three phases, each on its own documents: text PDFs only (--pdf-docs, default 3,000), judged against
the issue's target of 200 documents/s on 2 cores, then the mixed set (both in batches), then the
single uploads. With the SQLite broker
(--broker sqlite or both, the default) each phase is cut to --sqlite-broker-docs (50): that
broker moves one or two jobs a second, so 10,000 would take hours. The baseline, measured in the same run on the
same PDFs in this one process: pypdf `PdfReader(...).pages[i].extract_text()` for every page
(documents/s); beside it, for information, pypdfium2 in-process (the app's parser) and the app's own
`extraction.extract_text` (a sandboxed child process per caller), one file at a time. Where the 2
cores go is measured per process group from /proc (the benchmark process = web server + clients; the
worker's main process, pool processes and extraction children; this run's PostgreSQL backends;
redis-server in a Redis round), with the rest of the machine's load beside it: the CPU-ms per
document of this run give the most a dedicated 2-core machine could do, whatever else runs. After
the phases the worker is stopped and 100 uploads are profiled (cProfile), in batch requests one at a time.

Search. --search-docs document entries (default 100,000) are written straight into search_entries
on top of a case load from bench/seed.py (one case per 5 documents): 92 % on cases (mostly of the
case's subject; the benchmark user may read about three quarters of the cases), 5 % personal, 3 %
shared in a group, bodies of a few hundred Danish words (3 % of 1,500-3,000), dated over three
years. The cases and contacts get their own entries, as the product indexes them. On PostgreSQL the
tsv column is computed in SQL exactly as server.search.services.index does (setweight(to_tsvector(
'danish', words of the title), 'A') || setweight(to_tsvector('danish', words of the body), 'B')),
the GIN index built after the load; on SQLite the stems go into the FTS5 table as index() writes
them. Then POST /api/search with 30 one-word and 30 three-word Danish queries (20 warm-up, then
--requests measured per kind, cycling through the queries), one request at a time. Target: p95 under
50 ms on PostgreSQL. Baselines /healthz and /api/auth/me in the same run. The SQL time per request
is split by statement (the match with total, facets and ranked page; the hit rows; labels; auth;
planner settings); when the target is missed, the slowest query's statements are run again under
EXPLAIN (ANALYZE, BUFFERS), with the SET LOCAL settings the request made, and 50 requests of it
are profiled. --keep-db keeps the search database for a closer look.

Exit code 1 when a target is missed on PostgreSQL or requests fail.
"""
from __future__ import annotations

import argparse
import bisect
import concurrent.futures
import io
import itertools
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

from common import (  # noqa: E402
    DEFAULT_PG,
    ROOT,
    SERVER_THREADS,
    Database,
    ServerClock,
    SqlMeter,
    _interrupt,
    _token,
    cycle,
    explain,
    migrate,
    percentile,
    profile,
    serve,
    server_version,
    stop,
)

import requests  # noqa: E402
from sqlalchemy import select, text  # noqa: E402

import corpus  # noqa: E402
import seed as seeding  # noqa: E402
from server import create_app  # noqa: E402
from server.config import Settings  # noqa: E402
from server.db import make_engine  # noqa: E402
from server.models import metadata  # noqa: E402

INGEST_TARGET_DOCS_S = 200.0
SEARCH_TARGET_P95_MS = 50.0
WARMUP, MEASURED = 20, 300
PDF_MIME = "application/pdf"
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
EML_MIME = "message/rfc822"
CLK = os.sysconf("SC_CLK_TCK")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], add_help=True)
    add_options(parser)
    return parser


def add_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("documents benchmark")
    group.add_argument("--parts", default="ingest,search", help="ingest, search or both (default ingest,search)")
    group.add_argument("--docs", type=int, default=10_000, help="mixed documents to ingest (10,000)")
    group.add_argument("--pdf-docs", type=int, default=3_000, help="text PDFs in the PDF-only phase (3,000)")
    group.add_argument("--clients", type=int, default=4, help="upload threads (4)")
    group.add_argument("--batch", type=int, default=50,
                       help="documents per POST /api/documents/batch request in the measured phases (50)")
    group.add_argument("--single-docs", type=int, default=500,
                       help="text PDFs uploaded one per POST /api/documents, for comparison (500; --small: 100)")
    group.add_argument("--concurrency", type=int, default=2, help="worker processes of `sagspost worker` (2)")
    group.add_argument("--broker", choices=("sqlite", "redis", "both"), default="both",
                       help="Celery broker for the ingest: the product's default SQLite file, Redis, or both in turn (both)")
    group.add_argument("--sqlite-broker-docs", type=int, default=50,
                       help="documents per phase with the SQLite broker, which moves about 1-2 jobs a second (50)")
    group.add_argument("--worker-polling-interval", type=float, default=None,
                       help="what-if: the worker's kombu polling interval in seconds (kombu's default, which the "
                            "product keeps, is 1 s; it matters for the SQLite broker, not for Redis)")
    group.add_argument("--redis-url", default="redis://127.0.0.1:6379/0", help="Redis broker (an empty database)")
    group.add_argument("--search-docs", type=int, default=100_000, help="documents in the search index (100,000)")
    group.add_argument("--ingest-timeout", type=float, default=1800, help="seconds a phase may take at most")
    group.add_argument("--keep-db", action="store_true",
                       help="keep the search part's database for a closer look (prints where; drop it yourself)")
    # shared with the cases benchmark (bench/run.py): defined there too, so only when run alone
    if not any(a.dest == "sqlite" for a in parser._actions):
        parser.add_argument("--sqlite", action="store_true", help="a temporary SQLite file instead of PostgreSQL")
        parser.add_argument("--small", action="store_true", help="a quick check: 1,000 ingested, 10,000 searched")
        parser.add_argument("--requests", type=int, default=MEASURED, help=f"measured requests per kind ({MEASURED})")
        parser.add_argument("--warmup", type=int, default=WARMUP, help=f"warm-up requests per kind ({WARMUP})")
        parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE and profile even when the target is met")
        parser.add_argument("--seed", type=int, default=1, help="random seed of the datasets")


# ==================================================================== CPU accounting


def _proc_stats() -> dict[int, tuple[int, float, str]]:
    """pid -> (parent pid, CPU seconds incl. reaped children, command name) for every process.

    cutime/cstime count the children a process has waited for, so the CPU of an extraction child
    that was replaced shows up in the pool process that started it."""
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
        found[int(name)] = (int(rest[1]), cpu, comm)
    return found


def _tree(stats, root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    out, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid in stats and pid not in out:
            out.add(pid)
            todo.extend(children.get(pid, []))
    return out


def _machine_busy() -> tuple[float, float]:
    """(busy CPU seconds, all CPU seconds) of the whole machine since boot."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    total = sum(values[:8])
    idle = values[3] + values[4]
    return (total - idle) / CLK, total / CLK


class CpuMeter:
    """CPU seconds per process group between two snapshots."""

    def __init__(self, worker_pid: int | None, pg_pids, redis_is_ours: bool):
        self.worker_pid = worker_pid
        self.pg_pids = pg_pids  # a function giving this run's backend pids
        self.redis_is_ours = redis_is_ours  # the broker of this round (else its CPU is someone else's)

    OURS = ("bench process: waitress + app (upload requests) + upload clients",
            "worker: Celery main process (broker, sweep)",
            "worker: pool processes (claim job, index, commit)",
            "worker: extraction children (parse the file)",
            "PostgreSQL: this run's backends",
            "redis-server")

    def snapshot(self) -> dict:
        stats = _proc_stats()
        pg = set(self.pg_pids())
        pool = {pid for pid, (ppid, _, _) in stats.items() if ppid == self.worker_pid} if self.worker_pid else set()
        tree = _tree(stats, self.worker_pid) if self.worker_pid else set()
        names = self.OURS
        groups = {
            names[0]: {os.getpid()},
            names[1]: {self.worker_pid} & tree,
            names[2]: pool,
            names[3]: tree - pool - {self.worker_pid},
            names[4]: pg,
            names[5]: {pid for pid, (_, _, comm) in stats.items()
                        if self.redis_is_ours and comm.startswith("redis-server")},
        }
        return {
            "groups": {name: {pid: stats[pid][1] for pid in pids if pid in stats} for name, pids in groups.items()},
            "machine": _machine_busy(),
            "wall": time.perf_counter(),
        }

    @staticmethod
    def delta(before: dict, after: dict) -> dict[str, float]:
        out = {}
        for name, pids in after["groups"].items():
            earlier = before["groups"].get(name, {})
            # a process that started meanwhile counts from 0; the postmaster's children keep their cutime
            out[name] = sum(max(0.0, cpu - earlier.get(pid, 0.0)) for pid, cpu in pids.items())
        busy = after["machine"][0] - before["machine"][0]
        total = after["machine"][1] - before["machine"][1]
        ours = sum(out.values())
        out["= this run"] = ours
        out["other load on the machine (others' processes and sessions, kernel)"] = max(0.0, busy - ours)
        out["idle"] = total - busy
        return out


# ==================================================================== the ingest corpus


@dataclass
class Item:
    kind: str  # pdf | docx | eml
    filename: str
    title: str
    mime: str
    data: bytes
    pages: int = 1


def _make_items(spec: tuple[int, int, list[str]]) -> list[Item]:
    """Items for a chunk (run in a pool): (seed, first index, kinds)."""
    sys.path.insert(0, str(ROOT))
    from tests.files import docx_file, email_file, text_pdf

    chunk_seed, first, kinds = spec
    w = corpus.Writer(chunk_seed)
    rng = w.rng
    items = []
    for offset, kind in enumerate(kinds):
        i = first + offset
        subject = w.subject()
        doc_type = w.document_type()
        title = w.title(subject, doc_type)
        stem = f"{doc_type.lower()}-{i:06d}"
        if kind == "pdf":
            pages = rng.choices((1, 2, 3), weights=(5, 3, 2))[0]
            data = text_pdf(*w.pages(subject, pages, title))
            items.append(Item("pdf", f"{stem}.pdf", title, PDF_MIME, data, pages))
        elif kind == "docx":
            n_words = rng.randrange(300, 1000)
            paragraphs = w.body(subject, n_words, title).split("\n\n")
            items.append(Item("docx", f"{stem}.docx", title, DOCX_MIME, docx_file(*paragraphs)))
        else:
            name = w.name()
            first_name = name.split()[0].lower()
            data = email_file(
                subject=title, sender=f"{name} <{first_name}.{i}@example.dk>", to="post@kommune.example",
                text=w.body(subject, rng.randrange(80, 400), ""), message_id=f"<bench-{chunk_seed}-{i}@example.dk>",
            )
            items.append(Item("eml", f"{stem}.eml", title, EML_MIME, data))
    return items


def make_corpus(kinds: list[str], seed: int, first: int = 0) -> list[Item]:
    """Documents of the given kinds, in that order; made in a pool of processes (Word files are slow)."""
    size = 250
    specs = [(seed * 1_000_003 + start, first + start, kinds[start:start + size]) for start in range(0, len(kinds), size)]
    workers = max(1, min(os.cpu_count() or 1, len(specs)))
    if workers == 1:
        return [item for spec in specs for item in _make_items(spec)]
    with concurrent.futures.ProcessPoolExecutor(workers) as pool:
        return [item for chunk in pool.map(_make_items, specs) for item in chunk]


def mixed_kinds(n: int, rng: random.Random) -> list[str]:
    n_docx = n // 10
    n_eml = n // 10
    kinds = ["pdf"] * (n - n_docx - n_eml) + ["docx"] * n_docx + ["eml"] * n_eml
    rng.shuffle(kinds)
    return kinds


# ==================================================================== ingest: baselines


def baseline_pypdf(pdfs: list[bytes]) -> tuple[float, int]:
    from pypdf import PdfReader

    chars = 0
    started = time.perf_counter()
    for data in pdfs:
        reader = PdfReader(io.BytesIO(data))
        for page in reader.pages:
            chars += len(page.extract_text())
    return time.perf_counter() - started, chars


def baseline_pdfium(pdfs: list[bytes]) -> tuple[float, int]:
    import pypdfium2 as pdfium

    chars = 0
    started = time.perf_counter()
    for data in pdfs:
        pdf = pdfium.PdfDocument(data)
        for index in range(len(pdf)):
            page = pdf[index]
            textpage = page.get_textpage()
            chars += len(textpage.get_text_bounded())
            textpage.close()
            page.close()
        pdf.close()
    return time.perf_counter() - started, chars


def baseline_app_extraction(pdfs: list[bytes], folder: Path) -> tuple[float, int]:
    from server.documents import extraction

    paths = []
    for i, data in enumerate(pdfs):
        path = folder / f"{i}.pdf"
        path.write_bytes(data)
        paths.append(path)
    extraction.extract_text(paths[0], PDF_MIME)  # start the child process outside the clock
    chars = 0
    started = time.perf_counter()
    for path in paths:
        chars += len(extraction.extract_text(path, PDF_MIME).text)
    return time.perf_counter() - started, chars


# ==================================================================== ingest: one round


class UploadClock:
    """WSGI middleware: wall time and the serving thread's CPU time per request."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app
        self.lock = threading.Lock()
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def __call__(self, environ, start_response):
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            body = self.wsgi_app(environ, start_response)
            chunks = list(body)
            if hasattr(body, "close"):
                body.close()
        finally:
            elapsed, used = time.perf_counter() - started, time.thread_time() - cpu
            with self.lock:
                self.wall.append(elapsed * 1000)
                self.cpu.append(used * 1000)
        return chunks

    def take(self) -> tuple[list[float], list[float]]:
        with self.lock:
            wall, cpu, self.wall, self.cpu = self.wall, self.cpu, [], []
        return wall, cpu


@dataclass
class Phase:
    label: str
    n: int
    kinds: dict[str, int]
    batch: int = 0  # documents per batch request; 0: one POST /api/documents per document
    upload_s: float = 0.0
    done_s: float = 0.0
    client_ms: list[float] = field(default_factory=list)
    server_ms: list[float] = field(default_factory=list)
    server_cpu_ms: list[float] = field(default_factory=list)
    client_cpu_s: float = 0.0
    sql_per_upload: float = 0.0
    db_ms_per_upload: float = 0.0
    errors: list[str] = field(default_factory=list)
    n_errors: int = 0
    cpu: dict[str, float] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    jobs: dict[str, int] = field(default_factory=dict)
    queue_wait_ms: list[float] = field(default_factory=list)
    run_ms: list[float] = field(default_factory=list)
    lag_ms: list[float] = field(default_factory=list)
    indexed_with_text: int = 0
    pending_left: int = 0
    search_check: str = ""
    broker_messages: str = ""
    target: bool = False

    @property
    def docs_per_s(self) -> float:
        return self.n / self.done_s if self.done_s else 0.0

    @property
    def passed(self) -> bool | None:
        if not self.target:
            return None
        return self.docs_per_s >= INGEST_TARGET_DOCS_S and not self.n_errors and not self.pending_left


@dataclass
class Round:
    broker: str
    broker_url: str
    db_label: str = ""
    phases: list[Phase] = field(default_factory=list)
    warmup_s: float = 0.0
    worker_log: str = ""
    notes: list[str] = field(default_factory=list)
    profile: list[str] = field(default_factory=list)


def run_ingest_round(args, broker: str, pdf_items: list[Item], mixed_items: list[Item], single_items: list[Item],
                     warm_items: list[Item], profile_items: list[Item]) -> Round:
    broker_url = args.redis_url if broker == "redis" else ""
    label = broker if args.worker_polling_interval is None else f"{broker}, polling {args.worker_polling_interval:g} s"
    rnd = Round(label, broker_url)
    redis_keys_before = None
    if broker == "redis":
        import redis

        client = redis.Redis.from_url(args.redis_url)
        # an empty database, or one with only kombu's bookkeeping left by an earlier run
        foreign = [k for k in client.scan_iter(count=1000) if not k.startswith(b"_kombu.")]
        redis_keys_before = len(foreign)
        if foreign:
            rnd.notes.append(f"Redis database {args.redis_url} holds {len(foreign)} keys (e.g. {foreign[0]!r}): not "
                             "used, round skipped (give an empty one with --redis-url)")
            return rnd
    db = Database.postgres(os.environ.get("SAGSPOST_DATABASE_URL") or DEFAULT_PG)
    rnd.db_label = db.label
    data_dir = Path(tempfile.mkdtemp(prefix="sagspost-bench-ingest-"))
    if not broker_url:
        broker_url = f"sqla+sqlite:///{data_dir / 'broker.sqlite'}"
        rnd.broker_url = "sqla+sqlite:///<data dir>/broker.sqlite (the default)"
    engine = app = server = worker = log_file = autovacuum = None
    try:
        engine = make_engine(db.url)
        migrate(engine)
        ds = seeding.seed(engine, 2_000, args.seed)
        targets = ds.my_case_ids + ds.group_case_ids  # cases the user may write on
        settings = Settings.from_env(
            {}, data_dir=data_dir, database_url=db.url, secret_key="bench", log_level="WARNING", log_format="text",
            jobs_inline=False, broker_url=broker_url,
        )
        app = create_app(settings)
        app_engine = app.extensions["sagspost.engine"]
        token = _token(app, ds.bench_user_id)
        meter = SqlMeter(app_engine)
        meter.watch_sessions(app.extensions["sagspost.sessionmaker"])
        profiler_clock = ServerClock(app.wsgi_app)
        clock = UploadClock(profiler_clock)
        app.wsgi_app = clock
        server, base = serve(app, threads=max(SERVER_THREADS, args.clients * 2))

        env = {**os.environ, "SAGSPOST_DATABASE_URL": db.url, "SAGSPOST_DATA_DIR": str(data_dir),
               "SAGSPOST_BROKER_URL": broker_url, "SAGSPOST_LOG_LEVEL": "WARNING", "SAGSPOST_LOG_FORMAT": "text",
               "SAGSPOST_SECRET_KEY": "bench", "SAGSPOST_JOBS_INLINE": "0"}
        log_path = data_dir / "worker.log"
        log_file = open(log_path, "wb")
        worker = subprocess.Popen(
            _worker_command(args), env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True, cwd=str(data_dir),
        )

        def pg_pids():
            with engine.connect() as conn:
                return conn.execute(text("SELECT pid FROM pg_stat_activity WHERE application_name = :n"),
                                    {"n": db._app_name}).scalars().all()

        cpu = CpuMeter(worker.pid, pg_pids, redis_is_ours=broker == "redis")
        rng = random.Random(args.seed + 7)

        # warm-up: the worker's start, its extraction children, the connection pools
        started = time.perf_counter()
        # small batches, so that both of the worker's processes start their extraction child
        warm = _ingest_phase(args, "warm-up", warm_items, targets, rng, base, token, engine, meter, clock, None,
                             timeout=180, worker=worker, batch=max(1, len(warm_items) // 4))
        rnd.warmup_s = time.perf_counter() - started
        if warm.n_errors or warm.pending_left:
            rnd.notes.append(f"warm-up: {warm.n_errors} upload errors, {warm.pending_left} still pending after "
                             f"{rnd.warmup_s:.0f} s; {'; '.join(warm.errors[:3])}")
        seeding.analyze(engine)
        autovacuum = _StandInAutovacuum(engine)
        if autovacuum.needed:
            rnd.notes.append(f"this PostgreSQL runs without autovacuum: the benchmark ANALYZEs the tables the ingest "
                             f"writes every {autovacuum.every_s:g} s in its stead")
        autovacuum.start()
        messages = _BrokerMessages(broker, broker_url)
        phases = (("text PDFs", pdf_items, True, args.batch), ("mixed: PDF, DOCX, EML", mixed_items, False, args.batch),
                  ("text PDFs, single uploads", single_items, False, 0))
        for label, items, is_target, batch in phases:
            if not items or worker.poll() is not None:
                continue
            print(f"  [{rnd.broker} broker] ingesting {len(items):,} documents: {label} …", flush=True)
            sent_before = messages.sent()
            phase = _ingest_phase(args, label, items, targets, rng, base, token, engine, meter, clock, cpu,
                                  timeout=args.ingest_timeout, worker=worker, batch=batch)
            sent = messages.sent() - sent_before
            phase.broker_messages = (f"broker messages sent: {sent:,} for {phase.n:,} jobs ({sent / phase.n:.1f} per job; "
                                     f"the extra ones are the worker's sweep re-sending every queued job each "
                                     f"{_sweep_seconds()} s){messages.how}")
            phase.target = is_target
            phase.search_check = _search_check(base, token, items)
            rnd.phases.append(phase)
            print(f"    {phase.n:,} in {phase.done_s:.1f} s = {phase.docs_per_s:.1f} documents/s "
                  f"(uploads took {phase.upload_s:.1f} s)", flush=True)
        autovacuum.stop()
        if worker.poll() is not None:
            rnd.notes.append(f"the worker stopped early (exit code {worker.returncode})")
        else:
            # where an upload request's time goes: cProfile of sequential uploads, the worker stopped
            _stop_worker(worker)
            chunks = [profile_items[start:start + args.batch] for start in range(0, len(profile_items), args.batch)]
            print(f"  [{rnd.broker} broker] profiling {len(profile_items)} uploads in {len(chunks)} batch requests …",
                  flush=True)
            cases = [rng.choice(targets) for _ in chunks]
            http = requests.Session()
            http.headers["Authorization"] = f"Bearer {token}"
            rnd.profile = profile(profiler_clock, http, base, list(range(len(chunks))), count=len(chunks),
                                  top=22, request=lambda i: _upload_batch(http, base, chunks[i], cases[i]))
            http.close()
        return rnd
    finally:
        if autovacuum is not None:
            autovacuum.stop()
        if worker is not None:
            _stop_worker(worker)
        if log_file is not None:
            log_file.close()
            log = (data_dir / "worker.log").read_text(errors="replace")
            rnd.worker_log = "\n".join(line for line in log.splitlines() if line.strip())[-3000:]
        if server is not None:
            stop(server)
        if app is not None:
            _forget_broker(app.extensions["sagspost.celery"])  # the next round's app may use another broker
            app.extensions["sagspost.engine"].dispose()
        if engine is not None:
            engine.dispose()
        try:
            db.drop()
        except Exception as exc:
            print(f"could not drop the benchmark database: {exc}", file=sys.stderr)
        shutil.rmtree(data_dir, ignore_errors=True)
        if broker == "redis" and redis_keys_before == 0:
            _clean_redis(args.redis_url)


class _StandInAutovacuum:
    """ANALYZE of the tables an ingest writes, every few seconds, on a server without autovacuum
    (as on some development machines). Autovacuum analyzes a table once a tenth of it has changed;
    without new statistics the plans of the foreign-key checks, made on the empty document tables,
    stay sequential scans, and each upload costs more the more documents there are."""

    TABLES = ("documents", "document_files", "file_versions", "audit_events", "search_entries", "jobs")

    def __init__(self, engine, every_s: float = 10):
        self.engine, self.every_s = engine, every_s
        with engine.connect() as conn:
            self.needed = conn.execute(text("SHOW autovacuum")).scalar() == "off"
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stand-in-autovacuum", daemon=True)

    def start(self) -> None:
        if self.needed:
            self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stopped.wait(self.every_s):
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("ANALYZE " + ", ".join(self.TABLES)))


def _worker_command(args) -> list[str]:
    if args.worker_polling_interval is None:
        return [str(Path(sys.executable).with_name("sagspost")), "worker", "--concurrency", str(args.concurrency)]
    # the same command with one setting added where the app configures Celery (a what-if, not the product)
    # (kombu's SQLAlchemy transport hands broker_transport_options to create_engine, which refuses
    # polling_interval, so the class default is changed instead)
    code = (
        "import sys\n"
        "import kombu.transport.virtual.base as virtual\n"
        f"virtual.Transport.polling_interval = {args.worker_polling_interval!r}\n"
        "from server.cli import main\n"
        f"sys.argv = ['sagspost', 'worker', '--concurrency', '{args.concurrency}']\n"
        "main()\n"
    )
    return [sys.executable, "-c", code]


def _forget_broker(celery) -> None:
    """Drop the Celery app's broker connections and producers, so that the next create_app's
    broker_url is used (Celery.close() leaves the producer pool, which keeps the old broker)."""
    if celery._pool is not None:
        celery._pool.force_close_all()
    celery._pool = None
    amqp = celery.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


def _stop_worker(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.terminate()  # Celery's warm shutdown
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(worker.pid, signal.SIGKILL)  # its pool processes (the group it leads)
    except ProcessLookupError:
        pass
    if worker.poll() is None:
        worker.wait(timeout=10)


def _upload(session: requests.Session, base: str, item: Item, case_id) -> requests.Response:
    return session.post(base + "/api/documents", files={"file": (item.filename, item.data, item.mime)},
                        data={"case_id": str(case_id), "title": item.title}, timeout=120)


def _upload_batch(session: requests.Session, base: str, items: list[Item], case_id) -> requests.Response:
    return session.post(base + "/api/documents/batch", files=[("files", (i.filename, i.data, i.mime)) for i in items],
                        data={"case_id": str(case_id), "titles": [i.title for i in items]}, timeout=300)


def _send(session: requests.Session, base: str, items: list[Item], case_id, batch: bool) -> tuple[int, list[str]]:
    """Upload the items (one batch request, or a single upload of one item): (documents created, errors)."""
    try:
        response = _upload_batch(session, base, items, case_id) if batch else _upload(session, base, items[0], case_id)
    except requests.RequestException as exc:
        return 0, [f"{items[0].filename}: {exc!r}"]
    if response.status_code != 201:
        return 0, [f"{items[0].filename}: {response.status_code} {response.text[:200]}"]
    if not batch:
        return 1, []
    answer = response.json()
    return len(answer["documents"]), [f"{e['filename']}: {e['message']}" for e in answer["errors"]]


def _sweep_seconds() -> int:
    from server.jobs import worker as jobs_worker

    return jobs_worker.SWEEP_SECONDS


class _BrokerMessages:
    """How many messages were published to the broker so far."""

    def __init__(self, broker: str, url: str):
        self.broker, self.url = broker, url
        self.how = ("" if broker == "sqlite" else
                    "; counted as Redis LPUSH calls on the whole server (INFO commandstats)")

    def sent(self) -> int:
        if self.broker == "sqlite":
            import sqlite3

            path = self.url[len("sqla+sqlite:///"):]
            if not os.path.exists(path):
                return 0
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
            try:
                return conn.execute("SELECT count(*) FROM kombu_message").fetchone()[0]  # kombu never deletes them
            except sqlite3.OperationalError:
                return 0
            finally:
                conn.close()
        import redis

        stats = redis.Redis.from_url(self.url).info("commandstats")
        return int(stats.get("cmdstat_lpush", {}).get("calls", 0))


def _clean_redis(url: str) -> None:
    """The keys kombu made in the (empty before) database."""
    import redis

    client = redis.Redis.from_url(url)
    keys = [k for pattern in ("celery*", "_kombu.*", "unacked*") for k in client.scan_iter(match=pattern)]
    if keys:
        client.delete(*keys)


def _ingest_phase(args, label: str, items: list[Item], targets, rng, base: str, token: str, engine, meter: SqlMeter,
                  clock: UploadClock, cpu: CpuMeter | None, *, timeout: float, worker, batch: int) -> Phase:
    """Upload the items (`batch` per POST /api/documents/batch, or one per POST /api/documents when
    0), each request onto a random case of the user's, and wait until their texts are extracted."""
    kinds: dict[str, int] = {}
    for item in items:
        kinds[item.kind] = kinds.get(item.kind, 0) + 1
    phase = Phase(label, len(items), kinds, batch=batch)
    size = batch or 1
    requests_ = [(items[start:start + size], rng.choice(targets)) for start in range(0, len(items), size)]
    with engine.connect() as conn:
        since = conn.execute(text("SELECT now()")).scalar_one()
    lock = threading.Lock()
    position = iter(requests_)
    latencies: list[float] = []
    client_cpu = [0.0]

    def client():
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        started_cpu = time.thread_time()
        mine = []
        while True:
            with lock:
                request = next(position, None)
            if request is None:
                break
            t = time.perf_counter()
            created, errors = _send(session, base, *request, batch=bool(batch))
            mine.append((time.perf_counter() - t) * 1000)
            if created < len(request[0]):
                with lock:
                    phase.n_errors += len(request[0]) - created
                    phase.errors.extend(errors[:5 - len(phase.errors)])
        session.close()
        with lock:
            latencies.extend(mine)
            client_cpu[0] += time.thread_time() - started_cpu

    meter.reset()
    clock.take()
    before = cpu.snapshot() if cpu else None
    started = time.perf_counter()
    threads = [threading.Thread(target=client, name=f"upload-{n}") for n in range(args.clients)]
    for t in threads:
        t.start()
    # what is pending now, less what was pending before (earlier phases' leftovers): a cheap count
    pending_sql = text("SELECT count(*) - :before FROM file_versions WHERE text_status = 'pending'")
    with engine.connect() as conn:
        before_pending = conn.execute(text("SELECT count(*) FROM file_versions WHERE text_status = 'pending'")).scalar_one()
    deadline = started + timeout
    uploads_done = None
    pending = None
    with engine.connect() as conn:
        while True:
            time.sleep(0.2)
            alive = any(t.is_alive() for t in threads)
            if not alive and uploads_done is None:
                uploads_done = time.perf_counter()
            if not alive:
                pending = conn.execute(pending_sql, {"before": before_pending}).scalar_one()
                conn.commit()
                if pending <= 0:
                    break
                live_jobs = conn.execute(text("SELECT count(*) FROM jobs WHERE status IN ('queued', 'running')")).scalar_one()
                conn.commit()
                if live_jobs == 0:  # nothing left that could finish them
                    break
            if time.perf_counter() > deadline or worker.poll() is not None:
                pending = pending if pending is not None else -1
                break
    done = time.perf_counter()
    after = cpu.snapshot() if cpu else None
    for t in threads:
        t.join()
    phase.upload_s = (uploads_done or done) - started
    phase.done_s = done - started
    phase.pending_left = max(0, pending or 0)
    phase.client_ms = latencies
    phase.client_cpu_s = client_cpu[0]
    statements, seconds = meter.reset()
    phase.sql_per_upload = statements / max(1, len(items))
    phase.db_ms_per_upload = seconds * 1000 / max(1, len(items))
    phase.server_ms, phase.server_cpu_ms = clock.take()
    if before and after:
        phase.cpu = CpuMeter.delta(before, after)
    _phase_facts(engine, phase, since)
    return phase


def _phase_facts(engine, phase: Phase, since) -> None:
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT v.text_status, count(*) FROM file_versions v JOIN document_files f ON f.id = v.file_id "
            "JOIN documents d ON d.id = f.document_id WHERE d.created_at >= :since GROUP BY v.text_status"),
            {"since": since}).all()
        phase.statuses = {status: n for status, n in rows}
        rows = conn.execute(text(
            "SELECT status, count(*), sum(CASE WHEN attempts > 1 THEN 1 ELSE 0 END) FROM jobs "
            "WHERE created_at >= :since AND kind = 'documents.extract' GROUP BY status"), {"since": since}).all()
        phase.jobs = {status: n for status, n, _ in rows}
        phase.jobs["retried"] = sum(int(r or 0) for _, _, r in rows)
        rows = conn.execute(text(
            "SELECT extract(epoch FROM started_at - created_at), extract(epoch FROM finished_at - started_at), "
            "extract(epoch FROM finished_at - created_at) FROM jobs "
            "WHERE created_at >= :since AND kind = 'documents.extract' AND finished_at IS NOT NULL"), {"since": since}).all()
        phase.queue_wait_ms = [float(a) * 1000 for a, _, _ in rows]
        phase.run_ms = [float(b) * 1000 for _, b, _ in rows]
        phase.lag_ms = [float(c) * 1000 for _, _, c in rows]
        phase.indexed_with_text = conn.execute(text(
            "SELECT count(*) FROM search_entries e JOIN documents d ON d.id = e.entity_id "
            "WHERE e.entity_type = 'document' AND d.created_at >= :since AND length(e.body) > 200"),
            {"since": since}).scalar_one()


def _search_check(base: str, token: str, items: list[Item]) -> str:
    """One search for a word of the phase's titles: the index answers with the new documents."""
    word = items[0].title.split()[2] if len(items[0].title.split()) > 2 else items[0].title.split()[0]
    response = requests.post(base + "/api/search", json={"q": word, "types": ["document"]},
                             headers={"Authorization": f"Bearer {token}"}, timeout=60)
    if response.status_code != 200:
        return f"search check failed: {response.status_code} {response.text[:200]}"
    return f"search check: POST /api/search {{q: {word!r}, types: [document]}} finds {response.json()['total']:,} documents"


# ==================================================================== search: the dataset


def template_subject(template: str, rng: random.Random, w: corpus.Writer) -> str:
    if template == "Byggesag":
        return "byggeri"
    if template == "Aktindsigt":
        return "jura"
    if template == "Tilsynssag":
        return rng.choice(("miljø", "miljø", "vej"))
    return w.subject()


def seed_search(engine, n_docs: int, rng_seed: int, log=print) -> dict:
    """The case load, then the index entries of n_docs documents, the cases and the contacts."""
    facts: dict = {"seconds": {}}
    started = time.perf_counter()
    n_cases = max(200, n_docs // 5)
    ds = seeding.seed(engine, n_cases, rng_seed)
    facts["dataset"] = ds
    facts["seconds"]["cases (bench/seed.py)"] = time.perf_counter() - started

    started = time.perf_counter()
    rng = random.Random(rng_seed + 11)
    w = corpus.Writer(rng_seed + 12)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    postgres = engine.dialect.name == "postgresql"
    t = metadata.tables
    with engine.begin() as conn:
        type_ids = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in corpus.DOCUMENT_TYPES]
        conn.execute(t["document_types"].insert(), [
            dict(id=i, name=name, active=True, is_default=False, retention_years=None, created_at=now, updated_at=now)
            for i, name in zip(type_ids, corpus.DOCUMENT_TYPES)])
        # through the tables' column types, so that ids and times come back alike from both backends
        c, tpl, p, ct = t["cases"], t["case_templates"], t["case_parties"], t["contacts"]
        cases = conn.execute(
            select(c.c.id, c.c.number, c.c.title, c.c.description, c.c.journal_key_id, c.c.created_at, c.c.access,
                   tpl.c.name).join(tpl, tpl.c.id == c.c.template_id).order_by(c.c.created_at)).all()
        parties: dict = {}
        for case_id, name, cpr, cvr, p_number in conn.execute(
                select(p.c.case_id, ct.c.name, ct.c.cpr, ct.c.cvr, ct.c.p_number).join(ct, ct.c.id == p.c.contact_id)
                .order_by(p.c.case_id, p.c.is_primary.desc())):
            parties.setdefault(case_id, []).append((name, cpr, cvr, p_number))
        tags: dict = {}
        for case_id, tag in conn.execute(select(t["case_tags"].c.case_id, t["case_tags"].c.tag)):
            tags.setdefault(case_id, []).append(tag)
        contacts = conn.execute(select(ct.c.id, ct.c.name, ct.c.cpr, ct.c.cvr, ct.c.p_number, ct.c.street,
                                       ct.c.postal_code, ct.c.city, ct.c.country, ct.c.email, ct.c.phone,
                                       ct.c.created_at)).all()
        users = conn.execute(select(t["users"].c.id)).scalars().all()
        groups = conn.execute(select(t["groups"].c.id)).scalars().all()
    from server.contacts import numbers
    from server.search import feeds
    from server.search import text as search_text

    entries = []  # (entity_type, entity_id, case_id, owner, group, title, body, doc type, key, date)

    def local_date(moment):
        return feeds._local_date(moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc))

    case_subject = {}
    for case in cases:
        case_subject[case.id] = template_subject(case.name, rng, w)
        party_text = [" ".join(p for p in (name, numbers.mask_cpr(cpr), cvr, p_number) if p)
                      for name, cpr, cvr, p_number in parties.get(case.id, [])]
        body = "\n".join(p for p in [case.description, " ".join(sorted(tags.get(case.id, []))), *party_text] if p)
        entries.append(("case", case.id, case.id, None, None, f"{case.number} {case.title}", body, None,
                        case.journal_key_id, local_date(case.created_at)))
    for c in contacts:
        values = dict(c._mapping, co=None)
        if values["created_at"].tzinfo is None:
            values["created_at"] = values["created_at"].replace(tzinfo=timezone.utc)
        entry = feeds.contact_entry(SimpleNamespace(**values))  # the product's own entry for a contact
        entries.append(("contact", c.id, entry.case_id, entry.owner_user_id, entry.group_id, entry.title, entry.body,
                        None, None, entry.entry_date))

    # documents: 92 % on cases (some cases have many), 5 % personal, 3 % shared in a group
    n_personal, n_shared = int(n_docs * 0.05), int(n_docs * 0.03)
    n_on_cases = n_docs - n_personal - n_shared
    weights = list(itertools.accumulate(rng.lognormvariate(0, 1) for _ in cases))
    bench = ds.bench_user_id
    type_cum = list(itertools.accumulate(corpus.DOCUMENT_TYPE_WEIGHTS))
    span_days = 3 * 365
    for i in range(n_docs):
        type_index = bisect.bisect(type_cum, rng.random() * type_cum[-1])
        doc_type = corpus.DOCUMENT_TYPES[type_index]
        if i < n_on_cases:
            case = cases[bisect.bisect(weights, rng.random() * weights[-1])]
            subject = case_subject[case.id] if rng.random() < 0.85 else w.subject()
            created = case.created_at if case.created_at.tzinfo else case.created_at.replace(tzinfo=timezone.utc)
            when = created + (now - created) * rng.random() ** 0.7
            case_id, owner, group, key = case.id, None, None, case.journal_key_id
        else:
            subject = w.subject()
            when = now - timedelta(days=span_days * rng.random() ** 1.5)
            case_id, key = None, None
            if i < n_on_cases + n_personal:
                owner, group = (bench if rng.random() < 0.1 else rng.choice(users)), None
            else:
                owner, group = None, rng.choice(groups)
        title = w.title(subject, doc_type)
        name = f"{doc_type.lower()}-{i}.{rng.choice(('pdf', 'pdf', 'pdf', 'docx', 'eml'))}"
        body = name + "\n" + w.body(subject, w.body_length(), title)
        entries.append(("document", uuid.UUID(int=rng.getrandbits(128), version=4), case_id, owner, group, title, body,
                        type_ids[type_index], key, when.date()))
    facts["seconds"]["index entries made (Python)"] = time.perf_counter() - started
    facts["counts"] = {kind: sum(1 for e in entries if e[0] == kind) for kind in ("document", "case", "contact")}
    facts["body_words"] = sum(len(e[6].split()) for e in entries if e[0] == "document") / max(1, n_docs)

    entries.sort(key=lambda e: e[9] or date.min)  # physical order: as written over time
    started = time.perf_counter()
    if postgres:
        _load_postgres(engine, entries, now, search_text)
    else:
        _load_sqlite(engine, entries, now, search_text)
    facts["seconds"]["index load" + (" (COPY, to_tsvector in SQL, GIN index)" if postgres else " (FTS5 stems)")] = (
        time.perf_counter() - started)
    started = time.perf_counter()
    seeding.analyze(engine)
    facts["seconds"]["vacuum analyze" if postgres else "analyze"] = time.perf_counter() - started
    facts["visible_documents"] = None
    return facts


_ENTRY_COLUMNS = ["entity_type", "entity_id", "case_id", "owner_user_id", "group_id", "title", "body",
                  "document_type_id", "journal_key_id", "entry_date"]


def _load_postgres(engine, entries, now, search_text) -> None:
    cols = ", ".join(_ENTRY_COLUMNS + ["updated_at"])
    with engine.begin() as conn:
        conn.execute(text(f"CREATE UNLOGGED TABLE bench_stage AS SELECT {cols} FROM search_entries WITH NO DATA"))
        conn.execute(text("ALTER TABLE bench_stage ADD COLUMN tw text, ADD COLUMN bw text, ADD COLUMN part int, "
                          "ADD COLUMN seq int"))
        raw = conn.connection.driver_connection
        with raw.cursor() as cur, cur.copy(f"COPY bench_stage ({cols}, tw, bw, part, seq) FROM STDIN") as copy:
            for seq, e in enumerate(entries):
                title, body = e[5][:1000], e[6]
                copy.write_row((*e[:5], title, body, *e[7:], now, search_text.plain_text(title),
                                search_text.plain_text(body), seq % 2, seq))
        # the GIN index is built once after the load (what a fresh `sagspost reindex` would leave is close)
        conn.execute(text("DROP INDEX ix_search_entries_tsv"))

    def fill(part: int):
        with engine.begin() as conn:
            conn.execute(text(
                f"INSERT INTO search_entries ({cols}, tsv) SELECT {cols}, "
                "setweight(to_tsvector('danish'::regconfig, tw), 'A') || setweight(to_tsvector('danish'::regconfig, bw), 'B') "
                "FROM bench_stage WHERE part = :part ORDER BY seq"), {"part": part})

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        list(pool.map(fill, (0, 1)))
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE bench_stage"))
        conn.execute(text("SET maintenance_work_mem = '256MB'"))
        conn.execute(text("CREATE INDEX ix_search_entries_tsv ON search_entries USING gin (tsv)"))


def _load_sqlite(engine, entries, now, search_text) -> None:
    from server.search.models import FTS_TABLE

    chunk = 5_000
    with engine.begin() as conn:
        table = metadata.tables["search_entries"]
        for start in range(0, len(entries), chunk):
            rows = []
            for offset, e in enumerate(entries[start:start + chunk]):
                row = dict(zip(_ENTRY_COLUMNS, e))
                row.update(id=start + offset + 1, title=e[5][:1000], updated_at=now)
                rows.append(row)
            conn.execute(table.insert(), rows)
            conn.exec_driver_sql(
                f"INSERT INTO {FTS_TABLE} (rowid, title, body) VALUES (?, ?, ?)",
                [(row["id"], search_text.stemmed_text(row["title"]), search_text.stemmed_text(row["body"])) for row in rows],
            )
        conn.exec_driver_sql(f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('optimize')")


# ==================================================================== search: measuring


_AUTH_TABLES = ("api_tokens", "FROM users", "user_roles", "user_groups", "role_rights", "FROM roles")
_LABEL_TABLES = ("document_types", "journal_keys", "journal_plans", "search_entries")
# statement classes, first match wins; written against the SQL's shape, not one version of the service
_CLASSES = [
    ("auth (token, user, roles, groups)", lambda s: any(t in s for t in _AUTH_TABLES)),
    ("SET LOCAL (planner settings)", lambda s: s.lstrip().upper().startswith(("SET ", "RESET "))),
    ("match: total + facets (+ ranked page)", lambda s: "matched" in s),
    ("hits page (rank, sort)", lambda s: "search_entries" in s and ("@@" in s or " MATCH " in s.upper())),
    ("hit rows (title, body for snippets)", lambda s: "substr(search_entries.body" in s),
    ("facet labels (types, cases, journal keys)", lambda s: any(t in s for t in _LABEL_TABLES)),
]


def _classify(statement: str) -> str:
    for name, test in _CLASSES:
        if test(statement):
            return name
    return "other"


@dataclass
class SearchResult_:
    group: str  # baseline | search
    label: str
    times_ms: list[float]
    server_ms: list[float]
    statements: float
    db_ms: float
    errors: list[str]
    per_query: dict[str, list[float]] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)
    by_class: dict[str, list[float]] = field(default_factory=dict)  # class -> ms per request
    note: str = ""
    class_counts: dict[str, int] = field(default_factory=dict)  # class -> statements in all requests

    def pct(self, p, times=None):
        return percentile(self.times_ms if times is None else times, p)

    @property
    def passed(self) -> bool | None:
        if self.group != "search":
            return None
        return not self.errors and self.pct(95) < SEARCH_TARGET_P95_MS


def measure_search(http, base, label, queries, meter, clock, warmup, count, note="") -> SearchResult_:
    errors: list[str] = []
    totals: dict[str, int] = {}
    queries_cycle = cycle(queries)

    def call(q: str) -> float:
        started = time.perf_counter()
        response = http.post(base + "/api/search", json={"q": q})
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            if len(errors) < 5:
                errors.append(f"{response.status_code} {q!r}: {response.text[:200]}")
        else:
            answer = response.json()
            totals[q] = answer["total"] if answer.get("exact", True) else -answer["total"]  # negative: at least
        return elapsed

    for _ in range(warmup):
        call(next(queries_cycle))
    meter.reset()
    clock.take()
    meter.capture = []
    times, per_query, by_class, class_counts = [], {}, {}, {}
    for _ in range(count):
        q = next(queries_cycle)
        mark = len(meter.capture)
        elapsed = call(q)
        times.append(elapsed)
        per_query.setdefault(q, []).append(elapsed)
        sums: dict[str, float] = {}
        for statement, _params, seconds in meter.capture[mark:]:
            name = _classify(statement)
            sums[name] = sums.get(name, 0.0) + seconds * 1000
            class_counts[name] = class_counts.get(name, 0) + 1
        for name in [n for n, _ in _CLASSES] + ["other"]:
            by_class.setdefault(name, []).append(sums.get(name, 0.0))
    meter.capture = None
    statements, seconds = meter.reset()
    return SearchResult_("search", label, times, clock.take(), statements / count, seconds * 1000 / count, errors,
                         per_query, totals, by_class, note, class_counts)


def measure_get(http, base, label, path, meter, clock, warmup, count, authenticated=True, note="") -> SearchResult_:
    headers = None if authenticated else {"Authorization": None}
    errors = []
    for _ in range(warmup):
        http.get(base + path, headers=headers)
    meter.reset()
    clock.take()
    times = []
    for _ in range(count):
        started = time.perf_counter()
        response = http.get(base + path, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200 and len(errors) < 5:
            errors.append(f"{response.status_code} {path}: {response.text[:200]}")
    statements, seconds = meter.reset()
    return SearchResult_("baseline", label, times, clock.take(), statements / count, seconds * 1000 / count, errors,
                         note=note)


def run_search(args, sqlite: bool) -> tuple[list[str], bool]:
    """The search part on one database; answers the report's lines and whether it passed."""
    n_docs = 10_000 if args.small else args.search_docs
    db = Database.sqlite() if sqlite else Database.postgres(os.environ.get("SAGSPOST_DATABASE_URL") or DEFAULT_PG)
    data_dir = tempfile.mkdtemp(prefix="sagspost-bench-search-")
    engine = app = server = None
    try:
        print(f"Search: {n_docs:,} documents on {db.label}", flush=True)
        engine = make_engine(db.url)
        migrate(engine)
        version = server_version(engine)
        started = time.perf_counter()
        facts = seed_search(engine, n_docs, args.seed)
        seed_s = time.perf_counter() - started
        print("  seeded in %.1f s (%s)" % (seed_s, ", ".join(f"{k} {v:.1f}" for k, v in facts["seconds"].items())),
              flush=True)
        sizes = _index_sizes(engine)
        engine.dispose()

        settings = Settings.from_env({}, data_dir=Path(data_dir), database_url=db.url, secret_key="bench",
                                     log_level="WARNING", log_format="text", jobs_inline=True)
        app = create_app(settings)
        app_engine = app.extensions["sagspost.engine"]
        ds = facts["dataset"]
        token = _token(app, ds.bench_user_id)
        meter = SqlMeter(app_engine)
        meter.watch_sessions(app.extensions["sagspost.sessionmaker"])
        clock = ServerClock(app.wsgi_app)
        app.wsgi_app = clock
        server, base = serve(app)
        load_before = os.getloadavg()[0]
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {token}"
        visible = _visible_counts(app, ds.bench_user_id)

        results = [
            measure_get(http, base, "GET /healthz", "/healthz", meter, clock, args.warmup, args.requests,
                        authenticated=False, note="server + framework floor (no token)"),
            measure_get(http, base, "GET /api/auth/me", "/api/auth/me", meter, clock, args.warmup, args.requests,
                        note="auth floor: token lookup + user load"),
        ]
        for label, queries in (("POST /api/search, 1-word queries", corpus.ONE_WORD_QUERIES),
                               ("POST /api/search, 3-word queries", corpus.THREE_WORD_QUERIES)):
            print(f"  measuring {label} …", flush=True)
            results.append(measure_search(http, base, label, queries, meter, clock, args.warmup, args.requests,
                                          f"{len(queries)} different queries, cycled"))
        load_after = os.getloadavg()[0]

        explained = []
        for r in results:
            if r.group != "search" or (r.passed and not args.explain):
                continue
            slowest = max(r.per_query, key=lambda q: percentile(r.per_query[q], 50))
            body = {"q": slowest}
            lines = [f"  slowest query of '{r.label}' by median: {slowest!r} "
                     f"({abs(r.totals.get(slowest, 0)):,} hits, p50 {percentile(r.per_query[slowest], 50):.1f} ms)"]
            lines += explain(app_engine, meter, http, base, f"POST /api/search {json.dumps(body, ensure_ascii=False)}",
                             top=4, request=lambda: http.post(base + "/api/search", json=body))
            lines += profile(clock, http, base, [slowest], count=50, top=18,
                             request=lambda q: http.post(base + "/api/search", json={"q": q}))
            explained.append((r.label, lines))

        passed = all(r.passed is not False for r in results) and not any(r.errors for r in results)
        lines = _search_report(version, db, n_docs, facts, sizes, visible, seed_s, base, args, results, explained,
                               (load_before, load_after), sqlite)
        http.close()
        return lines, passed
    finally:
        if server is not None:
            stop(server)
        if app is not None:
            app.extensions["sagspost.engine"].dispose()
        if engine is not None:
            engine.dispose()
        if args.keep_db:
            print(f"KEPT the search database: {db.url}" + (f" (schema {db._schema}; DROP SCHEMA {db._schema} CASCADE "
                                                          "when done)" if db._schema else ""), flush=True)
        else:
            try:
                db.drop()
            except Exception as exc:
                print(f"could not drop the benchmark database: {exc}", file=sys.stderr)
        shutil.rmtree(data_dir, ignore_errors=True)


def _index_sizes(engine) -> dict:
    with engine.connect() as conn:
        out = {"entries": conn.execute(text("SELECT count(*) FROM search_entries")).scalar_one()}
        if engine.dialect.name == "postgresql":
            row = conn.execute(text(
                "SELECT pg_size_pretty(pg_total_relation_size('search_entries')), "
                "pg_size_pretty(pg_relation_size('ix_search_entries_tsv')), "
                "current_setting('shared_buffers'), current_setting('work_mem')")).one()
            out.update(total=row[0], gin=row[1], shared_buffers=row[2], work_mem=row[3])
    return out


def _visible_counts(app, user_id) -> dict:
    """What the benchmark user may see of the index per entity type, counted with the service's own
    visibility clause (the API's totals stop counting at its count limit)."""
    from sqlalchemy import func

    from server.auth import services as auth
    from server.auth.models import User
    from server.search import services as search

    table = metadata.tables["search_entries"]
    with app.extensions["sagspost.sessionmaker"]() as session:
        actor = auth.principal_for(session.get(User, user_id))
        rows = session.execute(select(table.c.entity_type, func.count()).where(search.visible(actor))
                               .group_by(table.c.entity_type)).all()
        session.rollback()
    return {kind: n for kind, n in rows}


# ==================================================================== reports


def _search_report(version, db, n_docs, facts, sizes, visible, seed_s, base, args, results, explained, load,
                   sqlite) -> list[str]:
    out = []
    add = out.append
    add("=" * 118)
    add(f"Search benchmark — {version} — {db.label}")
    counts = facts["counts"]
    add(f"Index: {sizes['entries']:,} entries = {counts['document']:,} documents (bodies {facts['body_words']:.0f} words "
        f"on average) + {counts['case']:,} cases + {counts['contact']:,} contacts"
        + (f"; table with TOAST and indexes {sizes['total']}, GIN index {sizes['gin']}; shared_buffers "
           f"{sizes['shared_buffers']}, work_mem {sizes['work_mem']}" if 'total' in sizes else ""))
    add(f"Benchmark user 'bench' (caseworker, 2 groups, no cases.access_all) may see {visible.get('document', 0):,} "
        f"documents, {visible.get('case', 0):,} cases, {visible.get('contact', 0):,} contacts")
    add(f"Seeding: {seed_s:.1f} s. Server: waitress, {SERVER_THREADS} threads, {base}; client: one requests.Session, "
        f"one request at a time; {args.warmup} warm-up + {args.requests} measured requests per kind, queries cycled")
    add(f"Host: {os.cpu_count()} CPUs, load average {load[0]:.2f} before and {load[1]:.2f} after measuring")
    add("")
    header = (f"{'request':<40} {'n':>4} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7} {'srv p50':>7} {'srv p95':>7} "
              f"{'sql/req':>7} {'db ms':>6}  {'target':<22}")
    add(header)
    add("-" * len(header))
    for r in results:
        if r.group == "baseline":
            verdict = "baseline"
        else:
            verdict = f"p95<{SEARCH_TARGET_P95_MS:.0f} {'PASS' if r.passed else 'FAIL'}" + (" (info)" if sqlite else "")
        add(f"{r.label:<40} {len(r.times_ms):>4} {r.pct(50):>7.2f} {r.pct(95):>7.2f} {r.pct(99):>7.2f} "
            f"{max(r.times_ms):>7.2f} {r.pct(50, r.server_ms):>7.2f} {r.pct(95, r.server_ms):>7.2f} "
            f"{r.statements:>7.1f} {r.db_ms:>6.2f}  {verdict:<22}")
        if r.note:
            add(f"    {r.note}")
        for error in r.errors:
            add(f"    ERROR {error}")
    add("-" * len(header))
    add("Times in ms, at the client. srv: inside the WSGI app. sql/req, db ms: statements and time in the database per")
    add("request (with COMMIT).")
    if sqlite:
        add("On SQLite a statement's rows are computed as they are fetched, after the timed execute: much of the SQL")
        add("time shows up below as time outside SQL statements.")
    for r in results:
        if r.group != "search":
            continue
        add("")
        add(f"{r.label}: SQL time per request by statement, ms     stmts/req    mean     p50     p95     max")
        for name, values in r.by_class.items():
            if any(values):
                add(f"    {name:<46} {r.class_counts.get(name, 0) / len(values):>9.1f} {sum(values) / len(values):>7.2f} "
                    f"{percentile(values, 50):>7.2f} {percentile(values, 95):>7.2f} {max(values):>7.2f}")
        python_ms = [srv - db for srv, db in zip(r.server_ms, (sum(v) for v in zip(*r.by_class.values())))]
        add(f"    {'server time not in SQL statements (Python, COMMIT)':<46} {'':>9} "
            f"{sum(python_ms) / max(1, len(python_ms)):>7.2f} {percentile(python_ms, 50):>7.2f} "
            f"{percentile(python_ms, 95):>7.2f} {max(python_ms, default=0):>7.2f}")
        add(f"  per query (hits the user may see — ≥: the API stopped counting —, client ms):")
        ranked = sorted(r.per_query, key=lambda q: -percentile(r.per_query[q], 50))
        for q in ranked:
            times = r.per_query[q]
            total = r.totals.get(q, 0)
            hits = f"{total:>7,}" if total >= 0 else f"≥{-total:,}".rjust(7)
            add(f"    {q!r:<44} {hits} hits   p50 {percentile(times, 50):>7.2f}   "
                f"max {max(times):>7.2f}   (n={len(times)})")
    for label, lines in explained:
        add("")
        add(f"SQL of {label}:")
        out.extend(lines)
    add("")
    failed = [r for r in results if r.passed is False]
    where = "SQLite, for information" if sqlite else "PostgreSQL"
    if failed:
        add(f"SEARCH RESULT ({where}): FAIL — p95 ≥ {SEARCH_TARGET_P95_MS:.0f} ms for " + ", ".join(r.label for r in failed))
    else:
        add(f"SEARCH RESULT ({where}): PASS — search p95 < {SEARCH_TARGET_P95_MS:.0f} ms over {n_docs:,} documents")
    return out


def _ingest_report(rounds: list[Round], baselines: dict, n_pdfs: int, args) -> list[str]:
    out = []
    add = out.append
    add("=" * 118)
    add(f"Ingest benchmark — upload (HTTP, {args.clients} client threads, {args.batch} documents per POST "
        f"/api/documents/batch; single POST /api/documents for comparison) + text extraction + indexing "
        f"(`sagspost worker --concurrency {args.concurrency}`), {os.cpu_count()} CPUs")
    add("Clock: first upload until no uploaded version is text_status=pending. Target: ≥ "
        f"{INGEST_TARGET_DOCS_S:.0f} documents/s for text PDFs.")
    add("")
    add("Baselines, same run, this process, one file at a time, over the same text PDFs "
        f"({n_pdfs:,} PDFs, {baselines['pages']:,} pages):")
    for label, (seconds, chars) in baselines["rows"].items():
        add(f"    {label:<70} {n_pdfs / seconds:>8.1f} documents/s  ({seconds:.1f} s, {chars / 1e6:.1f} M characters)")
    add("")
    header = (f"{'broker':<8} {'phase':<26} {'per req':>7} {'docs':>6} {'upload s':>8} {'upload/s':>8} {'done s':>7} "
              f"{'docs/s':>7} {'vs pypdf':>8} {'up p50':>7} {'up p95':>7} {'errors':>6}  {'target':<16}")
    add(header)
    add("-" * len(header))
    pypdf_rate = n_pdfs / baselines["rows"][next(iter(baselines["rows"]))][0]
    for rnd in rounds:
        for p in rnd.phases:
            verdict = "" if p.passed is None else f"≥{INGEST_TARGET_DOCS_S:.0f}/s {'PASS' if p.passed else 'FAIL'}"
            add(f"{rnd.broker:<8} {p.label:<26} {p.batch or 1:>7} {p.n:>6,} {p.upload_s:>8.1f} {p.n / p.upload_s:>8.1f} {p.done_s:>7.1f} "
                f"{p.docs_per_s:>7.1f} {p.docs_per_s / pypdf_rate:>7.2f}x {percentile(p.client_ms, 50):>7.1f} "
                f"{percentile(p.client_ms, 95):>7.1f} {p.n_errors + p.pending_left:>6}  {verdict:<16}")
    add("-" * len(header))
    add("upload s, upload/s: until the last upload was answered. done s, docs/s: until the last text was extracted and")
    add("indexed. vs pypdf: docs/s over the pypdf baseline's. per req: documents per upload request (1: POST")
    add("/api/documents, else POST /api/documents/batch). up p50/p95: upload request latency at the client, ms.")
    for rnd in rounds:
        add("")
        add(f"Broker {rnd.broker}: {rnd.broker_url}; {rnd.db_label}; warm-up {rnd.warmup_s:.1f} s")
        for note in rnd.notes:
            add(f"  NOTE {note}")
        for p in rnd.phases:
            add(f"  {p.label} ({', '.join(f'{n:,} {k}' for k, n in p.kinds.items())}):")
            add(f"    text status: {_fmt_counts(p.statuses)}; extraction jobs: {_fmt_counts(p.jobs)}; "
                f"indexed with text: {p.indexed_with_text:,}/{p.n:,}" + (f"; STILL PENDING {p.pending_left}" if p.pending_left else ""))
            add(f"    {p.search_check}")
            add(f"    upload request ({p.batch or 1} documents): server p50 {percentile(p.server_ms, 50):.1f} ms, p95 "
                f"{percentile(p.server_ms, 95):.1f} ms; per document: server thread CPU "
                f"{sum(p.server_cpu_ms) / max(1, p.n):.2f} ms, {p.sql_per_upload:.2f} statements and "
                f"{p.db_ms_per_upload:.2f} ms in the database, client CPU {p.client_cpu_s * 1000 / max(1, p.n):.2f} ms")
            add(f"    extraction job: queue wait p50 {percentile(p.queue_wait_ms, 50) / 1000:.1f} s, p95 "
                f"{percentile(p.queue_wait_ms, 95) / 1000:.1f} s; run p50 {percentile(p.run_ms, 50):.1f} ms, "
                f"p95 {percentile(p.run_ms, 95):.1f} ms; upload-to-indexed p50 {percentile(p.lag_ms, 50) / 1000:.1f} s")
            if p.broker_messages:
                add(f"    {p.broker_messages}")
            if p.cpu:
                cpus = os.cpu_count() or 1
                add(f"    CPU per document, ms ({p.done_s:.1f} s wall x {cpus} CPUs = {p.done_s * cpus:.0f} CPU-s):")
                for name, seconds in p.cpu.items():
                    if seconds == 0 and name == "redis-server" and not rnd.broker.startswith("redis"):
                        continue
                    add(f"      {name:<76} {seconds * 1000 / p.n:>7.2f}   ({seconds:.1f} s)")
                ours = p.cpu["= this run"] * 1000 / p.n
                add(f"    => at {ours:.1f} CPU-ms per document, {cpus} otherwise idle CPUs could do at most "
                    f"{cpus * 1000 / ours:.0f} documents/s (the target needs ≤ {cpus * 1000 / INGEST_TARGET_DOCS_S:.0f} CPU-ms)")
            for error in p.errors:
                add(f"    ERROR {error}")
        if rnd.profile:
            add("  Upload request profile (sequential, worker stopped):")
            out.extend(rnd.profile)
        if rnd.worker_log:
            add("  worker output (last lines):")
            out.extend("    | " + line[:200] for line in rnd.worker_log.splitlines()[-15:])
    add("")
    judged = [p for rnd in rounds for p in rnd.phases if p.passed is not None]
    if not judged:
        add("INGEST RESULT: no phase ran")
    elif all(p.passed for p in judged):
        add(f"INGEST RESULT: PASS — text PDFs at ≥ {INGEST_TARGET_DOCS_S:.0f} documents/s")
    else:
        add(f"INGEST RESULT: FAIL — text PDFs at " + ", ".join(f"{p.docs_per_s:.1f}/s ({rnd.broker} broker)"
                                                              for rnd in rounds for p in rnd.phases if p.passed is not None)
            + f", target ≥ {INGEST_TARGET_DOCS_S:.0f}/s")
    return out


def _fmt_counts(counts: dict) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in counts.items()) or "none"


# ==================================================================== the run


def run_ingest(args) -> tuple[list[str], bool]:
    n_mixed = 1_000 if args.small else args.docs
    n_pdf = min(args.pdf_docs, 500) if args.small else args.pdf_docs
    rng = random.Random(args.seed)
    print(f"Ingest: making {n_pdf:,} text PDFs and {n_mixed:,} mixed documents …", flush=True)
    started = time.perf_counter()
    pdf_items = make_corpus(["pdf"] * n_pdf, args.seed, first=0)
    mixed_items = make_corpus(mixed_kinds(n_mixed, rng), args.seed + 1, first=n_pdf)
    warm_items = make_corpus(mixed_kinds(24, rng), args.seed + 2, first=n_pdf + n_mixed)
    profile_items = make_corpus(["pdf"] * 100, args.seed + 3, first=n_pdf + n_mixed + 100)
    n_single = min(args.single_docs, 100) if args.small else args.single_docs
    single_items = make_corpus(["pdf"] * n_single, args.seed + 4, first=n_pdf + n_mixed + 200)
    print(f"  made in {time.perf_counter() - started:.1f} s "
          f"({sum(len(i.data) for i in pdf_items + mixed_items) / 1e6:.0f} MB)", flush=True)

    pdfs = [i.data for i in pdf_items] + [i.data for i in mixed_items if i.kind == "pdf"]
    pages = sum(i.pages for i in pdf_items) + sum(i.pages for i in mixed_items if i.kind == "pdf")
    print(f"  baselines over {len(pdfs):,} PDFs …", flush=True)
    folder = Path(tempfile.mkdtemp(prefix="sagspost-bench-pdfs-"))
    try:
        rows = {
            "pypdf PdfReader(...).pages[i].extract_text() (the baseline)": baseline_pypdf(pdfs),
            "pypdfium2 in-process (the parser the app uses), for information": baseline_pdfium(pdfs),
            "the app's extraction.extract_text (sandboxed child process), for information": baseline_app_extraction(pdfs, folder),
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    baselines = {"rows": rows, "pages": pages}

    brokers = ["sqlite", "redis"] if args.broker == "both" else [args.broker]
    rounds = []
    for broker in brokers:
        cap = args.sqlite_broker_docs if broker == "sqlite" else None
        rounds.append(run_ingest_round(args, broker, pdf_items[:cap], mixed_items[:cap], single_items[:cap], warm_items,
                                       profile_items))
    lines = _ingest_report(rounds, baselines, len(pdfs), args)
    judged = [p for rnd in rounds for p in rnd.phases if p.passed is not None]
    errors = any(p.n_errors or p.pending_left for rnd in rounds for p in rnd.phases)
    return lines, bool(judged) and all(p.passed for p in judged) and not errors


def main(argv=None, args=None) -> int:
    if args is None:
        args = build_parser().parse_args(argv)
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    unknown = parts - {"ingest", "search"}
    if unknown:
        print(f"unknown part(s): {', '.join(sorted(unknown))}; the parts are ingest and search", file=sys.stderr)
        return 2
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    wall = time.perf_counter()
    report: list[str] = []
    ok = True
    if "ingest" in parts:
        if args.sqlite:
            report += ["", "Ingest: measured on PostgreSQL only (--sqlite runs the search part alone)."]
        else:
            lines, passed = run_ingest(args)
            report += [""] + lines
            ok = ok and passed
    if "search" in parts:
        lines, passed = run_search(args, sqlite=args.sqlite)
        report += [""] + lines
        ok = ok and (passed or args.sqlite)  # SQLite is for information
    for line in report:
        print(line)
    print(f"Total run time of the documents benchmark: {time.perf_counter() - wall:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
