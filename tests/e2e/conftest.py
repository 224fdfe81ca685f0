"""Fixtures for the end-to-end tests (see `e2e_support` for what they wrap)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from e2e_support import BackchannelReceiver, LiveServer, running_server


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A provider shared by the tests of one module (each test makes its own clients/users)."""
    with running_server(tmp_path_factory.mktemp("huren")) as server:
        yield server


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A provider with the demo data (`huren demo seed` before start: the /demo/ RP is mounted)."""

    def seed(server: LiveServer) -> None:
        server.cli("demo", "seed")

    with running_server(tmp_path_factory.mktemp("huren-demo"), before_start=seed) as server:
        yield server


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A provider of its own, for tests that change global state (signing keys)."""
    with running_server(tmp_path) as server:
        yield server


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """On failure, attach the server log(s) of the test to the report."""
    report = yield
    if report.failed:
        for name in ("live_server", "fresh_server", "demo_server"):
            server = getattr(item, "funcargs", {}).get(name)
            if isinstance(server, LiveServer):
                tail = server.log()[-20000:]
                report.sections.append((f"huren serve log ({name})", tail))
    return report


@pytest.fixture
def backchannel_receiver() -> Iterator[BackchannelReceiver]:
    receiver = BackchannelReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            status = receiver._record(self.path, dict(self.headers.items()), body)
            payload = b"" if status == 200 else b"simulated failure"
            self.send_response(status)
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{httpd.server_address[1]}/backchannel-logout"
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
    )
    thread.start()
    try:
        yield receiver
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)
