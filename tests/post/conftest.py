"""Fixtures for Digital Post: the NgDP simulator in a real waitress server, and a client for it."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from server.post.providers import NgdpClient
from server.post.simulator import create_simulator
from tests.live import LiveServer, serve_in_thread


@dataclass
class RunningSimulator:
    """A simulator serving on 127.0.0.1:<port>; `control` talks to its /_sim/ API."""

    app: object
    live: LiveServer
    state_file: Path | None

    @property
    def url(self) -> str:
        return self.live.url

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
        self.live.stop()
        self.state.close()


def start_simulator(state_file: Path | None = None, *, threads: int = 8) -> RunningSimulator:
    """Serve a simulator on a free port in a background thread (waitress, threaded)."""
    app = create_simulator(state_file)
    return RunningSimulator(app, serve_in_thread(app, threads=threads, name="post-simulator"), state_file)


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
