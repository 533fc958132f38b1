"""What the benchmarks share: a fresh database, the app served by waitress in a thread, SQL metering,
server-side timing, percentiles, EXPLAIN ANALYZE and cProfile of a slow request, an API token.

bench/run.py (cases) and bench/documents.py (documents: ingest and search) import from here.
"""
from __future__ import annotations

import logging
import math
import re
import shutil
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import event, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from server.db import make_engine  # noqa: E402
from server.migrate import head_revision, upgrade  # noqa: E402
from server.models import metadata  # noqa: E402

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SERVER_THREADS = 8


def percentile(times: list[float], p: float) -> float:
    """The nearest-rank percentile (p in 0..100); NaN for no values."""
    ordered = sorted(times)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] if ordered else float("nan")


# ---------------------------------------------------------------- database


@dataclass
class Database:
    url: str  # what the app and the seeding use
    kind: str  # postgresql | sqlite
    cleanup_notes: list[str] = field(default_factory=list)
    _admin_url: str | None = None
    _schema: str | None = None
    _app_name: str | None = None
    _tmp: str | None = None

    @classmethod
    def postgres(cls, base_url: str) -> "Database":
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        app_name = f"sagspost-{schema}"
        admin = make_engine(base_url)
        try:
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        finally:
            admin.dispose()
        url = make_url(base_url)
        options = (url.query.get("options", "") + f" -csearch_path={schema}").strip()
        url = url.update_query_dict({"options": options, "application_name": app_name})
        return cls(url.render_as_string(hide_password=False), "postgresql", _admin_url=base_url, _schema=schema,
                   _app_name=app_name)

    @classmethod
    def sqlite(cls) -> "Database":
        tmp = tempfile.mkdtemp(prefix="sagspost-bench-")
        return cls(f"sqlite:///{tmp}/bench.db", "sqlite", _tmp=tmp)

    @property
    def label(self) -> str:
        if self.kind == "postgresql":
            return f"PostgreSQL, schema {self._schema} (dropped at the end)"
        return f"SQLite file {self.url[len('sqlite:///'):]} (removed at the end)"

    def drop(self) -> None:
        if self.kind == "sqlite":
            shutil.rmtree(self._tmp, ignore_errors=True)
            return
        admin = make_engine(self._admin_url)
        try:
            with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                # Only this run's connections carry this application_name: end any still busy (a
                # request cut short by Ctrl-C holds locks the DROP would wait for).
                conn.execute(
                    text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE application_name = :name AND pid <> pg_backend_pid()"),
                    {"name": self._app_name},
                )
                conn.execute(text("SET lock_timeout = '30s'"))
                conn.execute(text(f'DROP SCHEMA "{self._schema}" CASCADE'))
        finally:
            admin.dispose()


def migrate(engine) -> str:
    if head_revision() is not None:
        upgrade(engine)
        return f"alembic upgrade to {head_revision()}"
    metadata.create_all(engine)
    return "metadata.create_all (no migration in server/migrations/versions yet)"


def server_version(engine) -> str:
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            return "PostgreSQL " + conn.execute(text("SHOW server_version")).scalar_one()
        return "SQLite " + conn.execute(text("SELECT sqlite_version()")).scalar_one()


# ---------------------------------------------------------------- SQL counting and capture


class SqlMeter:
    """Counts statements and their time on the app's engine; can keep the statements of a request."""

    def __init__(self, engine):
        self.lock = threading.Lock()
        self.statements = 0
        self.seconds = 0.0
        self.capture: list[tuple[str, object, float]] | None = None
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)
        # COMMIT is no cursor execute: timed from the engine's commit event to the session's after_commit
        self._commit_started = threading.local()
        event.listen(engine, "commit", self._before_commit)

    def watch_sessions(self, sessionmaker) -> None:
        event.listen(sessionmaker, "after_commit", self._after_commit)

    def _before_commit(self, conn):
        self._commit_started.at = time.perf_counter()

    def _after_commit(self, session):
        started = getattr(self._commit_started, "at", None)
        if started is not None:
            self._commit_started.at = None
            with self.lock:
                self.seconds += time.perf_counter() - started

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        elapsed = time.perf_counter() - conn.info["bench_started"].pop()
        with self.lock:
            self.statements += 1
            self.seconds += elapsed
            if self.capture is not None:
                self.capture.append((statement, parameters, elapsed))

    def reset(self) -> tuple[int, float]:
        with self.lock:
            result = (self.statements, self.seconds)
            self.statements, self.seconds = 0, 0.0
            return result


class ServerClock:
    """WSGI middleware: the time the app spends on each request, from the call to the response's close.

    The difference to the client's time is waitress, the socket and the client. With a profiler set,
    the requests run under it (one request at a time, so one profiler serves all threads in turn).
    """

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app
        self.times_ms: list[float] = []
        self.profiler = None

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        profiler = self.profiler
        if profiler is not None:
            profiler.enable()
        try:
            body = self.wsgi_app(environ, start_response)
            chunks = list(body)
            if hasattr(body, "close"):
                body.close()
        finally:
            if profiler is not None:
                profiler.disable()
            self.times_ms.append((time.perf_counter() - started) * 1000)
        return chunks

    def take(self) -> list[float]:
        times, self.times_ms = self.times_ms, []
        return times



def cycle(items):
    while True:
        yield from items


