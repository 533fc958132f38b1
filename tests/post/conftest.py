"""Fixtures for Digital Post: the NgDP simulator in a real waitress server, and a client for it."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from waitress.server import create_server

from server.post.providers import NgdpClient
from server.post.simulator import create_simulator


@dataclass
class RunningSimulator:
    """A simulator serving on 127.0.0.1:<port>; `control` talks to its /_sim/ API."""

    app: object
    server: object
    thread: threading.Thread
    state_file: Path | None
    stop_event: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.effective_port}"

    @property
    def api_url(self) -> str:
        return self.url + "/apis/v1"

    @property
    def state(self):
        return self.app.extensions["post_simulator"]

    def control(self, method: str, path: str, json=None) -> requests.Response:
        response = requests.request(method, self.url + "/_sim/" + path.lstrip("/"), json=json, timeout=10)
        assert response.status_code < 400, response.text
        return response

    def deliveries(self) -> dict:
        return self.control("GET", "deliveries").json()

    def set_faults(self, **switches) -> dict:
        return self.control("PUT", "faults", json=switches).json()

    def set_contacts(self, state: str, *numbers: str) -> None:
        self.control("PUT", f"contacts/{state}", json={"numbers": list(numbers)})

    def inject_reply(self, reply_to, **fields) -> str:
        return self.control("POST", "inbound", json={"reply_to": str(reply_to), **fields}).json()["message_id"]

    def client(self, **options) -> NgdpClient:
        options.setdefault("cert", None)
        options.setdefault("system_id", "00000000-0000-4000-8000-000000000001")
        options.setdefault("delegated_cvr", None)
        options.setdefault("timeout_s", 5)
        return NgdpClient(self.api_url, **options)

    def stop(self) -> None:
        self.state.stopping.set()  # wakes requests sleeping in a latency or timeout switch
        self.stop_event.set()
        self.thread.join(timeout=10)
        self.state.close()


def start_simulator(state_file: Path | None = None, *, threads: int = 8) -> RunningSimulator:
    """Serve a simulator on a free port in a background thread (waitress, threaded)."""
    app = create_simulator(state_file)
    server = create_server(app, host="127.0.0.1", port=0, threads=threads, ident="post-simulator",
                           channel_timeout=30)
    running = RunningSimulator(app, server, None, state_file)

    def serve():
        # waitress's own run() loops until its socket map is empty; loop here so stop() can end it.
        try:
            while not running.stop_event.is_set():
                server.asyncore.loop(timeout=0.05, map=server._map, count=1)
        finally:
            for channel in list(server._map.values()):
                try:
                    channel.close()
                except OSError:
                    pass
            server.task_dispatcher.shutdown(timeout=5)

    running.thread = threading.Thread(target=serve, name="post-simulator", daemon=True)
    running.thread.start()
    return running


@pytest.fixture
def post_simulator(tmp_path):
    """A fresh simulator with its state in tmp_path/post-simulator.sqlite; stopped after the test."""
    running = start_simulator(tmp_path / "post-simulator.sqlite")
    yield running
    running.stop()


@pytest.fixture
def ngdp_client(post_simulator):
    """The real NgDP client, pointed at the simulator."""
    client = post_simulator.client()
    yield client
    client.close()
from tests.cases.conftest import new_case, plan, public_template, template  # noqa: F401,E402
