"""What the integrator API needs from the composition root, as protocols.

The blueprint sits on floor 1 and may not import the provider (access tokens) or the drivers
(HSM/USBKey keys): the composition root hands it an :class:`Authorizer` that checks bearer tokens
and :class:`PlatformKey` objects backed by PKCS#11 or an encrypted key file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from cert_interop.validation import ValidationResult
from cert_interop.x509 import Certificate

__all__ = [
    "SCOPES",
    "ApiError",
    "Authorizer",
    "Caller",
    "CertificateValidator",
    "CryptoApi",
    "PlatformKey",
]

SCOPES = ("crypto:verify", "crypto:sign", "crypto:encrypt", "crypto:decrypt")


class ApiError(Exception):
    """An answer with a stable ``error`` code (see :mod:`cert_interop.web.messages`)."""

    def __init__(self, code: str, status: int, english: str | None = None, **headers: str):
        super().__init__(english or code)
        self.code, self.status, self.english, self.headers = code, status, english, headers


@dataclass(frozen=True)
class Caller:
    client_id: str
    scopes: frozenset[str]


class Authorizer(Protocol):
    def __call__(self, bearer_token: str, /) -> Caller:
        """The client behind a valid access token; ``ApiError('invalid_token', 401)`` else."""
        ...


class CertificateValidator(Protocol):
    """The trust store's validation (:class:`cert_interop.truststore.TrustStore`)."""

    def validate(
        self,
        leaf: Certificate,
        *,
        intermediates: Sequence[Certificate] = (),
        purpose: str = "sign",
        at: datetime | None = None,
        extended_key_usage: str | None = None,
    ) -> ValidationResult: ...


class PlatformKey(Protocol):
    """A key the service holds for the platform (e.g. the trading centre's bid-opening key)."""

    @property
    def name(self) -> str: ...

    @property
    def certificate(self) -> Certificate: ...

    def sign(self, algorithm: str, *, data: bytes | None, digest: bytes | None) -> bytes:
        """Signature in the encoding of :func:`cert_interop.signatures.sign`."""
        ...

    def unwrap(self, encrypted_key: bytes, algorithm: str) -> bytes:
        """Decrypt a content-encryption key (``rsa-oaep-sha256``, ``rsa-pkcs1v15``, ``sm2``)."""
        ...


@dataclass(frozen=True)
class CryptoApi:
    authorize: Authorizer
    trust_store: CertificateValidator
    platform_keys: Mapping[str, PlatformKey] = field(default_factory=dict)
    max_request_bytes: int = 16 << 20
    """Body limit of these endpoints (base64 envelopes are bigger than login forms)."""
    openapi_paths: Mapping[str, Any] = field(default_factory=dict)
    """Other /api/v1 operations served beside these (e.g. the identity provider's entities
    API), documented in the same OpenAPI document: path → path item."""
    openapi_scopes: Mapping[str, str] = field(default_factory=dict)
    """Their scopes: name → description."""
