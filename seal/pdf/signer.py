"""Who signs: a certificate (with its chain) and a key that may never leave its token.

One shape for every key: a private key object, a :class:`cert_interop.cms.ExternalSigner` (a
PKCS#11 key, a USBKey through the bridge, a platform key service), or a plain callable. The
certificate decides the algorithm: RSA signs ``rsa-pkcs1-sha256`` and ECDSA ``ecdsa-sha256``
(CMS built by pyhanko), SM2 signs ``sm2-sm3`` (CMS built here). Names are those of
:mod:`cert_interop.signatures` and of the ``Token`` protocol's mechanisms.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from cert_interop import signatures, sm2
from cert_interop.cms import ExternalSigner
from cert_interop.keys import PrivateKey, dump_public_key
from cert_interop.x509 import Certificate
from seal.pdf.errors import InvalidSigner

__all__ = [
    "Family",
    "PdfSealSigner",
    "SignatureProfile",
    "der_signature",
    "digest",
    "profile_for",
]

Family = Literal["rsa", "ecdsa", "sm2"]

_PRIVATE = (sm2.Sm2PrivateKey, rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)
_SIGNING_USAGE = frozenset({"digital_signature", "non_repudiation"})
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {"sha256": hashes.SHA256, "sm3": hashes.SM3}


@dataclass(frozen=True)
class SignatureProfile:
    """What a certificate's key signs with, and how large a signature can get."""

    family: Family
    algorithm: str
    """``rsa-pkcs1-sha256``, ``ecdsa-sha256`` or ``sm2-sm3``."""
    digest: str
    """The document digest: ``sha256`` or ``sm3``."""
    max_signature_bytes: int


def profile_for(cert: Certificate) -> SignatureProfile:
    """The signing profile of ``cert``; ``InvalidSigner`` for keys or usages we cannot use."""
    if not isinstance(cert, Certificate):
        raise InvalidSigner("the signer certificate must be a parsed cert_interop Certificate")
    if cert.key_usage is not None and not cert.key_usage & _SIGNING_USAGE:
        raise InvalidSigner(
            f"{cert.subject.rfc4514} is not a signing certificate (key usage)",
            zh="该证书不是签名证书（密钥用法不含数字签名）",
        )
    key = cert.public_key
    if isinstance(key, sm2.Sm2PublicKey):
        return SignatureProfile("sm2", "sm2-sm3", "sm3", 72)
    if isinstance(key, rsa.RSAPublicKey):
        return SignatureProfile("rsa", "rsa-pkcs1-sha256", "sha256", (key.key_size + 7) // 8)
    if isinstance(key, ec.EllipticCurvePublicKey):
        n = (key.curve.key_size + 7) // 8
        return SignatureProfile("ecdsa", "ecdsa-sha256", "sha256", 2 * (n + 1) + 8)
    raise InvalidSigner(f"unsupported key in {cert.subject.rfc4514}")


def digest(name: str, *parts: bytes | memoryview) -> bytes:
    """The document digest (``sha256`` or ``sm3``) of ``parts`` one after the other."""
    h = hashes.Hash(_HASHES[name]())
    for part in parts:
        h.update(part)
    return h.finalize()


def der_signature(signature: bytes, cert: Certificate) -> bytes:
    """ECDSA and SM2 signatures as DER; raw ``r || s`` (what WebCrypto and SKF give) converted."""
    if cert.key_algorithm == "rsa":
        return signature
    try:
        r, s = decode_dss_signature(signature)
        if encode_dss_signature(r, s) == signature:
            return signature
    except ValueError:
        pass
    if len(signature) % 2 == 0 and 0 < len(signature) <= 132:
        half = len(signature) // 2
        r = int.from_bytes(signature[:half], "big")
        s = int.from_bytes(signature[half:], "big")
        return encode_dss_signature(r, s)
    return signature


class _CallableSigner:
    """Adapts ``fn(data, algorithm) -> signature`` to the ``ExternalSigner`` protocol."""

    def __init__(self, fn: Callable[[bytes, str], bytes]) -> None:
        self._fn = fn

    def sign(self, algorithm: str, *, data: bytes | None, digest: bytes | None) -> bytes:
        if data is None:
            raise InvalidSigner("PDF seals sign the signed attributes, never a bare digest")
        return self._fn(data, algorithm)


@dataclass(frozen=True)
class PdfSealSigner:
    """A key (object, ``ExternalSigner`` or callable) and the certificate it belongs to."""

    key: PrivateKey | ExternalSigner
    certificate: Certificate
    chain: tuple[Certificate, ...] = ()
    """Intermediate (and optionally root) certificates to embed with the signature."""

    def __post_init__(self) -> None:
        profile_for(self.certificate)
        if not all(isinstance(c, Certificate) for c in self.chain):
            raise InvalidSigner("chain certificates must be parsed cert_interop Certificates")
        if isinstance(self.key, _PRIVATE):
            mine = dump_public_key(self.key.public_key(), "der")
            if mine != dump_public_key(self.certificate.public_key, "der"):
                raise InvalidSigner(
                    f"the key does not belong to {self.certificate.subject.rfc4514}",
                    zh="签章密钥与证书不匹配",
                )
        elif not callable(getattr(self.key, "sign", None)):
            raise InvalidSigner("the key must be a private key or have sign(algorithm, data=…)")

    @classmethod
    def from_callable(
        cls,
        sign: Callable[[bytes, str], bytes],
        certificate: Certificate,
        chain: Sequence[Certificate] = (),
    ) -> PdfSealSigner:
        """A signer whose raw signing is ``sign(data, algorithm)`` (PKCS#11, HSM, bridge)."""
        return cls(_CallableSigner(sign), certificate, tuple(chain))

    @property
    def profile(self) -> SignatureProfile:
        return profile_for(self.certificate)

    def sign(self, data: bytes) -> bytes:
        """The raw signature of ``data`` (DER signed attributes) with the profile's algorithm."""
        algorithm = self.profile.algorithm
        if isinstance(self.key, _PRIVATE):
            return signatures.sign(self.key, algorithm, data=data)
        return bytes(self.key.sign(algorithm, data=data, digest=None))