def serve(app, threads: int = SERVER_THREADS):
    from waitress.server import create_server

    server = create_server(app, host="127.0.0.1", port=0, threads=threads, ident="sagspost-bench")
    thread = threading.Thread(target=server.run, name="waitress", daemon=True)
    thread.start()
    return server, f"http://127.0.0.1:{server.effective_port}"


def stop(server) -> None:
    # a request cut short by Ctrl-C would log tracebacks about the closed socket
    logging.getLogger("waitress").setLevel(logging.CRITICAL)
    # and the server's own thread may still be in select() on the socket being closed
    previous = threading.excepthook

    def quiet(args):
        if not (args.thread is not None and args.thread.name == "waitress" and issubclass(args.exc_type, OSError)):
            previous(args)

    threading.excepthook = quiet
    try:
        server.task_dispatcher.shutdown(timeout=5)
        server.close()
    except Exception:  # the process ends anyway; the thread is a daemon
        pass


# ---------------------------------------------------------------- explaining


def explain(engine, meter: SqlMeter, http, base: str, path: str, top: int = 3, slow_ms: float = 1.0,
            request=None) -> list[str]:
    """Run one request with its SQL captured, then EXPLAIN ANALYZE its slowest SELECTs (those over
    `slow_ms`, at most `top`). The app's own executions may use psycopg's prepared statements with
    generic plans; EXPLAIN here plans for the literal values. `request` (no arguments) sends the
    request instead of a GET of `path`, which then only labels it."""
    meter.capture = []
    if request is None:
        http.get(base + path)
    else:
        request()
    captured, meter.capture = meter.capture, None
    total_ms = sum(c[2] for c in captured) * 1000
    lines = [f"  {len(captured)} statements in one request of {path}, {total_ms:.1f} ms in all:"]
    for statement, _params, elapsed in captured:
        lines.append(f"    {elapsed * 1000:6.2f} ms  {_compact(statement)[:130]}")
    # reads (SELECT, or WITH … SELECT), slowest first, with their place in the request
    selects = sorted(
        (i for i, c in enumerate(captured)
         if c[0].lstrip().upper().startswith(("SELECT", "WITH")) and c[2] * 1000 >= slow_ms),
        key=lambda i: -captured[i][2],
    )[:top]
    if not selects:
        lines.append(f"  no statement takes {slow_ms:g} ms or more: the time is in Python, see the profile below")
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        for index in selects:
            statement, params, elapsed = captured[index]
            lines.append("")
            lines.append(f"  {elapsed * 1000:.2f} ms in the app: {_compact(statement)[:1200]}")
            lines.append(f"    parameters: {_short(params)}")
            # the settings the request changed before this statement (SET LOCAL …), as it ran with them
            settings = [c for c in captured[:index] if c[0].lstrip().upper().startswith("SET ")]
            for setting, setting_params, _ in settings:
                cur.execute(setting, setting_params or None)
            if settings:
                lines.append("    with: " + "; ".join(_compact(c[0]) for c in settings))
            if engine.dialect.name == "postgresql":
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
            else:
                cur.execute("EXPLAIN QUERY PLAN " + statement, params)
            lines.extend(("    | " + " ".join(str(v) for v in row))[:220] for row in cur.fetchall())
            raw.rollback()  # SET LOCAL ends with the transaction
    finally:
        raw.close()
    return lines


def _compact(sql: str) -> str:
    """One line; long select lists and long lists of bind parameters shortened."""
    sql = " ".join(sql.split())
    sql = re.sub(r"SELECT ((?:(?!\bFROM\b).){80,}?) FROM",
                 lambda m: f"SELECT <{m.group(1).count(',') + 1} columns> FROM", sql)
    return re.sub(r"(%\(\w+\)s(?:::\w+)?)((?:, %\(\w+\)s(?:::\w+)?){3,})",
                  lambda m: f"{m.group(1)}, … {m.group(2).count(',')} more", sql)


def _short(params) -> str:
    text = repr(params)
    return text if len(text) <= 300 else text[:300] + f"… ({len(params)} parameters)"


def profile(clock: ServerClock, http, base: str, paths, count: int = 100, top: int = 20, request=None) -> list[str]:
    """Where the app's time goes on this endpoint: cProfile over `count` requests, the project's own
    functions by cumulative time (what each step costs with everything it calls). `request` (one
    argument, an item of `paths`) sends one request instead of a GET of base + item."""
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    clock.profiler = profiler
    try:
        for path in list(paths)[:count] if len(paths) >= count else (paths * count)[:count]:
            if request is None:
                http.get(base + path)
            else:
                request(path)
    finally:
        clock.profiler = None
        clock.take()
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    stats.sort_stats("cumulative").print_stats(str(ROOT / "server") + "/", top)
    lines = ["", f"  cProfile of {count} requests, functions under server/ by cumulative time "
                 f"(profiling slows everything down; compare the shares):"]
    lines += ["    " + line.replace(str(ROOT) + "/", "") for line in stream.getvalue().splitlines()
              if line.strip() and not line.lstrip().startswith(("List reduced", "Ordered by"))]
    return lines



def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _token(app, user_id) -> str:
    from server.auth import services as auth
    from server.auth.models import User

    with app.extensions["sagspost.sessionmaker"]() as session:
        user = session.get(User, user_id)
        plaintext, _ = auth.create_api_token(session, auth.principal_for(user), "benchmark", 1, 365)
        session.commit()
    return plaintext


