"""Revocation by OCSP (RFC 6960) at the responders a certificate names in its AIA extension.

Each request is POSTed (``application/ocsp-request``) with a fresh nonce. An answer is believed
only when it is successful, signed by the issuer or by a delegated responder the issuer
authorised (:func:`cert_interop.x509.verify_ocsp_response`), about this very CertID, carries
our nonce (a different nonce is a replay and always refused; a missing one only with
``require_nonce=False`` and a thisUpdate within ``skew`` of now), and is current at the time
asked. Good and revoked answers are cached in the ephemeral store, keyed by CertID, until their
nextUpdate (none: not cached) and re-verified (memoised) when reused. Failures are ``UNKNOWN``
answers with a precise detail, never exceptions.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import requests

from cert_interop.errors import CertInteropError, OcspResponseRejected
from cert_interop.revocation._support import (
    Lru,
    Unusable,
    http_fetch,
    http_urls,
    store_get,
    store_put,
)
from cert_interop.revocation.api import RevocationAnswer, RevocationStatus
from cert_interop.x509 import (
    MAX_INPUT_BYTES,
    OCSP_HASH_ALGORITHMS,
    CertId,
    Certificate,
    OcspResponse,
    OcspResponseStatus,
    SingleResponse,
    build_ocsp_request,
    cert_id,
    new_nonce,
    parse_ocsp_response,
    verify_ocsp_response,
)
from storage.ephemeral.api import EphemeralStore

__all__ = ["STORE_PREFIX", "OcspClient"]

STORE_PREFIX = "revocation:ocsp:"
"""Ephemeral-store keys: this prefix + SHA-256 (hex) of the CertID (hash, hashes, serial)."""

_HEADERS = {"Content-Type": "application/ocsp-request", "Accept": "application/ocsp-response"}


class OcspClient:
    """A :class:`~cert_interop.revocation.api.RevocationChecker` that asks OCSP responders.

    ``hash_algorithm`` of the CertID: ``sha1`` (what every responder understands), ``sha256``
    or ``sm3``. ``require_nonce=False`` tolerates responders that serve pre-signed answers
    without our nonce, but only fresh ones (thisUpdate within ``skew`` of now).
    """

    def __init__(
        self,
        store: EphemeralStore | None,
        *,
        timeout: float = 5.0,
        require_nonce: bool = True,
        hash_algorithm: str = "sha1",
        skew: timedelta = timedelta(minutes=5),
        max_bytes: int = MAX_INPUT_BYTES,
        session: requests.Session | None = None,
        memo_size: int = 1024,
    ) -> None:
        if hash_algorithm not in OCSP_HASH_ALGORITHMS:
            raise CertInteropError(
                f"hash_algorithm must be one of {sorted(OCSP_HASH_ALGORITHMS)}, "
                f"not {hash_algorithm!r}"
            )
        if not timeout > 0:
            raise CertInteropError("timeout must be a positive number of seconds")
        self.store = store
        self.timeout = float(timeout)
        self.require_nonce = require_nonce
        self.hash_algorithm = hash_algorithm
        self.skew = skew
        self.max_bytes = min(max_bytes, MAX_INPUT_BYTES)
        self.session = session or requests.Session()
        self._verified: Lru[tuple[bytes, bytes], Certificate] = Lru(memo_size)
        """(SHA-256 of a response, issuer DER) → the signer it was verified with."""
        self.requests_sent = 0
        """How many OCSP requests went out (cache hits do not count)."""

    def check(self, cert: Certificate, issuer: Certificate, at: datetime) -> RevocationAnswer:
        """The status of ``cert`` according to the first responder that gives a usable
        answer; ``UNKNOWN`` (with every responder's failure) when none does."""
        urls = http_urls(cert.ocsp_urls)
        if not urls:
            detail = (
                f"only non-HTTP OCSP responders ({', '.join(cert.ocsp_urls)})"
                if cert.ocsp_urls
                else "the certificate names no OCSP responder"
            )
            return RevocationAnswer(RevocationStatus.UNKNOWN, "ocsp", detail)
        cid = cert_id(cert, issuer, self.hash_algorithm)
        key = STORE_PREFIX + hashlib.sha256(cid.key.encode()).hexdigest()
        stored = store_get(self.store, key)
        if stored is not None:
            hit = self._from_cache(stored, cert, issuer, at)
            if hit is not None:
                return hit
        failures: list[str] = []
        for url in urls:
            try:
                response, single = self._ask(url, cid, cert, issuer, at)
            except Unusable as exc:
                failures.append(exc.detail if len(urls) == 1 else f"{url}: {exc.detail}")
                continue
            if single.status != "unknown" and single.next_update is not None:
                ttl = (single.next_update - datetime.now(UTC)).total_seconds()
                store_put(self.store, key, response.der, ttl)
            return self._answer(single, response, url, cert, at, cached=False)
        source = f"ocsp {urls[0]}" if len(urls) == 1 else "ocsp"
        return RevocationAnswer(RevocationStatus.UNKNOWN, source, "; ".join(failures))

    # --- one exchange -----------------------------------------------------------------------

    def _ask(
        self, url: str, cid: CertId, cert: Certificate, issuer: Certificate, at: datetime
    ) -> tuple[OcspResponse, SingleResponse]:
        nonce = new_nonce()
        request = build_ocsp_request([cid], nonce=nonce)
        self.requests_sent += 1
        body = http_fetch(
            self.session,
            url,
            timeout=self.timeout,
            max_bytes=self.max_bytes,
            data=request.der,
            headers=_HEADERS,
        )
        try:
            response = parse_ocsp_response(body)
        except CertInteropError as exc:
            raise Unusable(f"the answer is not an OCSP response: {exc}") from None
        if response.status is not OcspResponseStatus.SUCCESSFUL:
            raise Unusable(f"the responder answered {response.status.value}")
        single = self._trusted_single(response, cert, issuer, at)
        if response.nonce is None:
            if self.require_nonce:
                raise Unusable(
                    "the response carries no nonce, and one is required (replay protection)"
                )
            now = datetime.now(UTC)
            if abs(single.this_update - now) > self.skew:
                raise Unusable(
                    f"the response carries no nonce and its thisUpdate "
                    f"{single.this_update.isoformat()} is not within {_secs(self.skew)} of now "
                    "(a possibly replayed answer)"
                )
        elif response.nonce != nonce:
            raise Unusable(
                "the response's nonce is not the one sent: a replayed or misdirected answer"
            )
        return response, single

    def _trusted_single(
        self, response: OcspResponse, cert: Certificate, issuer: Certificate, at: datetime
    ) -> SingleResponse:
        """The single response about ``cert``, from a signer ``issuer`` authorised, current at
        ``at``."""
        memo_key = (hashlib.sha256(response.der).digest(), issuer.der)
        signer = self._verified.get(memo_key)
        if signer is None:
            try:
                signer = verify_ocsp_response(response, issuer, at=at, skew=self.skew)
            except OcspResponseRejected as exc:
                raise Unusable(str(exc)) from None
            self._verified.put(memo_key, signer)
        elif not signer.not_before - self.skew <= at <= signer.not_after + self.skew:
            raise Unusable(  # a memoised delegated responder must still be valid at ``at``
                f"responder certificate '{signer.subject.rfc4514}' is not valid at {at.isoformat()}"
            )
        single = response.find(cert, issuer)
        if single is None:
            raise Unusable(
                f"the response does not cover serial {cert.serial_number:x} of "
                f"'{issuer.subject.rfc4514}'"
            )
        if single.this_update - self.skew > at:
            raise Unusable(
                f"the answer's thisUpdate {single.this_update.isoformat()} is after "
                f"{at.isoformat()}"
            )
        if single.next_update is not None and single.next_update + self.skew < at:
            raise Unusable(
                f"the answer is stale: its nextUpdate {single.next_update.isoformat()} is "
                f"before {at.isoformat()}"
            )
        return single

    def _from_cache(
        self, stored: bytes, cert: Certificate, issuer: Certificate, at: datetime
    ) -> RevocationAnswer | None:
        """A cached answer, re-checked (signature memoised) so a tampered or no longer current
        cache entry is simply ignored."""
        try:
            response = parse_ocsp_response(stored)
            single = self._trusted_single(response, cert, issuer, at)
        except (CertInteropError, Unusable):
            return None
        if single.status == "unknown":
            return None
        return self._answer(single, response, "", cert, at, cached=True)

    def _answer(
        self,
        single: SingleResponse,
        response: OcspResponse,
        url: str,
        cert: Certificate,
        at: datetime,
        *,
        cached: bool,
    ) -> RevocationAnswer:
        source = f"ocsp {url}" if url else "ocsp (cached)"
        times = f"thisUpdate {single.this_update.isoformat()}" + (
            f", nextUpdate {single.next_update.isoformat()}" if single.next_update else ""
        )
        said = f"responder {response.responder} says serial {cert.serial_number:x} is"
        if single.status == "revoked" and single.revoked_at is not None:
            if single.revoked_at <= at + self.skew:
                return RevocationAnswer(
                    RevocationStatus.REVOKED,
                    source,
                    f"{said} revoked ({times})",
                    revoked_at=single.revoked_at,
                    reason=single.reason,
                )
            return RevocationAnswer(
                RevocationStatus.GOOD,
                source,
                f"{said} revoked only from {single.revoked_at.isoformat()}, after "
                f"{at.isoformat()} ({times})",
            )
        if single.status == "good":
            return RevocationAnswer(RevocationStatus.GOOD, source, f"{said} good ({times})")
        return RevocationAnswer(
            RevocationStatus.UNKNOWN,
            source,
            f"{said} unknown to it ({times})",
        )


def _secs(delta: timedelta) -> str:
    return f"{int(delta.total_seconds())} s"
