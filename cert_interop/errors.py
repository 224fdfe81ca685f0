"""Typed errors of ``cert_interop``: every failure of the library is a ``CertInteropError``."""

from __future__ import annotations


class CertInteropError(Exception):
    """Base class of every error raised by ``cert_interop``."""


class MalformedInput(CertInteropError):
    """Input bytes or text that cannot be parsed (bad hex, bad DER/PEM, wrong length)."""


class InvalidKey(CertInteropError):
    """A key that parses but is unusable: out of range, not on the curve, wrong size or type."""


class DecryptionFailed(CertInteropError):
    """Decryption failed: wrong key, tampered or truncated ciphertext, bad padding or tag."""


class UnsupportedAlgorithm(CertInteropError):
    """An algorithm, curve or mode this build cannot handle."""


class OcspResponseRejected(CertInteropError):
    """An OCSP response that parses but must not be believed: not successful, badly signed, or
    signed by a responder the certificate's issuer did not authorise."""


class TrustStoreError(CertInteropError):
    """A trust store operation was refused; the message says which certificate or CA and why."""


class TrustStoreUnavailable(TrustStoreError):
    """The trust store's database could not be read or written (unreachable, schema missing)."""


class UnknownProfile(TrustStoreError):
    """A CA identity profile name that is neither shipped nor in the profiles directory."""


class ProfileFileError(TrustStoreError):
    """A CA profile file in the profiles directory cannot be read or parsed."""


class UnknownCa(TrustStoreError):
    """No stored CA matches a reference (name, id or fingerprint) or issued a CRL."""


class AmbiguousCaReference(TrustStoreError):
    """A fingerprint prefix that matches more than one stored CA."""


class NotACaCertificate(TrustStoreError):
    """Only CA certificates (basicConstraints cA=TRUE, keyCertSign) can be trusted."""


class NoTrustAnchor(TrustStoreError):
    """An intermediate CA certificate that no stored or bundled CA certificate signed."""


class SignatureMismatch(TrustStoreError):
    """A self-signature or a CRL signature that does not verify under the expected key."""


class CrlOutdated(TrustStoreError):
    """An uploaded CRL older (lower CRL number) than the one stored for its issuer."""


class CaNameTaken(TrustStoreError):
    """A CA name already used by another stored CA."""


class NotARecipient(DecryptionFailed):
    """A CMS envelope that has no RecipientInfo for the given certificate: it was not addressed
    to this key (a bid envelope opened with the wrong certificate), as opposed to tampered."""
