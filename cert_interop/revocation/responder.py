"""A small real CRL and OCSP responder (stdlib ``http.server``), for tests and operators' trials.

It serves files (CRLs, CA certificates) by path and answers OCSP requests, POSTed or in the GET
form of RFC 6960 A.1 (``…/ocsp/<url-encoded base64 DER>``), from a table of CAs and their revoked
serials, signed by the CA or by a delegated responder. :class:`Behaviour` makes it misbehave on
purpose (slow, HTTP errors, ``tryLater``, no nonce, wrong nonce, replayed or stale answers, bad
signatures) so every refusal path of the client can be driven over real HTTP. It listens on
127.0.0.1 by default and is not meant to face the Internet: there is no rate limiting and
requests are not authenticated.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from cert_interop.errors import CertInteropError
from cert_interop.keys import PrivateKey, load_private_key
from cert_interop.sm3 import sm3
from cert_interop.x509 import (
    CertId,
    Certificate,
    OcspResponse,
    OcspResponseStatus,
    SingleResponse,
    build_ocsp_error_response,
    build_ocsp_response,
    new_nonce,
    parse_certificate,
    parse_crl,
    parse_ocsp_request,
)
from cert_interop.x509.ocsp import key_hash

__all__ = ["Authority", "Behaviour", "RevocationResponder"]

_MAX_REQUEST_BYTES = 64 * 1024


@dataclass
class Behaviour:
    """How the responder answers; tests change it between requests."""

    delay: float = 0.0
    """Seconds to wait before answering anything."""
    http_status: int = 200
    """Anything but 200 answers every request with that status and no body."""
    ocsp_status: OcspResponseStatus = OcspResponseStatus.SUCCESSFUL
    """Anything but successful answers OCSP with that unsigned error status."""
    nonce: Literal["echo", "omit", "wrong"] = "echo"
    stale: bool = False
    """thisUpdate two days ago, nextUpdate one day ago."""
    replay: bool = False
    """Answer with the previous response for the same certificate, verbatim."""
    bad_signature: bool = False
    this_update_age: timedelta = timedelta(0)
    validity: timedelta | None = timedelta(hours=1)
    """nextUpdate − thisUpdate; None writes no nextUpdate."""
    responder_id: Literal["name", "key"] = "name"


@dataclass
class Authority:
    """One CA the responder answers for, and who signs its answers."""

    issuer: Certificate
    signer: Certificate
    signer_key: PrivateKey
    revoked: Mapping[int, tuple[datetime, str | None]] = field(default_factory=dict)
    """serial → (revocation time, reason)."""
    known: frozenset[int] | None = None
    """Serials the CA issued; others are answered ``unknown``. None: every serial is known."""
    certs: Sequence[Certificate] | None = None
    """Certificates to include in responses (default: the signer's)."""


def _digest(hash_algorithm: str, data: bytes) -> bytes | None:
    if hash_algorithm == "sm3":
        return sm3(data)
    if hash_algorithm in ("sha1", "sha256"):
        return hashlib.new(hash_algorithm, data, usedforsecurity=False).digest()
    return None


def _covers(authority: Authority, cid: CertId) -> bool:
    name_hash = _digest(cid.hash_algorithm, authority.issuer.subject.der)
    if name_hash is None or name_hash != cid.issuer_name_hash:
        return False
    return key_hash(authority.issuer, cid.hash_algorithm) == cid.issuer_key_hash


class RevocationResponder:
    """Serve ``files`` (path → bytes, or from ``directory`` by file name) and answer OCSP for
    ``authorities``. Use as a context manager, or ``start()`` / ``stop()``."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        directory: Path | None = None,
        authorities: Sequence[Authority] = (),
    ) -> None:
        self.files: dict[str, bytes] = {}
        self.directory = directory
        self.authorities: list[Authority] = list(authorities)
        self.behaviour = Behaviour()
        self.hits: Counter[str] = Counter()
        """Requests seen: ``ocsp``, ``file`` and each path."""
        self._lock = threading.Lock()
        self._last: dict[str, bytes] = {}
        self._server = _Server((host, port), _Handler)
        self._server.responder = self
        self._thread: threading.Thread | None = None

    @classmethod
    def from_hierarchy(
        cls, directory: Path, *, host: str = "127.0.0.1", port: int = 0
    ) -> RevocationResponder:
        """A responder over a directory written by ``huren pki hierarchy``: its files by name
        (``.cer`` served as the DER of the matching ``.pem``), and OCSP for the root and the
        intermediate, signed by each CA's own key, revoked serials taken from their CRLs."""
        authorities: list[Authority] = []
        for ca, crl_name in (("intermediate", "intermediate.crl"), ("root", "root.crl")):
            cert = parse_certificate((directory / f"{ca}.pem").read_bytes())
            key = load_private_key((directory / f"{ca}.key").read_bytes())
            revoked: dict[int, tuple[datetime, str | None]] = {}
            if (directory / crl_name).exists():
                crl = parse_crl((directory / crl_name).read_bytes())
                revoked = {e.serial_number: (e.revocation_date, e.reason) for e in crl.revoked}
            authorities.append(Authority(cert, cert, key, revoked))
        return cls(host=host, port=port, directory=directory, authorities=authorities)

    # --- lifecycle ----------------------------------------------------------------------------

    @property
    def host(self) -> str:
        host = self._server.server_address[0]
        return host.decode() if isinstance(host, bytes) else str(host)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + "/" + path.lstrip("/")

    def start(self) -> RevocationResponder:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="revocation-responder", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (the CLI)."""
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> RevocationResponder:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Well-behaved again, counters at zero, no remembered answers."""
        with self._lock:
            self.behaviour = Behaviour()
            self.hits.clear()
            self._last.clear()

    @contextmanager
    def behaving(self, **changes: object) -> Iterator[Behaviour]:
        """Misbehave as told inside the block, then return to normal."""
        previous = self.behaviour
        self.behaviour = Behaviour(**changes)  # type: ignore[arg-type]
        try:
            yield self.behaviour
        finally:
            self.behaviour = previous

    def count(self, what: str) -> int:
        with self._lock:
            return self.hits[what]

    def _hit(self, *what: str) -> None:
        with self._lock:
            for w in what:
                self.hits[w] += 1

    # --- answers --------------------------------------------------------------------------

    def file(self, path: str) -> bytes | None:
        """The body served at ``path``, or None."""
        if path in self.files:
            return self.files[path]
        if self.directory is None:
            return None
        name = Path(unquote(path)).name
        if not name or name.startswith(".") or name.endswith(".key"):
            return None
        candidate = self.directory / name
        if candidate.is_file():
            return candidate.read_bytes()
        if name.endswith(".cer"):
            pem = self.directory / (name[: -len(".cer")] + ".pem")
            if pem.is_file():
                try:
                    return parse_certificate(pem.read_bytes()).der
                except CertInteropError:
                    return None
        return None

    def answer_ocsp(self, request_der: bytes) -> bytes:
        """The DER OCSP response to ``request_der``, as the current behaviour dictates."""
        b = self.behaviour
        if b.ocsp_status is not OcspResponseStatus.SUCCESSFUL:
            return build_ocsp_error_response(b.ocsp_status).der
        try:
            request = parse_ocsp_request(request_der)
        except CertInteropError:
            return build_ocsp_error_response(OcspResponseStatus.MALFORMED_REQUEST).der
        authority = next(
            (a for a in self.authorities for c in request.cert_ids if _covers(a, c)), None
        )
        if authority is None:
            return build_ocsp_error_response(OcspResponseStatus.UNAUTHORIZED).der
        replay_key = "|".join(c.key for c in request.cert_ids)
        if b.replay:
            with self._lock:
                previous = self._last.get(replay_key)
            if previous is not None:
                return previous
        now = datetime.now(UTC)
        this_update = now - b.this_update_age
        next_update = this_update + b.validity if b.validity is not None else None
        if b.stale:
            this_update, next_update = now - timedelta(days=2), now - timedelta(days=1)
        singles = [self._single(authority, c, this_update, next_update) for c in request.cert_ids]
        nonce = {"echo": request.nonce, "omit": None, "wrong": new_nonce()}[b.nonce]
        response = build_ocsp_response(
            singles,
            signer=authority.signer,
            signer_key=authority.signer_key,
            produced_at=now,
            nonce=nonce,
            responder_id=b.responder_id,
            certs=authority.certs,
        )
        der = _corrupt(response) if b.bad_signature else response.der
        with self._lock:
            self._last[replay_key] = der
        return der

    @staticmethod
    def _single(
        authority: Authority, cid: CertId, this_update: datetime, next_update: datetime | None
    ) -> SingleResponse:
        known = _covers(authority, cid) and (
            authority.known is None or cid.serial_number in authority.known
        )
        if not known:
            return SingleResponse(cid, "unknown", this_update, next_update)
        revoked = authority.revoked.get(cid.serial_number)
        if revoked is not None:
            return SingleResponse(cid, "revoked", this_update, next_update, *revoked)
        return SingleResponse(cid, "good", this_update, next_update)


def _corrupt(response: OcspResponse) -> bytes:
    """The response with the last byte of its signature changed (structure left intact)."""
    der = bytearray(response.der)
    at = bytes(der).rindex(response.signature) + len(response.signature) - 1
    der[at] ^= 0x01
    return bytes(der)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a deliberately slow answer must not hold up stop()
    responder: RevocationResponder


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: tests and trials read counters, not logs."""

    def do_GET(self) -> None:
        responder = self.server.responder
        path = urlsplit(self.path).path
        marker = path.find("/ocsp/")
        body = responder.file(path)
        if body is not None:
            responder._hit("file", path)  # counted on arrival, even if answered late
        elif marker >= 0:
            responder._hit("ocsp", "ocsp-get")
        if self._misbehave():
            return
        if body is not None:
            self._send(200, body, "application/pkix-crl" if path.endswith(".crl") else None)
            return
        if marker >= 0:
            encoded = unquote(path[marker + len("/ocsp/") :])
            try:
                request = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                self._send(400, b"")
                return
            self._send(200, responder.answer_ocsp(request), "application/ocsp-response")
            return
        self._send(404, b"")

    def do_POST(self) -> None:
        responder = self.server.responder
        length = self.headers.get("Content-Length", "")
        if not length.isdigit() or int(length) > _MAX_REQUEST_BYTES:
            self._send(413 if length.isdigit() else 411, b"")
            return
        request = self.rfile.read(int(length))
        responder._hit("ocsp", "ocsp-post")  # counted on arrival, even if answered late
        if self._misbehave():
            return
        self._send(200, responder.answer_ocsp(request), "application/ocsp-response")

    def _misbehave(self) -> bool:
        b = self.server.responder.behaviour
        if b.delay > 0:
            time.sleep(b.delay)
        if b.http_status != 200:
            self.server.responder._hit("error")
            self._send(b.http_status, b"")
            return True
        return False

    def _send(self, status: int, body: bytes, content_type: str | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type or "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a deliberately slow answer)
