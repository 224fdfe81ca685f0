"""One CA per key algorithm, and a helper issuing leaves with chosen subjects and extensions."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from cert_interop import sm2
from cert_interop.keys import PrivateKey
from cert_interop.x509 import Certificate, Extension, ExtensionSpec, build_certificate

# Valid values (check characters verified by the tests in test_checks.py)
USCC = "91350100M000100Y43"
USCC_2 = "91110000100006485K"
ORG_CODE = "100006485"
ID_NUMBER = "11010519491231002X"

Issue = Callable[..., Certificate]


def _key(alg: str) -> PrivateKey:
    if alg == "sm2":
        return sm2.generate_private_key()
    if alg == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="session")
def issuers() -> dict[str, tuple[PrivateKey, Certificate, PrivateKey]]:
    out: dict[str, tuple[PrivateKey, Certificate, PrivateKey]] = {}
    for alg in ("sm2", "rsa", "ec"):
        key = _key(alg)
        ca = build_certificate(
            subject=[("C", "CN"), ("O", f"Test {alg} CA"), ("CN", f"Test {alg} CA")],
            subject_public_key=key.public_key(),
            issuer_key=key,
            ca=True,
        )
        out[alg] = (key, ca, _key(alg))
    return out


@pytest.fixture(scope="session")
def issue(issuers: dict[str, tuple[PrivateKey, Certificate, PrivateKey]]) -> Issue:
    def _issue(
        subject: Sequence[tuple[str, str]],
        extensions: Sequence[ExtensionSpec] = (),
        alg: str = "sm2",
    ) -> Certificate:
        ca_key, ca, leaf_key = issuers[alg]
        return build_certificate(
            subject=subject,
            subject_public_key=leaf_key.public_key(),
            issuer_key=ca_key,
            issuer=ca,
            key_usage=["digital_signature"],
            extra_extensions=extensions,
        )

    return _issue


def with_raw_extension(cert: Certificate, oid: str, raw: bytes) -> Certificate:
    """``cert`` as the parser would give it if the extnValue held ``raw`` bytes, not a DER string.

    Built this way because ``parse_certificate`` refuses a certificate whose unknown extension's
    extnValue is not itself DER (asn1crypto parses it while forcing ``.native``); the certificate is
    well-formed DER all the same, so this is a gap of the x509 parser, reported in the slice notes.
    """
    ext = Extension(oid=oid, critical=False, value_der=raw, text=None)
    return dataclasses.replace(cert, extensions=(*cert.extensions, ext))
