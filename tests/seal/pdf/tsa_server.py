"""A real RFC 3161 TSA over HTTP on 127.0.0.1, answering with pyhanko's ``DummyTimeStamper``.

Stand-in until ``seal.tsa`` exists: the client side (pyhanko's ``HTTPTimeStamper``) cannot
tell it from a production TSA. Swap the signing part, keep the HTTP part.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from asn1crypto import keys as akeys
from asn1crypto import tsp
from asn1crypto import x509 as ax509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pyhanko.sign.timestamps import DummyTimeStamper

from cert_interop.x509 import Certificate


def dummy_timestamper(cert: Certificate, key: rsa.RSAPrivateKey) -> DummyTimeStamper:
    der_key = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return DummyTimeStamper(
        tsa_cert=ax509.Certificate.load(cert.der),
        tsa_key=akeys.PrivateKeyInfo.load(der_key),
    )


@contextmanager
def running_tsa(cert: Certificate, key: rsa.RSAPrivateKey) -> Iterator[str]:
    """Serve timestamps until the block ends; yields the TSA's URL."""
    stamper = dummy_timestamper(cert, key)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            if self.headers.get("Content-Type") != "application/timestamp-query":
                self.send_error(415)
                return
            try:
                req = tsp.TimeStampReq.load(body)
                reply = stamper.request_tsa_response(req).dump()
            except Exception:
                self.send_error(400)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/tsa"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
