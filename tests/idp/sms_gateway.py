"""A real SMS gateway for tests: a stdlib HTTP server on 127.0.0.1 (port 0) speaking
docs/sms-gateway.md, recording what it was asked to send.

    with SmsGatewayServer() as gateway:
        HttpSmsGateway(gateway.url).send(...)
        gateway.last_code()

Switches (changeable while running): `status` (the HTTP status to answer; non-2xx records
nothing) and `delay` (seconds to sleep before answering).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Gateway:
    """A local gateway's state: recorded messages; `status` and `delay` make it fail or time
    out."""

    url: str = ""
    messages: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    status: int = 204
    delay: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def last_code(self) -> str:
        with self._lock:
            return str(self.messages[-1]["params"]["code"])

    def code_for(self, phone: str) -> str:
        """The code of the latest message to `phone` (11 digits)."""
        with self._lock:
            for message in reversed(self.messages):
                if message.get("phone") == phone:
                    return str(message["params"]["code"])
        raise AssertionError(f"the gateway received no message for {phone}")

    def _record(self, body: bytes, headers: dict[str, str]) -> None:
        with self._lock:
            self.messages.append(json.loads(body))
            self.headers.append(headers)


class SmsGatewayServer:
    """The server around a `Gateway`; a context manager that starts and stops it."""

    def __init__(self, path: str = "/send") -> None:
        self.state = Gateway()
        state = self.state

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if state.delay:
                    time.sleep(state.delay)
                if 200 <= state.status < 300:
                    state._record(body, dict(self.headers))
                self.send_response(state.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        state.url = f"http://127.0.0.1:{self._httpd.server_address[1]}{path}"

    def __enter__(self) -> Gateway:
        self._thread.start()
        return self.state

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
