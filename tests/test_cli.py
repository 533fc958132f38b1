"""The installed `sagspost` command: `init` on an empty embedded database, and `serve`."""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, inspect, select, text

from server import create_app
from server.auth.models import User
from server.config import Settings
from server.migrate import head_revision

PASSWORD = "correct horse battery staple"
CREATED_FROM_ENV = "First administrator 'admin' created with the password from SAGSPOST_ADMIN_PASSWORD."
PRINTED_PASSWORD = re.compile(r"First administrator: username 'admin', password '([^']+)' \(shown once; change it\)\.")


def _sagspost() -> str:
    """The console script installed beside this interpreter (the venv's), else the one on PATH."""
    beside = Path(sys.executable).with_name("sagspost")
    if beside.exists():
        return str(beside)
    found = shutil.which("sagspost")
    assert found, "the `sagspost` console script is not installed: run `make venv`"
    return found


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The process environment without any SAGSPOST_* setting of the caller (so no database URL:
    the embedded SQLite file under data_dir), plus cheap password hashing and the given values."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAGSPOST_")}
    env.update(
        SAGSPOST_DATA_DIR=str(data_dir),
        SAGSPOST_LOG_FORMAT="text",
        SAGSPOST_LOG_LEVEL="WARNING",
        SAGSPOST_ARGON2_TIME_COST="1",
        SAGSPOST_ARGON2_MEMORY_COST_KIB="1024",
    )
    env.update(extra)
    return env


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [_sagspost(), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
    )
    assert result.returncode == 0, f"sagspost {' '.join(args)} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


def _app_on(data_dir: Path):
    return create_app(
        Settings.from_env(
            {
                "SAGSPOST_DATA_DIR": str(data_dir),
                "SAGSPOST_LOG_FORMAT": "text",
                "SAGSPOST_LOG_LEVEL": "WARNING",
                "SAGSPOST_TESTING": "true",
            }
        )
    )


def _admin_count(db_file: Path) -> int:
    engine = create_engine(f"sqlite:///{db_file}")
    try:
        with engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(User).where(User.username == "admin"))
    finally:
        engine.dispose()


def _count(db_file: Path, table: str) -> int:
    engine = create_engine(f"sqlite:///{db_file}")
    try:
        with engine.connect() as conn:
            return conn.scalar(text(f"SELECT count(*) FROM {table}"))
    finally:
        engine.dispose()


def test_init_migrates_an_empty_database_and_creates_the_admin_once(tmp_path):
    data_dir = tmp_path / "data"
    env = _env(data_dir, SAGSPOST_ADMIN_PASSWORD=PASSWORD)

    first = _run(["init"], env, tmp_path)

    assert CREATED_FROM_ENV in first.stdout
    assert PASSWORD not in first.stdout + first.stderr
    db_file = data_dir / "sagspost.db"
    assert db_file.exists(), "init did not create the embedded SQLite database under SAGSPOST_DATA_DIR"
    assert not (tmp_path / "var").exists(), "init wrote outside SAGSPOST_DATA_DIR"
    engine = create_engine(f"sqlite:///{db_file}")
    try:
        tables = set(inspect(engine).get_table_names())
        with engine.connect() as conn:
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()
    assert {"users", "roles", "groups", "api_tokens", "cases", "audit_events"} <= tables
    assert revision == head_revision()
    assert _admin_count(db_file) == 1

    assert _count(db_file, "document_templates") == 4  # the shipped letter templates

    second = _run(["init"], env, tmp_path)

    assert "First administrator" not in second.stdout
    assert _admin_count(db_file) == 1
    assert _count(db_file, "document_templates") == 4


def test_init_without_a_password_prints_one_that_signs_in(tmp_path):
    data_dir = tmp_path / "data"
    env = _env(data_dir)

    first = _run(["init"], env, tmp_path)

    found = PRINTED_PASSWORD.search(first.stdout)
    assert found, f"no password line in:\n{first.stdout}"
    password = found.group(1)
    assert len(password) >= 16

    second = _run(["init"], env, tmp_path)
    assert "First administrator" not in second.stdout
    assert password not in second.stdout + second.stderr

    app = _app_on(data_dir)
    try:
        client = app.test_client()
        wrong = client.post("/api/auth/login", json={"username": "admin", "password": password + "x"})
        assert wrong.status_code == 401
        answer = client.post("/api/auth/login", json={"username": "admin", "password": password})
        assert answer.status_code == 200, answer.get_data(as_text=True)
        body = answer.get_json()
        assert body["user"]["username"] == "admin"
        assert body["csrf_token"]
        assert {"it_admin", "system_admin", "org_admin"} <= set(body["user"]["roles"])
        me = client.get("/api/auth/me")
        assert me.status_code == 200
        assert me.get_json()["user"]["username"] == "admin"
    finally:
        app.extensions["sagspost.engine"].dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def test_serve_answers_health_checks(tmp_path):
    data_dir = tmp_path / "data"
    env = _env(data_dir, SAGSPOST_ADMIN_PASSWORD=PASSWORD)
    _run(["init"], env, tmp_path)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = (tmp_path / "serve.log").open("w+")
    server = subprocess.Popen(
        [_sagspost(), "serve", "--host", "127.0.0.1", "--port", str(port), "--threads", "2"],
        env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline:
            if server.poll() is not None:
                log.seek(0)
                pytest.fail(f"sagspost serve exited {server.returncode}:\n{log.read()}")
            try:
                status, body = _get(f"{base}/healthz")
                break
            except (urllib.error.URLError, ConnectionError, socket.timeout):
                time.sleep(0.2)
        log.seek(0)
        assert status == 200, f"no answer on {base}/healthz within 60 s:\n{log.read()}"
        assert body == {"status": "ok"}

        status, body = _get(f"{base}/readyz")
        assert status == 200, body
        assert body["status"] == "ready"
        assert body["revision"] == head_revision()
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=15)
        log.close()
