"""One real responder on 127.0.0.1 for the session, serving the CRLs of an RSA, an ECDSA and an
SM2 hierarchy (made by `write_hierarchy`, URLs pointing at it) and answering OCSP for their CAs.

Tests change its behaviour, files and authorities freely; an autouse fixture puts everything
back afterwards.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from cert_interop import keys, sm2
from cert_interop.pki_cli import Hierarchy, write_hierarchy
from cert_interop.revocation.responder import Authority, RevocationResponder
from cert_interop.validation import ValidationResult, validate
from cert_interop.x509 import Certificate, build_certificate

ALGS = ("rsa", "ec", "sm2")
NOW = datetime.now(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class Pki:
    alg: str
    out: Path
    h: Hierarchy
    base: str
    """URL prefix of this hierarchy's files on the responder."""

    def key(self, name: str) -> keys.PrivateKey:
        return keys.load_private_key((self.out / f"{name}.key").read_bytes())

    def new_key(self) -> keys.PrivateKey:
        """A fresh key of this hierarchy's algorithm (EC P-256 for speed when RSA)."""
        if self.alg == "sm2":
            return sm2.generate_private_key()
        return ec.generate_private_key(ec.SECP256R1())

    @property
    def ocsp_url(self) -> str:
        return f"{self.base}/ocsp"

    @property
    def crl_url(self) -> str:
        return f"{self.base}/intermediate.crl"

    def issue(
        self,
        cn: str,
        *,
        issuer_cert: Certificate | None = None,
        issuer_key: keys.PrivateKey | None = None,
        key: keys.PrivateKey | None = None,
        **kw: Any,
    ) -> Certificate:
        """An end-entity certificate issued by the intermediate (or the CA given); OCSP and
        CRL URLs are the hierarchy's unless given."""
        kw.setdefault("not_before", NOW - timedelta(days=1))
        kw.setdefault("not_after", NOW + timedelta(days=30))
        kw.setdefault("key_usage", {"digital_signature", "non_repudiation"})
        kw.setdefault("ocsp_urls", [self.ocsp_url])
        kw.setdefault("crl_urls", [self.crl_url])
        subject_key = key or self.new_key()
        return build_certificate(
            subject=[("C", "CN"), ("O", "Revocation Test"), ("CN", cn)],
            subject_public_key=subject_key.public_key(),
            issuer_key=issuer_key or self.key("intermediate"),
            issuer=issuer_cert or self.h.intermediate,
            **kw,
        )

    def delegate(
        self,
        *,
        eku: list[str] | None = None,
        issuer_cert: Certificate | None = None,
        issuer_key: keys.PrivateKey | None = None,
        **kw: Any,
    ) -> tuple[Certificate, keys.PrivateKey]:
        """A delegated OCSP responder certificate (id-kp-OCSPSigning unless ``eku`` says; ``[]``:
        no EKU at all)."""
        key = self.new_key()
        cert = self.issue(
            "OCSP Responder",
            key=key,
            issuer_cert=issuer_cert,
            issuer_key=issuer_key,
            key_usage={"digital_signature"},
            extended_key_usage=["ocsp_signing"] if eku is None else (eku or None),
            ocsp_urls=[],
            crl_urls=[],
            **kw,
        )
        return cert, key

    def validate(self, leaf: Certificate, **kw: Any) -> ValidationResult:
        return validate(
            leaf, intermediates=[self.h.intermediate], anchors=[self.h.root], at=NOW, **kw
        )


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def responder() -> Iterator[RevocationResponder]:
    with RevocationResponder() as r:
        yield r


@pytest.fixture(scope="session")
def pkis(
    responder: RevocationResponder, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Pki]:
    made: dict[str, Pki] = {}
    for alg in ALGS:
        out = tmp_path_factory.mktemp(f"rev-{alg}")
        base = responder.url(f"pki/{alg}")
        h = write_hierarchy(out, alg=alg, base_url=base)
        pki = Pki(alg, out, h, base)
        responder.files[f"/pki/{alg}/intermediate.crl"] = h.crl.der
        responder.files[f"/pki/{alg}/root.crl"] = h.root_crl.pem()
        revoked = {e.serial_number: (e.revocation_date, e.reason) for e in h.crl.revoked}
        responder.authorities += [
            Authority(h.intermediate, h.intermediate, pki.key("intermediate"), revoked),
            Authority(h.root, h.root, pki.key("root")),
        ]
        made[alg] = pki
    return made


@pytest.fixture(autouse=True)
def clean_responder(
    responder: RevocationResponder, pkis: dict[str, Pki]
) -> Iterator[RevocationResponder]:
    files, authorities = dict(responder.files), list(responder.authorities)
    responder.reset()
    yield responder
    responder.files.clear()
    responder.files.update(files)
    responder.authorities[:] = authorities
    responder.reset()


@pytest.fixture(params=ALGS)
def pki(request: pytest.FixtureRequest, pkis: dict[str, Pki]) -> Pki:
    return pkis[request.param]
