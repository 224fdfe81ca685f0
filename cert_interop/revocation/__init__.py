"""Revocation checking beyond supplied CRLs: CRLs fetched from distribution points and OCSP."""

from __future__ import annotations

from cert_interop.revocation.api import RevocationAnswer, RevocationChecker, RevocationStatus

__all__ = ["RevocationAnswer", "RevocationChecker", "RevocationStatus"]
