"""The persistent multi-CA trust store: trusted roots and intermediates with their identity
profile and revocation policy, uploaded CRLs, and validation against them.

``TrustStore(sessions, profiles_dir=…, revocation=…)`` is the one trust store of the service; its
tables come with the ``cert_interop`` migration branch. ``huren ca`` (:mod:`cert_interop.ca_cli`)
is its command line.
"""

from __future__ import annotations

from cert_interop.truststore.inputs import normalize_fingerprint, read_certificates
from cert_interop.truststore.store import (
    POLICIES,
    CaRecord,
    CrlRecord,
    RevocationPolicy,
    TrustStore,
)

__all__ = [
    "POLICIES",
    "CaRecord",
    "CrlRecord",
    "RevocationPolicy",
    "TrustStore",
    "normalize_fingerprint",
    "read_certificates",
]
