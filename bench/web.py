"""Browser UI: server time to render the case page and the search page, on a realistic load.

    .venv/bin/python bench/run.py web                 # PostgreSQL, 100,000 cases (and 500,000 indexed documents)
    .venv/bin/python bench/run.py web --small         # 2,000 cases, a quick check
    .venv/bin/python bench/run.py web --web-cases 20000 --sqlite

The dataset is the documents benchmark's search load (bench/documents.py seed_search: the cases of
bench/seed.py, five indexed documents per case, the cases and contacts in the index), so the search
page searches what the search benchmark searches. The real app (`create_app`) is served by waitress
in a thread; a `requests.Session` signs in through the sign-in page as the benchmark user (a
password is set for it) and asks for pages one at a time with that cookie session, as a browser would.

Per page kind: --warmup requests (20), then --requests measured (300), cycling through the cases
(60 % the user's own, 20 % their groups', 20 % public ones of others) or the queries (one-word and
three-word Danish queries). Measured: the time inside the WSGI app (server ms, the target) and at
the client. Target (the issue): p95 server time under 100 ms for the case page and the search page.
Min side and the case list are measured for information. Exit code 1 when a target is missed or a
request fails.
"""
from __future__ import annotations

import argparse
import os
import random
import re
import signal
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from server import create_app  # noqa: E402
from server.auth.models import User  # noqa: E402
from server.config import Settings  # noqa: E402
from server.db import make_engine  # noqa: E402

import corpus  # noqa: E402  (bench/corpus.py)
from common import DEFAULT_PG, Database, ServerClock, _interrupt, migrate, percentile, serve, server_version, stop  # noqa: E402
from documents import seed_search  # noqa: E402

TARGET_MS = 100.0
PASSWORD = "benchmark-password-1"
DOCS_PER_CASE = 5  # seed_search makes one case per five documents


def add_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("web benchmark")
    group.add_argument("--web-cases", type=int, default=100_000, help="cases (100,000); --small: 2,000")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sqlite", action="store_true", help="a temporary SQLite file instead of PostgreSQL")
    parser.add_argument("--small", action="store_true", help="a quick check: 2,000 cases")
    parser.add_argument("--requests", type=int, default=300, help="measured requests per page kind (300)")
    parser.add_argument("--warmup", type=int, default=20, help="warm-up requests per page kind (20)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the dataset")
    add_options(parser)
    return parser


def main(argv=None, args=None) -> int:
    if args is None:
        args = build_parser().parse_args(argv)
    n_cases = 2_000 if args.small else args.web_cases
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    db = Database.sqlite() if args.sqlite else Database.postgres(os.environ.get("SAGSPOST_DATABASE_URL") or DEFAULT_PG)
    server = app = None
    try:
        print(f"Web benchmark: {n_cases:,} cases, {n_cases * DOCS_PER_CASE:,} indexed documents on {db.label}", flush=True)
        engine = make_engine(db.url)
        migrate(engine)
        version = server_version(engine)
        started = time.perf_counter()
        facts = seed_search(engine, n_cases * DOCS_PER_CASE, args.seed, log=lambda *a, **k: None)
        print(f"  seeded in {time.perf_counter() - started:.1f} s", flush=True)
        engine.dispose()
        ds = facts["dataset"]

        settings = Settings.from_env({}, data_dir=Path(tempfile.mkdtemp(prefix="sagspost-bench-web-")), database_url=db.url,
                                     secret_key="bench", log_level="WARNING", log_format="text")
        app = create_app(settings)
        _set_password(app, ds.bench_user_id)
        clock = ServerClock(app.wsgi_app)
        app.wsgi_app = clock
        server, base = serve(app)
        http = _signed_in(base, ds.bench_user_id, app)

        rng = random.Random(args.seed + 1)
        total = args.warmup + args.requests
        picks = (rng.sample(ds.my_case_ids, min(len(ds.my_case_ids), int(total * 0.6)))
                 + rng.sample(ds.group_case_ids, min(len(ds.group_case_ids), int(total * 0.2)))
                 + rng.sample(ds.public_case_ids, min(len(ds.public_case_ids), int(total * 0.2))))
        rng.shuffle(picks)
        kinds = [
            ("case page  GET /cases/<id>", [f"/cases/{c}" for c in picks], True),
            ("search     GET /search?q=<1 word>", [f"/search?q={quote(q)}" for q in corpus.ONE_WORD_QUERIES], True),
            ("search     GET /search?q=<3 words>", [f"/search?q={quote(q)}" for q in corpus.THREE_WORD_QUERIES], True),
            ("Min side   GET /", ["/"], False),
            ("case list  GET /cases?scope=mine", ["/cases?scope=mine"], False),
        ]
        rows = [_measure(http, base, clock, label, paths, judged, args.warmup, args.requests) for label, paths, judged in kinds]
        return _report(version, db, n_cases, rows)
    finally:
        if server is not None:
            stop(server)
        if app is not None:
            app.extensions["sagspost.engine"].dispose()
        db.drop()


