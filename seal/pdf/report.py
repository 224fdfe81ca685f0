"""What :func:`seal.pdf.verify_pdf` answers: frozen data, one report per signature.

Modelled on pyhanko's ``sign/validation/status.py``: plain values, ``as_dict`` for JSON, no
behaviour. Trust is not decided here: the certificates are returned so that the caller runs the
signer (and the TSA) through the trust store.
"""

from __future__ import annotations

import base64
import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

__all__ = [
    "Coverage",
    "DssReport",
    "MalformedReason",
    "ModificationLevelName",
    "PdfReport",
    "SignatureReport",
    "TimestampReport",
]

Coverage = Literal["entire_file", "entire_revision", "partial", "unknown"]
"""``entire_file``: nothing was appended after signing. ``entire_revision``: the signature covers
its whole revision and later incremental updates exist (see ``modification_level``).
``partial``: the byte range leaves out part of its own revision (a forged or broken signature).
``unknown``: the container could not be analysed."""

ModificationLevelName = Literal["none", "lta_updates", "form_filling", "annotations", "other"]
"""pyhanko's modification levels for the updates after the signed revision: ``lta_updates`` is
DSS and document timestamps, ``form_filling`` adds signatures or fills fields, ``other`` is any
change to the signed content."""


class MalformedReason(enum.Enum):
    NOT_PDF = "not_pdf"
    TOO_LARGE = "too_large"
    UNREADABLE = "unreadable"
    """It starts like a PDF but its structure (xref, trailer, page tree, fields) is broken."""
    ENCRYPTED = "encrypted"


def _b64(data: bytes | None) -> str | None:
    return base64.b64encode(data).decode("ascii") if data is not None else None


@dataclass(frozen=True)
class TimestampReport:
    """An RFC 3161 token: a signature timestamp, or the token of a document timestamp."""

    valid: bool
    """The token's own signature verifies and its imprint matches what it stamps."""
    time: datetime | None
    """``genTime``: when the TSA saw the signature (trusted once the TSA is)."""
    detail: str
    tsa_certificate: bytes | None
    certificates: tuple[bytes, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "time": self.time.isoformat() if self.time else None,
            "detail": self.detail,
            "tsa_certificate": _b64(self.tsa_certificate),
        }


@dataclass(frozen=True)
class SignatureReport:
    field_name: str
    kind: Literal["signature", "document_timestamp"]
    intact: bool
    """The byte ranges hash to the signed messageDigest and the signature verifies."""
    problem: str | None
    """Machine code when not intact: ``digest_mismatch``, ``bad_signature``,
    ``certificate_missing``, ``unsupported_algorithm``, ``cms_unparseable``,
    ``byte_range_invalid``, ``unreadable``, …"""
    detail: str
    subfilter: str | None = None
    algorithm: Literal["rsa", "ecdsa", "sm2"] | None = None
    signature_algorithm: str | None = None
    """``rsa-pkcs1-sha256``, ``ecdsa-sha256``, ``sm2-sm3``, …"""
    digest_algorithm: str | None = None
    signer_certificate: bytes | None = None
    certificates: tuple[bytes, ...] = ()
    """Every certificate the CMS carries (the signer's included): the chain candidates."""
    signing_time: datetime | None = None
    """Claimed by the signer: the signed signingTime attribute, else the dictionary's /M."""
    timestamp: TimestampReport | None = None
    coverage: Coverage = "unknown"
    later_updates: bool = False
    """Incremental updates were appended after the signed revision."""
    modification_level: ModificationLevelName | None = None
    modified_after_signing: bool | None = None
    """True when a later update changed signed content (anything beyond signatures,
    timestamps, validation data and form filling); None when it could not be analysed."""
    revision: int | None = None
    """0-based revision the signature belongs to."""
    paging_seal_pages: tuple[int, ...] = ()
    """1-based pages showing a paging-seal slice of this signature, drawn in its revision."""
    seal_id: str | None = None
    """``/HurenSealID`` of the signature dictionary (covered by the signature)."""
    reason: str | None = None
    location: str | None = None

    @property
    def ok(self) -> bool:
        """Intact and not modified after signing (trust in the certificates not included)."""
        return self.intact and self.modified_after_signing is False

    def as_dict(self) -> dict[str, Any]:
        return {
            "field_name": self.field_name,
            "kind": self.kind,
            "intact": self.intact,
            "problem": self.problem,
            "detail": self.detail,
            "subfilter": self.subfilter,
            "algorithm": self.algorithm,
            "signature_algorithm": self.signature_algorithm,
            "digest_algorithm": self.digest_algorithm,
            "signer_certificate": _b64(self.signer_certificate),
            "certificates": [_b64(c) for c in self.certificates],
            "signing_time": self.signing_time.isoformat() if self.signing_time else None,
            "timestamp": self.timestamp.as_dict() if self.timestamp else None,
            "coverage": self.coverage,
            "later_updates": self.later_updates,
            "modification_level": self.modification_level,
            "modified_after_signing": self.modified_after_signing,
            "revision": self.revision,
            "paging_seal_pages": list(self.paging_seal_pages),
            "seal_id": self.seal_id,
            "reason": self.reason,
            "location": self.location,
        }


@dataclass(frozen=True)
class DssReport:
    """The document security store (validation data for B-LT), DER each."""

    certificates: tuple[bytes, ...] = ()
    crls: tuple[bytes, ...] = ()
    ocsp_responses: tuple[bytes, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "certificates": [_b64(c) for c in self.certificates],
            "crls": [_b64(c) for c in self.crls],
            "ocsp_responses": [_b64(o) for o in self.ocsp_responses],
        }


@dataclass(frozen=True)
class PdfReport:
    malformed: bool
    malformed_reason: MalformedReason | None = None
    detail: str = ""
    signatures: tuple[SignatureReport, ...] = ()
    dss: DssReport = field(default_factory=DssReport)
    revisions: int = 0

    @property
    def all_ok(self) -> bool:
        """At least one signature, and every one intact and unmodified."""
        return bool(self.signatures) and all(s.ok for s in self.signatures)

    def signature(self, field_name: str) -> SignatureReport:
        return next(s for s in self.signatures if s.field_name == field_name)

    def as_dict(self) -> dict[str, Any]:
        return {
            "malformed": self.malformed,
            "malformed_reason": self.malformed_reason.value if self.malformed_reason else None,
            "detail": self.detail,
            "revisions": self.revisions,
            "signatures": [s.as_dict() for s in self.signatures],
            "dss": self.dss.as_dict(),
        }
