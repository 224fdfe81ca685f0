"""Results of path validation: one frozen object saying valid or the precise reason why not.

Modelled on pyhanko's ``sign/validation/status.py``: plain data, no behaviour beyond a summary.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from cert_interop.profiles.model import Identity
from cert_interop.x509 import Certificate

__all__ = ["Reason", "ValidationResult"]


class Reason(enum.Enum):
    """Why a validation failed (``OK`` when it did not); values are stable machine codes."""

    OK = "ok"
    EXPIRED = "expired"
    """A certificate of the path ends before the validation time (beyond the allowed skew)."""
    NOT_YET_VALID = "not_yet_valid"
    """A certificate of the path starts after the validation time (beyond the allowed skew)."""
    REVOKED = "revoked"
    """A usable CRL from the certificate's issuer lists its serial number."""
    UNKNOWN_CA = "unknown_ca"
    """No certificate given (intermediate or anchor) carries the issuer name of the top of the
    path built so far: the path does not reach a trust anchor."""
    BROKEN_CHAIN = "broken_chain"
    """A certificate with the right issuer name exists but is not the issuer: its key identifier
    differs from the authority key identifier, or (without key identifiers) its key does not
    verify the signature."""
    BAD_SIGNATURE = "bad_signature"
    """The issuer matched by name and key identifier, yet the signature does not verify: the
    certificate was tampered with or forged."""
    NOT_A_CA = "not_a_ca"
    """An issuing certificate lacks basicConstraints cA=TRUE."""
    PATH_TOO_LONG = "path_too_long"
    """An issuer's pathLenConstraint is exceeded."""
    WRONG_KEY_USAGE = "wrong_key_usage"
    """An issuer without keyCertSign, or a leaf whose key usage does not allow the purpose."""
    WRONG_EXTENDED_KEY_USAGE = "wrong_extended_key_usage"
    NAME_CONSTRAINTS = "name_constraints"
    """A certificate's subject or alternative name is outside what an issuing CA permits (or
    inside what it excludes)."""
    UNKNOWN_CRITICAL_EXTENSION = "unknown_critical_extension"
    REVOCATION_UNKNOWN = "revocation_unknown"
    """Revocation checking was required and no usable CRL or OCSP answer covers a certificate
    of the path (or its source was unreachable under a hard-fail policy)."""
    MALFORMED = "malformed"
    """A certificate that parsed but cannot be processed (unsupported signature algorithm)."""


@dataclass(frozen=True)
class ValidationResult:
    valid: bool
    reason: Reason
    detail: str
    """English, precise: which certificate (position and subject) and what failed."""
    chain: tuple[Certificate, ...]
    """Leaf first, trust anchor last; as far as it was built when validation failed."""
    algorithm: str
    """The leaf's key algorithm: ``rsa``, ``ec`` or ``sm2``."""
    revocation_checked: bool
    """True when a usable CRL or OCSP answer covered every certificate of the path below the
    anchor."""
    notes: tuple[str, ...] = ()
    """What was let pass by policy (a soft-failed revocation source), in English."""
    identity: Identity | None = None
    """The holder's identity as the CA's profile reads it (set by the trust store)."""
    ca: str | None = None
    """The trust store's name of the CA that issued the leaf (set by the trust store)."""
    profile: str | None = None
    """The CA identity profile applied (set by the trust store)."""

    @property
    def anchor(self) -> Certificate | None:
        """The trust anchor the path ends at, when validation succeeded."""
        return self.chain[-1] if self.valid else None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary (certificates as subject + SHA-256 fingerprint)."""
        return {
            "valid": self.valid,
            "reason": self.reason.value,
            "detail": self.detail,
            "algorithm": self.algorithm,
            "revocation_checked": self.revocation_checked,
            "notes": list(self.notes),
            "ca": self.ca,
            "profile": self.profile,
            "identity": self.identity.as_dict() if self.identity is not None else None,
            "chain": [
                {"subject": c.subject.rfc4514, "sha256_fingerprint": c.sha256_fingerprint}
                for c in self.chain
            ],
        }
