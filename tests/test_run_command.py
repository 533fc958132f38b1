"""`sagspost run`: web server, worker and Digital Post simulator together, stopped as one by Ctrl-C.

On a fresh data folder after `sagspost init`: sign in with the administrator's password, create a
sender identity, upload a PDF, send a letter to a fictional CPR number (server/post/data/registers.json)
and see it `sent` through the API; then SIGINT the `run` process (what `kill -INT` or an IDE's stop
button does) or its whole process group (what Ctrl-C in a terminal does) and check that it and every
process it started have exited.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.files import text_pdf

PASSWORD = "correct horse battery staple"
CPR = "120385-1100"  # Mette Fiktivsen, fictional (server/post/data/registers.json)
STOP_WITHIN_S = 20


def _sagspost() -> str:
    beside = Path(sys.executable).with_name("sagspost")
    if beside.exists():
        return str(beside)
    found = shutil.which("sagspost")
    assert found, "the `sagspost` console script is not installed: run `make venv`"
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(data_dir: Path, simulator_port: int) -> dict[str, str]:
    """No SAGSPOST_* setting of the caller (so the embedded SQLite database and broker under data_dir)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAGSPOST_")}
    env.update(
        SAGSPOST_DATA_DIR=str(data_dir),
        SAGSPOST_ADMIN_PASSWORD=PASSWORD,
        SAGSPOST_SIMULATOR_PORT=str(simulator_port),
        SAGSPOST_LOG_FORMAT="text",
        SAGSPOST_LOG_LEVEL="WARNING",
        SAGSPOST_ARGON2_TIME_COST="1",
        SAGSPOST_ARGON2_MEMORY_COST_KIB="1024",
    )
    return env


# ---------------------------------------------------------------- processes, from /proc


def _stat(pid: int) -> tuple[str, int, int, int] | None:
    """(state, ppid, pgid, sid) of a process, None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = raw[raw.rindex(")") + 2:].split()  # the command name may hold spaces and parentheses
    return fields[0], int(fields[1]), int(fields[2]), int(fields[3])


def _all_pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def _descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid in _all_pids():
        stat = _stat(pid)
        if stat:
            children.setdefault(stat[1], []).append(pid)
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")  # a zombie has exited; only its entry waits


def _in_session(sid: int) -> set[int]:
    """Live processes of the session `run` was started in (its own): anything it started, however deep."""
    return {pid for pid in _all_pids() if (stat := _stat(pid)) and stat[3] == sid and stat[0] not in ("Z", "X")}


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


# ---------------------------------------------------------------- the test


@pytest.mark.slow
@pytest.mark.timeout(240)
@pytest.mark.parametrize("ctrl_c", ["process", "group"])
def test_run_serves_sends_a_letter_and_stops_everything_on_ctrl_c(tmp_path, ctrl_c):
    data_dir = tmp_path / "data"
    port, simulator_port = _free_port(), _free_port()
    env = _env(data_dir, simulator_port)
    init = subprocess.run([_sagspost(), "init"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    assert init.returncode == 0, init.stdout + init.stderr

    log_path = tmp_path / "run.log"
    with log_path.open("wb") as log:
        run = subprocess.Popen([_sagspost(), "run", "--host", "127.0.0.1", "--port", str(port)], env=env, cwd=tmp_path,
                               stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)

    def output() -> str:
        return log_path.read_text(errors="replace")

    base = f"http://127.0.0.1:{port}"
    http = requests.Session()
    try:
        deadline = time.monotonic() + 60
        while True:
            assert run.poll() is None, f"sagspost run exited {run.returncode}:\n{output()}"
            try:
                if http.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, f"no answer on {base}/healthz within 60 s:\n{output()}"
            time.sleep(0.2)

        login = http.post(base + "/api/auth/login", json={"username": "admin", "password": PASSWORD}, timeout=30)
        assert login.status_code == 200, login.text
        http.headers["X-CSRF-Token"] = login.json()["csrf_token"]

        sender = http.post(base + "/api/post/sender-identities", json={"name": "Testrup Kommune", "cvr": "39990059"},
                           timeout=30)
        assert sender.status_code == 201, sender.text
        doc = http.post(base + "/api/documents", data={"title": "Afgørelse"},
                        files={"file": ("afgoerelse.pdf", text_pdf("Kære Mette\nDu får hermed svar."), "application/pdf")},
                        timeout=30)
        assert doc.status_code == 201, doc.text
        dispatch = http.post(base + "/api/dispatches", json={
            "title": "Afgørelse", "sender_identity_id": sender.json()["id"], "main_document_id": doc.json()["id"],
            "recipients": [{"type": "cpr", "number": CPR}],
        }, timeout=60)
        assert dispatch.status_code == 201, dispatch.text
        letters_url = f"{base}/api/dispatches/{dispatch.json()['id']}/letters"

        # the web process only queues it: the worker sends it to the simulator
        deadline = time.monotonic() + 60
        while True:
            letters = http.get(letters_url, timeout=30).json()
            status = letters[0]["status"]
            if status in ("sent", "delivered"):  # delivered: the worker's receipt poll got there too
                break
            assert status in ("queued", "sending"), letters[0]
            assert run.poll() is None, f"sagspost run exited {run.returncode}:\n{output()}"
            assert time.monotonic() < deadline, f"the letter is still {status} after 60 s:\n{output()}"
            time.sleep(0.3)
        (letter,) = letters
        assert letter["recipient"]["name"] == "Mette Fiktivsen" and letter["channel"] == "digital"
        deliveries = requests.get(f"http://127.0.0.1:{simulator_port}/_sim/deliveries", timeout=10).json()
        assert deliveries["per_uuid"] == {letter["message_uuid"]: 1}, deliveries

        children = _descendants(run.pid)
        commands = [_cmdline(pid) for pid in children]
        assert any(" worker" in c for c in commands), commands
        assert any(" simulator" in c for c in commands), commands
        print(f"sagspost run (pid {run.pid}) has {len(children)} processes under it: {commands}")

        # Ctrl-C
        stopped_at = time.monotonic()
        if ctrl_c == "group":
            os.killpg(run.pid, signal.SIGINT)  # a terminal's Ctrl-C: the whole foreground process group
        else:
            os.kill(run.pid, signal.SIGINT)
        try:
            run.wait(timeout=STOP_WITHIN_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"sagspost run still running {STOP_WITHIN_S} s after SIGINT:\n{output()}")
        deadline = stopped_at + STOP_WITHIN_S
        while (left := {pid for pid in children if _alive(pid)} | _in_session(run.pid)) and time.monotonic() < deadline:
            time.sleep(0.1)
        took = time.monotonic() - stopped_at
        assert not left, (f"{STOP_WITHIN_S} s after SIGINT these processes of `sagspost run` still run: "
                          f"{[(pid, _cmdline(pid)) for pid in left]}\n{output()}")
        print(f"SIGINT to the {ctrl_c}: run exited {run.returncode}, all {len(children)} children gone in {took:.1f} s")
        assert not _port_open(port) and not _port_open(simulator_port)
        assert "Traceback" not in output(), output()
    finally:
        http.close()
        if run.poll() is None or _in_session(run.pid):
            try:
                os.killpg(run.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            for pid in _in_session(run.pid):  # anything that left the group but not the session
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            run.wait(timeout=10)
