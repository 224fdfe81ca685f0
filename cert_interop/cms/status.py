"""Results of CMS verification and decryption: frozen data, one precise reason per signer.

Modelled on pyhanko's ``sign/validation/status.py`` (as :mod:`cert_interop.validation.status`
is): plain values, a JSON-ready ``as_dict``, no behaviour. A tampered message gives an invalid
result here; only input that cannot be parsed raises.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cert_interop.x509 import Certificate

__all__ = ["DecryptResult", "SignedDataResult", "SignerReason", "SignerResult"]


class SignerReason(enum.Enum):
    """Why a signer did not verify (``OK`` when it did); values are stable machine codes."""

    OK = "ok"
    DIGEST_MISMATCH = "digest_mismatch"
    """The content's digest differs from the signed messageDigest attribute: the content was
    changed (or the wrong detached content was given)."""
    BAD_SIGNATURE = "bad_signature"
    """The signature over the signed attributes (or the content) does not verify with the signer
    certificate's key, or the algorithm does not fit that key."""
    CERTIFICATE_MISSING = "certificate_missing"
    """No certificate in the message (or given by the caller) matches the signer identifier."""
    CONTENT_TYPE_MISMATCH = "content_type_mismatch"
    """The signed contentType attribute differs from the encapsulated content type."""
    MISSING_ATTRIBUTE = "missing_attribute"
    """A signed attribute that must be there is absent or repeated (contentType,
    messageDigest), or signed attributes are absent where they are required."""
    UNSUPPORTED_ALGORITHM = "unsupported_algorithm"
    """A digest or signature algorithm this library does not verify, or one that would need
    a second pass over content that cannot be read twice."""


@dataclass(frozen=True)
class SignerResult:
    valid: bool
    reason: SignerReason
    detail: str
    """English, precise."""
    certificate: Certificate | None
    """The signer's certificate (found by issuer and serial number or key identifier)."""
    issuer: str | None
    """The signer identifier's issuer (RFC 4514), when it names one."""
    serial_number: int | None
    subject_key_identifier: bytes | None
    digest_algorithm: str
    """``sha256``, ``sm3``, … or the dotted OID when unknown."""
    signature_algorithm: str
    """``rsa-pkcs1-sha256``, ``rsa-pss-sha256``, ``ecdsa-sha256``, ``sm2-sm3``, … or the OID."""
    signing_time: datetime | None
    """The signed signingTime attribute (the signer's claim, not a trusted time)."""

    def as_dict(self) -> dict[str, Any]:
        c = self.certificate
        return {
            "valid": self.valid,
            "reason": self.reason.value,
            "detail": self.detail,
            "digest_algorithm": self.digest_algorithm,
            "signature_algorithm": self.signature_algorithm,
            "signing_time": self.signing_time.isoformat() if self.signing_time else None,
            "issuer": self.issuer,
            "serial_number": format(self.serial_number, "x")
            if self.serial_number is not None
            else None,
            "subject_key_identifier": self.subject_key_identifier.hex()
            if self.subject_key_identifier is not None
            else None,
            "certificate": {
                "subject": c.subject.rfc4514,
                "issuer": c.issuer.rfc4514,
                "serial_number": format(c.serial_number, "x"),
                "sha256_fingerprint": c.sha256_fingerprint,
            }
            if c is not None
            else None,
        }


@dataclass(frozen=True)
class SignedDataResult:
    valid: bool
    """True when there is at least one signer and every signer verifies. Chain validation is the
    caller's: pass each ``signers[i].certificate`` (with ``certificates`` as intermediates) to
    the trust store."""
    signers: tuple[SignerResult, ...]
    certificates: tuple[Certificate, ...]
    """Every certificate carried by the message (signers' and others), in message order."""
    content_type: str
    """The encapsulated content type (dotted OID)."""
    gm: bool
    """The message used the GM/T 0010 content type OIDs."""
    detached: bool
    content_length: int
    """Bytes of content that were digested."""
    skipped_certificates: int = 0
    """Certificates in the message that could not be parsed (and so could not be signers)."""

    def intermediates(self, signer: SignerResult) -> tuple[Certificate, ...]:
        """The message's certificates other than ``signer``'s: candidates for its chain."""
        own = signer.certificate.der if signer.certificate is not None else None
        return tuple(c for c in self.certificates if c.der != own)

    def as_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "content_type": self.content_type,
            "gm": self.gm,
            "detached": self.detached,
            "content_length": self.content_length,
            "signers": [s.as_dict() for s in self.signers],
            "certificates": [
                {"subject": c.subject.rfc4514, "sha256_fingerprint": c.sha256_fingerprint}
                for c in self.certificates
            ],
            "skipped_certificates": self.skipped_certificates,
        }


@dataclass(frozen=True)
class DecryptResult:
    content: bytes | None
    """The plaintext when no output stream was given, else None (it went to the stream)."""
    content_length: int
    content_type: str
    """The encrypted content's type (dotted OID)."""
    cipher: str
    """``aes-256-cbc``, ``aes-256-gcm``, ``sm4-cbc``, …"""
    key_encryption: str
    """How this recipient's content key was protected: ``rsa-oaep-sha256``, ``rsa-pkcs1v15``,
    ``sm2``, ``ecdh-sha256kdf-aes256-wrap`` …"""
    recipients: int
    """RecipientInfos in the message."""
    gm: bool
    authenticated: bool
    """AuthEnvelopedData (AES-GCM): the tag was checked, so the content is also authentic."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "content_length": self.content_length,
            "content_type": self.content_type,
            "cipher": self.cipher,
            "key_encryption": self.key_encryption,
            "recipients": self.recipients,
            "gm": self.gm,
            "authenticated": self.authenticated,
        }
