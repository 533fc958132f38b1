"""Real HTTP servers in background threads, and a real browser (Debian's Chromium through Playwright)."""
from __future__ import annotations

import os
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

from waitress.server import create_server

CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
# Without these Chromium keeps dialling Google's hosts, which this machine's closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]
ARTIFACTS = Path(os.environ.get("SAGSPOST_TEST_ARTIFACTS", "test-artifacts"))


@dataclass
class LiveServer:
    """A WSGI app served by waitress on 127.0.0.1:<free port> until stop()."""

    server: object
    thread: threading.Thread | None = None
    stop_event: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.effective_port}"

    def stop(self) -> None:
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(timeout=10)


def serve_in_thread(wsgi_app, *, threads: int = 8, name: str = "live-server") -> LiveServer:
    server = create_server(wsgi_app, host="127.0.0.1", port=0, threads=threads, ident=name, channel_timeout=30)
    live = LiveServer(server)

    def serve():
        # waitress's own run() loops until its socket map is empty; loop here so stop() can end it.
        try:
            while not live.stop_event.is_set():
                server.asyncore.loop(timeout=0.05, map=server._map, count=1)
        finally:
            for channel in list(server._map.values()):
                try:
                    channel.close()
                except OSError:
                    pass
            server.task_dispatcher.shutdown(timeout=5)

    live.thread = threading.Thread(target=serve, name=name, daemon=True)
    live.thread.start()
    return live


def chromium_path() -> str:
    for candidate in CHROMIUM_PATHS:
        if shutil.which(candidate):
            return candidate
    raise RuntimeError("Chromium is missing: `make test` installs Debian's chromium package")


def screenshot(page, name: str) -> Path:
    """Save a screenshot as a test artifact (test-artifacts/<name>.png) and return its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