def _set_password(app, user_id) -> None:
    """The seeded benchmark user signs in like a person: through the sign-in page with a password."""
    with app.extensions["sagspost.sessionmaker"]() as session:
        session.get(User, user_id).password_hash = app.extensions["sagspost.passwords"].hash(PASSWORD)
        session.commit()


def _signed_in(base: str, user_id, app) -> requests.Session:
    with app.extensions["sagspost.sessionmaker"]() as session:
        username = session.get(User, user_id).username
    http = requests.Session()
    http.trust_env = False
    form = http.get(base + "/login").text  # the form carries its sign-in token
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    response = http.post(base + "/login", data={"username": username, "password": PASSWORD, "csrf_token": token},
                         allow_redirects=False)
    if response.status_code != 302:
        raise SystemExit(f"sign-in failed: {response.status_code}")
    return http


def _measure(http, base, clock, label, paths, judged, warmup, count) -> dict:
    errors, client = [], []
    hits = []
    for i in range(warmup + count):
        path = paths[i % len(paths)]
        if i == warmup:
            clock.take()
        started = time.perf_counter()
        response = http.get(base + path, allow_redirects=False)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200 and len(errors) < 5:
            errors.append(f"{response.status_code} {path}")
        if i >= warmup:
            client.append(elapsed)
            if "search" in path:
                hits.append(len(re.findall(r'<li class="hit">', response.text)))
    server = clock.take()
    note = f"hits per page: mean {sum(hits) / len(hits):.1f}" if hits else ""
    return {"label": label, "server": server, "client": client, "errors": errors, "judged": judged, "note": note}


def _report(version, db, n_cases, rows) -> int:
    print(f"\nSagspost web benchmark — {version} — {db.kind}, {n_cases:,} cases")
    header = f"{'page':40} {'srv p50':>8} {'srv p95':>8} {'srv max':>8} {'cli p50':>8} {'cli p95':>8}  result"
    print(header)
    print("-" * len(header))
    failed = []
    for r in rows:
        p95 = percentile(r["server"], 95)
        ok = not r["errors"] and p95 < TARGET_MS
        verdict = ("PASS" if ok else "FAIL") if r["judged"] else "info"
        if r["judged"] and not ok:
            failed.append(r["label"])
        print(f"{r['label']:40} {percentile(r['server'], 50):8.1f} {p95:8.1f} {max(r['server']):8.1f} "
              f"{percentile(r['client'], 50):8.1f} {percentile(r['client'], 95):8.1f}  {verdict} {r['note']}")
        for error in r["errors"]:
            print(f"    ERROR {error}")
    print("Times in ms; srv: inside the WSGI app (the target: p95 < 100 ms), cli: at the client.")
    print(f"RESULT: {'FAIL — ' + ', '.join(failed) if failed else 'PASS'}")
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
