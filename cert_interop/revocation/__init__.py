"""Revocation checking beyond supplied CRLs: CRLs fetched from distribution points and OCSP.

:class:`DefaultChecker` (OCSP, then CRL distribution points, cached in the ephemeral store) is
what ``validate(..., revocation=...)`` is normally given; :class:`OcspClient` and
:class:`CrlFetcher` are usable on their own. :mod:`.responder` is a small real responder for
tests and trials.
"""

from __future__ import annotations

from cert_interop.revocation.api import RevocationAnswer, RevocationChecker, RevocationStatus
from cert_interop.revocation.checker import DefaultChecker
from cert_interop.revocation.crl_fetch import CrlFetcher
from cert_interop.revocation.ocsp_client import OcspClient

__all__ = [
    "CrlFetcher",
    "DefaultChecker",
    "OcspClient",
    "RevocationAnswer",
    "RevocationChecker",
    "RevocationStatus",
]
