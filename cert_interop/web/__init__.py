"""The integrator API (``/api/v1/...``): validate certificates, verify raw and CMS signatures,
make envelopes, and sign or decrypt with a platform key — a thin layer over the library.

The composition root builds a :class:`CryptoApi` (token checking, trust store, platform keys)
and registers :func:`crypto_api_blueprint`. Every answer is JSON; every failure has a stable
``error`` code with Chinese and English messages (:mod:`cert_interop.web.messages`).
"""

from __future__ import annotations

from cert_interop.web.api import (
    SCOPES,
    ApiError,
    Authorizer,
    Caller,
    CertificateValidator,
    CryptoApi,
    PlatformKey,
)
from cert_interop.web.views import crypto_api_blueprint

__all__ = [
    "SCOPES",
    "ApiError",
    "Authorizer",
    "Caller",
    "CertificateValidator",
    "CryptoApi",
    "PlatformKey",
    "crypto_api_blueprint",
]
