"""Test PKI for PDF stamping: a CA and a signing leaf per algorithm, a TSA, a seal picture."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from PIL import Image, ImageDraw

from cert_interop import keys as keymod
from cert_interop import sm2
from cert_interop.x509 import Certificate, Revocation, build_certificate, build_crl
from seal.pdf import PdfSealSigner
from tests.seal.pdf.tsa_server import running_tsa


def _keygen(alg: str) -> keymod.PrivateKey:
    if alg == "rsa":
        return rsa.generate_private_key(65537, 2048)
    if alg == "ecdsa":
        return ec.generate_private_key(ec.SECP256R1())
    return sm2.generate_private_key()


@dataclass
class Leaf:
    key: keymod.PrivateKey
    cert: Certificate


@dataclass
class Ca:
    alg: str
    key: keymod.PrivateKey
    cert: Certificate
    leaf: Leaf

    def crl_der(self, revoked: tuple[int, ...] = ()) -> bytes:
        now = datetime.now(UTC) - timedelta(minutes=5)
        return build_crl(
            issuer=self.cert,
            issuer_key=self.key,
            revoked=[Revocation(s, now, "key_compromise") for s in revoked],
            this_update=now,
            next_update=now + timedelta(days=7),
            crl_number=1,
        ).der

    def signer(self) -> PdfSealSigner:
        return PdfSealSigner(self.leaf.key, self.leaf.cert, (self.cert,))


def _ca(alg: str) -> Ca:
    now = datetime.now(UTC) - timedelta(minutes=10)
    key = _keygen(alg)
    cert = build_certificate(
        subject=[("C", "CN"), ("O", "Huren PDF Test"), ("CN", f"PDF Test {alg.upper()} CA")],
        subject_public_key=key.public_key(),
        issuer_key=key,
        not_before=now,
        not_after=now + timedelta(days=3650),
        ca=True,
        key_usage={"key_cert_sign", "crl_sign"},
    )
    leaf_key = _keygen(alg)
    leaf = build_certificate(
        subject=[("C", "CN"), ("O", "测试投标有限公司"), ("CN", f"测试签章 {alg.upper()}")],
        subject_public_key=leaf_key.public_key(),
        issuer_key=key,
        issuer=cert,
        not_before=now,
        not_after=now + timedelta(days=365),
        ca=False,
        key_usage={"digital_signature", "non_repudiation"},
    )
    return Ca(alg, key, cert, Leaf(leaf_key, leaf))


@dataclass
class Pki:
    rsa: Ca
    ecdsa: Ca
    sm2: Ca
    tsa_key: rsa.RSAPrivateKey
    tsa_cert: Certificate

    def ca(self, alg: str) -> Ca:
        return {"rsa": self.rsa, "ecdsa": self.ecdsa, "sm2": self.sm2}[alg]


@pytest.fixture(scope="session")
def pdf_pki() -> Pki:
    cas = {alg: _ca(alg) for alg in ("rsa", "ecdsa", "sm2")}
    now = datetime.now(UTC) - timedelta(minutes=10)
    tsa_key = rsa.generate_private_key(65537, 2048)
    tsa_cert = build_certificate(
        subject=[("C", "CN"), ("CN", "Huren Test TSA")],
        subject_public_key=tsa_key.public_key(),
        issuer_key=cas["rsa"].key,
        issuer=cas["rsa"].cert,
        not_before=now,
        not_after=now + timedelta(days=365),
        ca=False,
        key_usage={"digital_signature"},
        extended_key_usage=["time_stamping"],
    )
    return Pki(cas["rsa"], cas["ecdsa"], cas["sm2"], tsa_key, tsa_cert)


@pytest.fixture(scope="session")
def tsa_url(pdf_pki: Pki) -> Iterator[str]:
    with running_tsa(pdf_pki.tsa_cert, pdf_pki.tsa_key) as url:
        yield url


def seal_png(size: int = 240, *, alpha: bool = True) -> bytes:
    """A red round seal with a star, on a transparent (or white) background."""
    img = Image.new(
        "RGBA" if alpha else "RGB", (size, size), (255, 255, 255, 0) if alpha else "white"
    )
    d = ImageDraw.Draw(img)
    d.ellipse((8, 8, size - 8, size - 8), outline=(220, 0, 0, 255), width=10)
    c = size // 2
    d.polygon(
        [(c, c - 40), (c + 12, c - 8), (c + 40, c - 8), (c + 18, c + 12), (c, c + 40)],
        fill=(220, 0, 0, 255),
    )
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def seal_jpeg(size: int = 200) -> bytes:
    img = Image.new("RGB", (size, size), "white")
    ImageDraw.Draw(img).ellipse((8, 8, size - 8, size - 8), outline=(220, 0, 0), width=10)
    out = io.BytesIO()
    img.save(out, "JPEG")
    return out.getvalue()


@pytest.fixture(scope="session")
def seal_picture() -> bytes:
    return seal_png()
