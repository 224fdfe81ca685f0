"""Offline certificate path building and validation over :mod:`cert_interop.x509`.

``validate(leaf, intermediates=…, anchors=…, crls=…)`` returns a frozen
:class:`ValidationResult`: valid, or the precise :class:`Reason` and an English detail, with the
chain as far as it was built. Trust store persistence, CRL fetching and OCSP build on this.
"""

from __future__ import annotations

from cert_interop.validation.cache import SignatureCache, signature_cache
from cert_interop.validation.path import KNOWN_EXTENSIONS, MAX_PATH_LENGTH, Purpose, validate
from cert_interop.validation.status import Reason, ValidationResult

__all__ = [
    "KNOWN_EXTENSIONS",
    "MAX_PATH_LENGTH",
    "Purpose",
    "Reason",
    "SignatureCache",
    "ValidationResult",
    "signature_cache",
    "validate",
]
