"""The revocation checker path validation is given by default: OCSP first, then the
distribution-point CRLs, each with its shared cache.

The first source that answers ``GOOD`` or ``REVOKED`` wins. When none can, the answer is
``UNKNOWN`` with every source's reason, and the caller's per-CA policy (hard- or soft-fail)
decides. Like every checker it never raises: an unexpected error in a source is logged and
reported as ``UNKNOWN``, which fails closed under hard-fail.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal

import requests

from cert_interop.errors import CertInteropError
from cert_interop.revocation.api import RevocationAnswer, RevocationChecker, RevocationStatus
from cert_interop.revocation.crl_fetch import DEFAULT_CRL_MAX_BYTES, CrlFetcher
from cert_interop.revocation.ocsp_client import OcspClient
from cert_interop.x509 import Certificate
from storage.ephemeral.api import EphemeralStore

__all__ = ["DefaultChecker", "Source"]

Source = Literal["ocsp", "crl"]

log = logging.getLogger(__name__)


class DefaultChecker:
    """OCSP and CRL distribution points, in ``order``, over one ephemeral store.

    ``timeout`` applies to each HTTP exchange; ``require_nonce`` to OCSP (see
    :class:`~cert_interop.revocation.ocsp_client.OcspClient`).
    """

    def __init__(
        self,
        store: EphemeralStore | None,
        *,
        timeout: float = 5.0,
        order: Sequence[Source] = ("ocsp", "crl"),
        require_nonce: bool = True,
        hash_algorithm: str = "sha1",
        skew: timedelta = timedelta(minutes=5),
        crl_max_bytes: int = DEFAULT_CRL_MAX_BYTES,
        session: requests.Session | None = None,
    ) -> None:
        names = tuple(order)
        if not names or len(set(names)) != len(names) or not set(names) <= {"ocsp", "crl"}:
            raise CertInteropError("order must name 'ocsp' and/or 'crl', each at most once")
        session = session or requests.Session()
        self.order: tuple[Source, ...] = names
        self.ocsp = OcspClient(
            store,
            timeout=timeout,
            require_nonce=require_nonce,
            hash_algorithm=hash_algorithm,
            skew=skew,
            session=session,
        )
        self.crl = CrlFetcher(
            store, timeout=timeout, max_bytes=crl_max_bytes, session=session, skew=skew
        )

    def check(self, cert: Certificate, issuer: Certificate, at: datetime) -> RevocationAnswer:
        if not cert.ocsp_urls and not cert.crl_distribution_points:
            return RevocationAnswer(
                RevocationStatus.UNKNOWN, "none", "no revocation source named in the certificate"
            )
        unknown: list[RevocationAnswer] = []
        for name in self.order:
            source: RevocationChecker = self.ocsp if name == "ocsp" else self.crl
            try:
                answer = source.check(cert, issuer, at)
            except Exception as exc:  # a bug must not escape into validation; fail closed
                log.exception("revocation source %s failed", name)
                answer = RevocationAnswer(
                    RevocationStatus.UNKNOWN, name, f"internal error: {type(exc).__name__}: {exc}"
                )
            if answer.status is not RevocationStatus.UNKNOWN:
                return answer
            unknown.append(answer)
        if len(unknown) == 1:
            return unknown[0]
        return RevocationAnswer(
            RevocationStatus.UNKNOWN,
            " + ".join(a.source.split(" ", 1)[0] for a in unknown),
            "; ".join(f"{a.source}: {a.detail}" for a in unknown),
        )
