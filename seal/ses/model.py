"""A seal record as plain frozen values: what is made, what is read back, what a check found.

These mirror ``SES_SealInfo`` field by field but in Python terms (aware UTC datetimes, canonical
lower-case picture types, certificates as DER bytes), so callers never touch asn1crypto.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Literal

from cert_interop.sm3 import sm3
from cert_interop.x509 import Certificate

from ..errors import SealExpired, SealNotYetValid, SealSignatureInvalid
from .asn1_v4 import CERT_LIST_CERTIFICATES, CERT_LIST_DIGESTS

DEFAULT_VID: Final = "HUREN"
"""``SES_Header.vid``: identifies the implementation that made the seal."""


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _sha1(data: bytes) -> bytes:
    return hashlib.sha1(data, usedforsecurity=False).digest()


_DIGESTS: Final[dict[str, Callable[[bytes], bytes]]] = {
    "sm3": sm3,
    "sha256": _sha256,
    "sha1": _sha1,
}


@dataclass(frozen=True)
class SealPicture:
    type: str
    """Canonical, lower-case: ``png``, ``jpg``, ``svg``, ``gif``, ``bmp`` or ``ofd``."""
    data: bytes = field(repr=False)
    width_mm: int
    height_mm: int


@dataclass(frozen=True)
class CertDigest:
    """``CertDigestObj``: a holder certificate named by its digest (certListType 2)."""

    algorithm: str
    """The free-text ``type``; we write and recognise ``sm3``, ``sha256`` and ``sha1``."""
    value: bytes

    @classmethod
    def of(cls, certificate_der: bytes, algorithm: Literal["sm3", "sha256"] = "sm3") -> CertDigest:
        return cls(algorithm, _DIGESTS[algorithm](certificate_der))

    def matches(self, certificate_der: bytes) -> bool:
        digest = _DIGESTS.get(self.algorithm.strip().lower().replace("-", ""))
        return digest is not None and digest(certificate_der) == self.value


@dataclass(frozen=True)
class SealExtension:
    """``ExtData``: a custom field, kept as its OID and raw value."""

    oid: str
    value: bytes
    critical: bool = False


@dataclass(frozen=True)
class SealInfo:
    """``SES_SealInfo``: who the seal belongs to, what it looks like, when it may be used."""

    seal_id: str
    """``esID``, the seal's code."""
    seal_type: int
    """See :mod:`seal.ses.seal_types`."""
    name: str
    picture: SealPicture
    created: datetime
    valid_start: datetime
    valid_end: datetime
    certificates: tuple[bytes, ...] = ()
    """Holder certificates (DER), certListType 1; empty when ``cert_digests`` is used."""
    cert_digests: tuple[CertDigest, ...] = ()
    """Holder certificate digests, certListType 2."""
    vid: str = DEFAULT_VID
    extensions: tuple[SealExtension, ...] = ()

    @property
    def cert_list_type(self) -> int:
        return CERT_LIST_DIGESTS if self.cert_digests else CERT_LIST_CERTIFICATES

    def lists_certificate(self, certificate_der: bytes) -> bool:
        """Whether a signer's certificate is one the seal names as its holder's."""
        der = bytes(certificate_der)
        return der in self.certificates or any(d.matches(der) for d in self.cert_digests)


@dataclass(frozen=True)
class ParsedSeal:
    """A seal read from DER: its content, its maker, and exactly what the maker signed."""

    version: Literal[1, 4]
    """4 = GB/T 38540-2020 layout, 1 = GM/T 0031-2014 layout."""
    header_version: int
    """``SES_Header.version`` as written (4; 1–3 for the old layout)."""
    info: SealInfo
    maker_certificate: Certificate = field(repr=False)
    signature_algorithm_oid: str
    signature: bytes = field(repr=False)
    signed_data: bytes = field(repr=False)
    """The bytes the maker's signature covers, exactly as they appear in the seal."""
    der: bytes = field(repr=False)

    @property
    def standard(self) -> str:
        return "GB/T 38540-2020" if self.version == 4 else "GM/T 0031-2014"


Validity = Literal["valid", "expired", "not_yet_valid"]


@dataclass(frozen=True)
class SealCheck:
    """What :func:`seal.ses.record.verify_seal` found. Chain validation of the maker
    certificate is not part of it: the caller asks the trust store about ``maker``."""

    signature_valid: bool
    validity: Validity
    maker: Certificate = field(repr=False)
    checked_at: datetime
    algorithm: str | None
    """``sm2-sm3``, ``rsa-pkcs1-sha256``, …; None when the seal's algorithm is not supported."""
    problems: tuple[str, ...] = ()
    """Stable codes: ``seal_signature_invalid``, ``unsupported_algorithm``,
    ``algorithm_key_mismatch``, ``seal_expired``, ``seal_not_yet_valid``."""

    @property
    def ok(self) -> bool:
        return self.signature_valid and self.validity == "valid"

    def raise_if_invalid(self) -> None:
        """For callers that want an error: the first problem as a typed ``SealError``."""
        if not self.signature_valid:
            raise SealSignatureInvalid(
                f"the seal maker's signature does not verify ({', '.join(self.problems)})"
            )
        if self.validity == "expired":
            raise SealExpired(f"the seal expired before {self.checked_at.isoformat()}")
        if self.validity == "not_yet_valid":
            raise SealNotYetValid(f"the seal is not yet valid at {self.checked_at.isoformat()}")
