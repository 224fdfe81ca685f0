"""A real market-entity registry for tests: a stdlib HTTP server on 127.0.0.1 (port 0) speaking
docs/registry-protocol.md, with switches that make it misbehave the ways a real one does.

    with RegistryServer({USCC: entity(USCC, "某某有限公司")}) as server:
        HttpRegistry(server.url).lookup(USCC)

Switches (attributes, changeable while running): `slow` (seconds to sleep before answering),
`drip` (seconds between body bytes), `failing` (HTTP 500), `garbage` (a non-JSON 200),
`wrong_uscc` (a record about another code), `contradicting` (another name from the second
request for a code on), `huge` (a body over 64 KiB without Content-Length), `redirect` (302),
`raw_body` (this exact 200 JSON body for every code). `requests` counts requests per code and
`authorizations` keeps the Authorization headers received.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PATH_PREFIX = "/v1/entities/"


def entity(
    uscc: str,
    name: str,
    *,
    status: str = "active",
    dishonest: bool = False,
    legal_representative: str | None = "张三",
    registered_at: str | None = "2015-06-01",
    qualifications: tuple[str, ...] = (),
) -> dict[str, Any]:
    """A registry record in the protocol's JSON shape."""
    return {
        "uscc": uscc,
        "name": name,
        "status": status,
        "legal_representative": legal_representative,
        "registered_at": registered_at,
        "dishonest": dishonest,
        "qualifications": list(qualifications),
    }


class RegistryServer:
    """The server and its switches; a context manager that starts and stops it."""

    def __init__(self, entities: dict[str, dict[str, Any]] | None = None) -> None:
        self.entities: dict[str, dict[str, Any]] = dict(entities or {})
        self.slow = 0.0
        self.drip = 0.0
        self.failing = False
        self.garbage = False
        self.wrong_uscc = False
        self.contradicting = False
        self.huge = False
        self.redirect = False
        self.raw_body: bytes | None = None
        self.requests: Counter[str] = Counter()
        self.authorizations: list[str | None] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def total_requests(self) -> int:
        with self._lock:
            return sum(self.requests.values())

    def __enter__(self) -> RegistryServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def _count(self, code: str, authorization: str | None) -> int:
        with self._lock:
            self.requests[code] += 1
            self.authorizations.append(authorization)
            return self.requests[code]


def _handler(server: RegistryServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

        def do_GET(self) -> None:
            if not self.path.startswith(PATH_PREFIX):
                self._send(404, b'{"error":"not_found"}')
                return
            code = self.path[len(PATH_PREFIX) :]
            nth = server._count(code, self.headers.get("Authorization"))
            if server.slow:
                time.sleep(server.slow)
            if server.failing:
                self._send(500, b'{"error":"internal"}')
            elif server.redirect:
                self.send_response(302)
                self.send_header("Location", f"http://127.0.0.1:1{PATH_PREFIX}{code}")
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif server.garbage:
                self._send(200, b"<html>\x00\xff not json")
            elif server.huge:
                self._send(200, b'{"pad":"' + b"x" * (70 * 1024) + b'"}', length=False)
            elif server.raw_body is not None:
                self._send(200, server.raw_body)
            elif code not in server.entities:
                self._send(404, json.dumps({"uscc": code, "found": False}).encode())
            else:
                body = dict(server.entities[code])
                if server.wrong_uscc:
                    body["uscc"] = "91350100M000100Y43" if code != "91350100M000100Y43" else "X"
                if server.contradicting and nth >= 2:
                    body["name"] = f"{body['name']}（第{nth}次）"
                self._send(200, json.dumps(body, ensure_ascii=False).encode())

        def _send(self, status: int, body: bytes, *, length: bool = True) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            if length:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                if server.drip:
                    for i in range(len(body)):
                        self.wfile.write(body[i : i + 1])
                        self.wfile.flush()
                        time.sleep(server.drip)
                else:
                    self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up first, as it should

    return Handler
