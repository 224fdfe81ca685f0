"""A CA and a TSA certificate per algorithm (RSA, ECDSA P-256, SM2), a TSA over them, and the
TSA served over real HTTP on 127.0.0.1 by the blueprint."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from asn1crypto import x509 as ax509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from flask import Flask
from werkzeug.serving import make_server

from cert_interop import keys as keymod
from cert_interop import sm2
from cert_interop.x509 import Certificate, ExtensionSpec, build_certificate
from seal.tsa import TimeStampAuthority
from seal.tsa.web import make_tsa_blueprint

ALGORITHMS = ("rsa", "ec", "sm2")
TIME_STAMPING = "1.3.6.1.5.5.7.3.8"


def keygen(alg: str) -> keymod.PrivateKey:
    if alg == "rsa":
        return rsa.generate_private_key(65537, 2048)
    if alg == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    return sm2.generate_private_key()


def eku(*purposes: str, critical: bool = True) -> ExtensionSpec:
    value = ax509.ExtKeyUsageSyntax(list(purposes)).dump()
    return ExtensionSpec("2.5.29.37", bytes(value), critical)


@dataclass(frozen=True)
class Pki:
    alg: str
    ca_key: keymod.PrivateKey
    ca: Certificate
    key: keymod.PrivateKey
    cert: Certificate
    """The TSA certificate: critical extendedKeyUsage id-kp-timeStamping."""

    def issue(
        self, *extensions: ExtensionSpec, key: keymod.PrivateKey | None = None
    ) -> Certificate:
        """Another certificate for the TSA key (or ``key``) with exactly ``extensions``."""
        return issue(self.alg, self.ca_key, self.ca, key or self.key, *extensions)


def issue(
    alg: str,
    ca_key: keymod.PrivateKey,
    ca: Certificate,
    key: keymod.PrivateKey,
    *extensions: ExtensionSpec,
) -> Certificate:
    now = datetime.now(UTC) - timedelta(minutes=10)
    return build_certificate(
        subject=[("C", "CN"), ("O", "Huren"), ("CN", f"Huren TSA {alg}")],
        subject_public_key=key.public_key(),
        issuer_key=ca_key,
        issuer=ca,
        not_before=now,
        not_after=now + timedelta(days=365),
        key_usage={"digital_signature", "non_repudiation"},
        extra_extensions=list(extensions),
    )


def make_pki(alg: str) -> Pki:
    ca_key = keygen(alg)
    now = datetime.now(UTC) - timedelta(minutes=10)
    ca = build_certificate(
        subject=[("C", "CN"), ("O", "Huren"), ("CN", f"Huren Test Root {alg}")],
        subject_public_key=ca_key.public_key(),
        issuer_key=ca_key,
        not_before=now,
        not_after=now + timedelta(days=3650),
        ca=True,
        key_usage={"key_cert_sign", "crl_sign"},
    )
    key = keygen(alg)
    return Pki(alg, ca_key, ca, key, issue(alg, ca_key, ca, key, eku(TIME_STAMPING)))


_PKIS: dict[str, Pki] = {}


def pki_for(alg: str) -> Pki:
    if alg not in _PKIS:
        _PKIS[alg] = make_pki(alg)
    return _PKIS[alg]


@pytest.fixture(params=ALGORITHMS)
def pki(request: pytest.FixtureRequest) -> Pki:
    return pki_for(request.param)


@pytest.fixture
def authority(pki: Pki) -> TimeStampAuthority:
    return TimeStampAuthority(pki.key, pki.cert, chain=[pki.ca])


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """``app`` on a real HTTP server at 127.0.0.1:<free port>; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


def tsa_app(authority: TimeStampAuthority, **kwargs: object) -> Flask:
    app = Flask(__name__)
    app.register_blueprint(make_tsa_blueprint(lambda: authority, **kwargs))  # type: ignore[arg-type]
    return app


@pytest.fixture
def tsa_url(authority: TimeStampAuthority) -> Iterator[str]:
    with serving(tsa_app(authority)) as base:
        yield f"{base}/tsa"
