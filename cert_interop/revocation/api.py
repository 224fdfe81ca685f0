"""The revocation source interface that path validation consults after the CRLs it was given.

Implementations (CRL distribution-point fetching, OCSP, both with caches) sit next to this
file. A checker never raises for an unreachable or unusable source: it answers ``UNKNOWN`` and
says why, and the caller's per-CA policy decides between hard-fail and soft-fail.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from cert_interop.x509 import Certificate

__all__ = ["RevocationAnswer", "RevocationChecker", "RevocationStatus"]


class RevocationStatus(enum.Enum):
    GOOD = "good"
    REVOKED = "revoked"
    UNKNOWN = "unknown"
    """No usable answer: source unreachable, no source named, stale or badly signed data."""


@dataclass(frozen=True)
class RevocationAnswer:
    status: RevocationStatus
    source: str
    """Where the answer came from: ``crl``, ``ocsp`` or ``none``, plus the URL when known
    (``ocsp http://…``)."""
    detail: str
    """English, precise: what was asked and what came back (or why nothing usable did)."""
    revoked_at: datetime | None = None
    reason: str | None = None
    """The CRL/OCSP revocation reason when revoked and given (``key_compromise`` …)."""


class RevocationChecker(Protocol):
    def check(self, cert: Certificate, issuer: Certificate, at: datetime) -> RevocationAnswer:
        """The revocation status of ``cert`` (issued by ``issuer``) at ``at``."""
        ...
