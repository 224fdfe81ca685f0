"""The ``Token`` protocol every key store implements: PKCS#11 modules, soft tokens, later SKF.

A token holds certificates, each paired with a private key by a key id (PKCS#11 ``CKA_ID``). The
service's platform key (an HSM or an encrypted key file) and a bidder's USBKey are used through
the same three calls: list certificates, sign, and unwrap a content-encryption key. Backends
raise only :class:`drivers.errors.TokenError` subclasses.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import Literal, Protocol, Self, runtime_checkable

__all__ = [
    "DECRYPT_MECHANISMS",
    "SIGN_MECHANISMS",
    "DecryptMechanism",
    "KeyAlgorithm",
    "KeyUsage",
    "SignMechanism",
    "Token",
    "TokenCertificate",
]

KeyAlgorithm = Literal["rsa", "ec", "sm2"]
KeyUsage = Literal["sign", "encrypt", "both"]
SignMechanism = Literal["rsa-pkcs1-sha256", "rsa-pss-sha256", "ecdsa-sha256", "sm2-sm3"]
DecryptMechanism = Literal["rsa-oaep-sha256", "rsa-oaep-sha1", "rsa-pkcs1", "sm2"]

SIGN_MECHANISMS: tuple[SignMechanism, ...] = (
    "rsa-pkcs1-sha256",
    "rsa-pss-sha256",
    "ecdsa-sha256",
    "sm2-sm3",
)
"""``rsa-pss-sha256`` uses MGF1-SHA-256 and a 32-byte salt; ``sm2-sm3`` the default user ID
``1234567812345678`` (GM/T 0009)."""

DECRYPT_MECHANISMS: tuple[DecryptMechanism, ...] = (
    "rsa-oaep-sha256",
    "rsa-oaep-sha1",
    "rsa-pkcs1",
    "sm2",
)
"""``rsa-oaep-sha1`` is the RFC 3560 default that many CMS producers still write (and the only
OAEP SoftHSM2 does); ``sm2`` takes a GM/T 0009 ASN.1 ciphertext or C1C3C2 bytes."""


@dataclass(frozen=True)
class TokenCertificate:
    """One certificate on a token and what its key can do."""

    label: str
    key_id: bytes
    """Pairs the certificate with its private key (PKCS#11 ``CKA_ID``); pass it to ``sign``."""
    certificate: bytes
    """DER."""
    key_algorithm: KeyAlgorithm
    usage: KeyUsage
    """From the certificate's key usage when it has one, otherwise from the key's capabilities."""


@runtime_checkable
class Token(Protocol):
    """A key store: USBKey, HSM or key file. Use as a context manager or call :meth:`close`."""

    def certificates(self) -> list[TokenCertificate]:
        """Certificates whose private key is on this token."""
        ...

    def sign(
        self,
        key_id: bytes,
        data: bytes | None = None,
        *,
        digest: bytes | None = None,
        mechanism: SignMechanism | None = None,
    ) -> bytes:
        """Sign ``data``, or a precomputed ``digest`` (SHA-256, or for SM2 e = SM3(Z || M)).

        Exactly one of ``data`` and ``digest``. ``mechanism=None`` picks the usual one for the
        key (RSA → ``rsa-pkcs1-sha256``, EC → ``ecdsa-sha256``, SM2 → ``sm2-sm3``). ECDSA and
        SM2 signatures come back DER-encoded (SEQUENCE of r and s).
        """
        ...

    def decrypt(self, key_id: bytes, blob: bytes, *, mechanism: DecryptMechanism) -> bytes:
        """Unwrap a content-encryption key (key transport) encrypted to this key."""
        ...

    def close(self) -> None:
        """Log out and release the token; further calls fail. Safe to call twice."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
