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
