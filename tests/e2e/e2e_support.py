"""Support for the end-to-end tests: a real `huren serve` process and a back-channel receiver.

Nothing here imports the server's code: the provider is driven only through its console script
and over HTTP, the way an operator and a relying party would. (A module of its own rather than
`conftest`, so test modules can import it by a name no other test directory uses.)
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
HUREN = ROOT / ".venv" / "bin" / "huren"
if not HUREN.exists():  # a venv elsewhere: use the console script next to this interpreter
    HUREN = Path(sys.executable).with_name("huren")

START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
CLI_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    """One provider instance: its own data dir (SQLite), port and `huren serve` process."""

    data_dir: Path
    port: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- the console script ----------------------------------------------------------------

    def cli(
        self, *args: str, input: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run `huren ARGS` against this instance's data dir; fail the test if it fails."""
        result = subprocess.run(
            [str(HUREN), *args],
            input=input,
            env=self.env,
            cwd=self.data_dir,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT,
            check=False,
        )
        if check and result.returncode != 0:
            pytest.fail(
                f"`huren {' '.join(args)}` exited {result.returncode}\n"
                f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
            )
        return result

    def create_client(self, name: str = "e2e", **options: Any) -> dict[str, Any]:
        """`huren client create --json`; keyword options become flags, lists repeat them."""
        args = ["client", "create", "--name", name, "--json"]
        for key, value in options.items():
            flag = "--" + key.replace("_", "-")
            if value is True:
                args.append(flag)
            elif value in (None, False):
                continue
            elif isinstance(value, list | tuple):
                for item in value:
                    args += [flag, str(item)]
            else:
                args += [flag, str(value)]
        return dict(json.loads(self.cli(*args).stdout))

    def create_user(self, username: str, password: str, **options: str) -> dict[str, Any]:
        args = ["user", "create", "--username", username, "--password-stdin", "--json"]
        for key, value in options.items():
            args += ["--" + key, value]
        return dict(json.loads(self.cli(*args, input=password + "\n").stdout))

    # -- the process -----------------------------------------------------------------------

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def start(self) -> None:
        assert self.process is None, "already started"
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    str(HUREN),
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--workers",
                    "1",
                ],
                env=self.env,
                cwd=self.data_dir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: workers can be reaped with it
            )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                code = self.process.returncode
                self.process = None
                pytest.fail(f"`huren serve` exited with {code} before it was healthy\n{self.log()}")
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"`huren serve` not healthy after {START_TIMEOUT:.0f} s\n{self.log()}")
            time.sleep(0.1)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()  # SIGTERM: gunicorn's graceful shutdown
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
        # workers left behind by a master that died abruptly share its process group
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)


def _environment(data_dir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUREN_")}
    env.update(
        HUREN_DATA_DIR=str(data_dir),
        HUREN_ISSUER=f"http://127.0.0.1:{port}",
        HUREN_PORT=str(port),
        # gunicorn's control socket defaults to ~/.gunicorn/gunicorn.ctl, shared by every
        # instance on the machine; keep each test server's socket in its own directory
        XDG_RUNTIME_DIR=str(data_dir),
        PYTHONUNBUFFERED="1",
    )
    return env


@contextlib.contextmanager
def running_server(
    base: Path,
    before_start: Callable[[LiveServer], None] | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[LiveServer]:
    """Prepare a data dir (`huren db upgrade`), run `before_start`, serve, always stop.

    `env` adds settings (``HUREN_*``) for this server, e.g. peer URLs."""
    data_dir = base / "data"
    data_dir.mkdir(parents=True)
    port = free_port()
    server = LiveServer(
        data_dir=data_dir,
        port=port,
        env={**_environment(data_dir, port), **(env or {})},
        log_path=base / "serve.log",
    )
    server.cli("db", "upgrade")
    if before_start is not None:
        before_start(server)
    try:
        server.start()
        yield server
    finally:
        server.stop()


# -- back-channel logout receiver ----------------------------------------------------------


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode())


@dataclass
class BackchannelReceiver:
    """An RP's back-channel logout endpoint: records every POST; can fail the first N with 500."""

    url: str = ""
    deliveries: list[Delivery] = field(default_factory=list)
    fail_remaining: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _arrived: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self._arrived = threading.Condition(self._lock)

    def fail_first(self, n: int) -> None:
        with self._lock:
            self.fail_remaining = n

    def _record(self, path: str, headers: dict[str, str], body: bytes) -> int:
        with self._lock:
            status = 500 if self.fail_remaining > 0 else 200
            if self.fail_remaining > 0:
                self.fail_remaining -= 1
            self.deliveries.append(Delivery(path, headers, body, status))
            self._arrived.notify_all()
            return status

    def successful(self) -> list[Delivery]:
        with self._lock:
            return [d for d in self.deliveries if d.status == 200]

    def wait_for(self, count: int = 1, timeout: float = 20.0) -> list[Delivery]:
        """Wait until `count` deliveries were answered 200; return them (fails on timeout)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                ok = [d for d in self.deliveries if d.status == 200]
                if len(ok) >= count:
                    return ok
                left = deadline - time.monotonic()
                if left <= 0:
                    pytest.fail(
                        f"expected {count} successful back-channel deliveries within {timeout} s; "
                        f"got {[(d.path, d.status) for d in self.deliveries]}"
                    )
                self._arrived.wait(left)


# -- Chromium (Playwright) -----------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(os.environ.get("HUREN_TEST_SCREENSHOTS", "/tmp"))


def chromium_or_skip() -> Any:
    """Playwright's sync API, or skip the calling test module when Chromium or Playwright is
    missing (`make system-packages` installs Chromium)."""
    import pytest

    if not os.path.exists(CHROMIUM):
        pytest.skip(
            f"{CHROMIUM} is missing (`make system-packages` installs it)", allow_module_level=True
        )
    return pytest.importorskip("playwright.sync_api")


@contextlib.contextmanager
def launch_chromium(sync_api: Any) -> Iterator[Any]:
    """A headless Chromium, closed afterwards."""
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


# -- a trading platform's redirect URI ----------------------------------------------------------


@dataclass
class RelyingParty:
    """The platform's redirect URI: a real HTTP server recording what arrives."""

    redirect_uri: str = ""
    arrived: list[str] = field(default_factory=list)

    def arrivals(self, state: str) -> list[dict[str, str]]:
        out = []
        for path in list(self.arrived):
            params = {k: v[0] for k, v in parse_qs(urlsplit(path).query).items()}
            if params.get("state") == state:
                out.append(params)
        return out


@contextlib.contextmanager
def relying_party() -> Iterator[RelyingParty]:
    rp = RelyingParty()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            rp.arrived.append(self.path)
            body = b"<!doctype html><title>platform</title><p id=rp>platform</p>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    rp.redirect_uri = f"http://127.0.0.1:{httpd.server_address[1]}/callback"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        yield rp
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)
