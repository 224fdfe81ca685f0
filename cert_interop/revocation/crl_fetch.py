"""Revocation by the CRLs a certificate names in its cRLDistributionPoints.

For each http(s) distribution point (LDAP is skipped) the CRL is taken from the ephemeral store
or fetched (DER or PEM), then used only if it is the issuer's (name, authority key identifier,
cRLSign key usage, signature through the shared signature memo) and current at the time asked.
The raw DER is cached in the ephemeral store under a key derived from the URL until the CRL's
nextUpdate, so every worker shares one download; the parsed CRL is memoised in-process by the
SHA-256 of its DER (parsing a large CRL costs far more than hashing it). Every failure is an
``UNKNOWN`` answer with a precise detail, never an exception.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import requests
from asn1crypto import crl as _acrl
from asn1crypto import pem as _pem

from cert_interop.errors import CertInteropError, UnsupportedAlgorithm
from cert_interop.revocation._support import (
    Lru,
    Unusable,
    http_fetch,
    http_urls,
    store_get,
    store_put,
)
from cert_interop.revocation.api import RevocationAnswer, RevocationStatus
from cert_interop.validation.cache import SignatureCache, signature_cache
from cert_interop.x509 import MAX_INPUT_BYTES, Certificate, Crl, parse_crl
from cert_interop.x509.parse import _guard, _parse_crl
from storage.ephemeral.api import EphemeralStore

__all__ = ["DEFAULT_CRL_MAX_BYTES", "STORE_PREFIX", "CrlFetcher"]

DEFAULT_CRL_MAX_BYTES = 10 << 20
STORE_PREFIX = "revocation:crl:"
"""Ephemeral-store keys: this prefix + SHA-256 (hex) of the distribution point URL."""

OID_DELTA_CRL_INDICATOR = "2.5.29.27"
OID_ISSUING_DISTRIBUTION_POINT = "2.5.29.28"
_UNDERSTOOD = frozenset(
    {
        "2.5.29.20",  # cRLNumber
        "2.5.29.35",  # authorityKeyIdentifier
        "2.5.29.46",  # freshestCRL
        OID_ISSUING_DISTRIBUTION_POINT,
        "1.3.6.1.5.5.7.1.1",  # authorityInfoAccess
    }
)


def _hex(value: bytes | None) -> str:
    return value.hex() if value is not None else "(none)"


class CrlFetcher:
    """A :class:`~cert_interop.revocation.api.RevocationChecker` over distribution-point CRLs.

    ``store``: the ephemeral store shared by all workers (None: only the in-process memo).
    ``timeout`` bounds each download as a whole; ``max_bytes`` refuses larger CRLs.
    """

    def __init__(
        self,
        store: EphemeralStore | None,
        *,
        timeout: float = 5.0,
        max_bytes: int = DEFAULT_CRL_MAX_BYTES,
        session: requests.Session | None = None,
        skew: timedelta = timedelta(minutes=5),
        signatures: SignatureCache | None = None,
        memo_size: int = 16,
    ) -> None:
        if not timeout > 0:
            raise CertInteropError("timeout must be a positive number of seconds")
        if max_bytes < 1:
            raise CertInteropError("max_bytes must be positive")
        self.store = store
        self.timeout = float(timeout)
        self.max_bytes = max_bytes
        self.session = session or requests.Session()
        self.skew = skew
        self.signatures = signatures or signature_cache
        self._memo: Lru[bytes, Crl] = Lru(memo_size)
        self.downloads = 0
        """How many CRLs were fetched over HTTP (cache hits do not count)."""

    # --- the checker ------------------------------------------------------------------------

    def check(self, cert: Certificate, issuer: Certificate, at: datetime) -> RevocationAnswer:
        """The status of ``cert`` according to the first usable CRL among its distribution
        points; ``UNKNOWN`` (with every point's failure) when none is usable."""
        urls = http_urls(cert.crl_distribution_points)
        if not urls:
            detail = (
                f"only non-HTTP CRL distribution points ({', '.join(cert.crl_distribution_points)})"
                if cert.crl_distribution_points
                else "the certificate names no CRL distribution point"
            )
            return RevocationAnswer(RevocationStatus.UNKNOWN, "crl", detail)
        failures: list[str] = []
        for url in urls:
            try:
                crl, cached = self._usable_crl(url, cert, issuer, at)
            except Unusable as exc:
                failures.append(exc.detail if len(urls) == 1 else f"{url}: {exc.detail}")
                continue
            return self._answer(crl, url, cert, issuer, at, cached)
        source = f"crl {urls[0]}" if len(urls) == 1 else "crl"
        return RevocationAnswer(RevocationStatus.UNKNOWN, source, "; ".join(failures))

    def _answer(
        self,
        crl: Crl,
        url: str,
        cert: Certificate,
        issuer: Certificate,
        at: datetime,
        cached: bool,
    ) -> RevocationAnswer:
        about = (
            f"the CRL of '{issuer.subject.rfc4514}' (number {crl.crl_number}, thisUpdate "
            f"{crl.this_update.isoformat()}"
            + (f", nextUpdate {crl.next_update.isoformat()}" if crl.next_update else "")
            + (", from the cache)" if cached else ")")
        )
        entry = crl.entry(cert.serial_number)
        source = f"crl {url}"
        if entry is not None and entry.reason != "remove_from_crl":
            if entry.revocation_date <= at + self.skew:
                return RevocationAnswer(
                    RevocationStatus.REVOKED,
                    source,
                    f"serial {cert.serial_number:x} is listed on {about}",
                    revoked_at=entry.revocation_date,
                    reason=entry.reason,
                )
            return RevocationAnswer(
                RevocationStatus.GOOD,
                source,
                f"serial {cert.serial_number:x} is listed on {about} as revoked only from "
                f"{entry.revocation_date.isoformat()}, after {at.isoformat()}",
            )
        return RevocationAnswer(
            RevocationStatus.GOOD, source, f"serial {cert.serial_number:x} is not on {about}"
        )

    # --- getting a usable CRL ---------------------------------------------------------------

    def _usable_crl(
        self, url: str, cert: Certificate, issuer: Certificate, at: datetime
    ) -> tuple[Crl, bool]:
        key = STORE_PREFIX + hashlib.sha256(url.encode()).hexdigest()
        stored = store_get(self.store, key)
        if stored is not None:
            try:
                crl = self._load(stored)
            except Unusable:
                crl = None
            if crl is not None and self._why_unusable(crl, cert, issuer, at) is None:
                return crl, True
        body = http_fetch(self.session, url, timeout=self.timeout, max_bytes=self.max_bytes)
        self.downloads += 1
        crl = self._load(body)
        why = self._why_unusable(crl, cert, issuer, at)
        if why is not None:
            raise Unusable(why)
        if crl.next_update is not None:
            ttl = (crl.next_update - datetime.now(UTC)).total_seconds()
            store_put(self.store, key, crl.der, ttl)
        return crl, False

    def _load(self, body: bytes) -> Crl:
        """Parse DER or PEM, through the memo. CRLs over the 1 MiB parser cap (up to
        ``max_bytes``) go to the parser directly: a big CA's CRL legitimately runs to MBs."""
        der = body
        if body.lstrip()[:10] == b"-----BEGIN":
            try:
                _kind, _headers, raw = _pem.unarmor(body.strip())
            except Exception:
                raise Unusable("the answer is PEM that cannot be decoded") from None
            der = bytes(raw)
            if not der:
                raise Unusable("the answer is PEM with an empty or undecodable body")
        digest = hashlib.sha256(der).digest()
        memo = self._memo.get(digest)
        if memo is not None:
            return memo
        try:
            if len(der) <= MAX_INPUT_BYTES:
                crl = parse_crl(der)
            else:
                crl = _guard("CRL", lambda: _parse_crl(der))
        except CertInteropError as exc:
            raise Unusable(f"the answer is not a CRL: {exc}") from None
        self._memo.put(digest, crl)
        return crl

    def _why_unusable(
        self, crl: Crl, cert: Certificate, issuer: Certificate, at: datetime
    ) -> str | None:
        """Why ``crl`` cannot speak for ``cert`` at ``at``, or None when it can."""
        if not (crl.issuer.matches(issuer.subject) and crl.issuer.matches(cert.issuer)):
            return (
                f"the CRL was issued by '{crl.issuer.rfc4514}', not by the certificate's "
                f"issuer '{issuer.subject.rfc4514}'"
            )
        aki, ski = crl.authority_key_identifier, issuer.subject_key_identifier
        if aki is not None and ski is not None and aki != ski:
            return (
                f"the CRL's authority key identifier {_hex(aki)} is not the issuer's key "
                f"identifier {_hex(ski)}"
            )
        if issuer.key_usage is not None and "crl_sign" not in issuer.key_usage:
            return f"the issuer '{issuer.subject.rfc4514}' may not sign CRLs (no cRLSign)"
        scope = self._scope_problem(crl, cert)
        if scope is not None:
            return scope
        try:
            signed = self.signatures.verify(crl, issuer.public_key_info, issuer.public_key)
        except UnsupportedAlgorithm as exc:
            return f"the CRL's signature cannot be checked: {exc}"
        if not signed:
            return (
                f"the {crl.signature_algorithm} signature of the CRL does not verify under the "
                f"key of '{issuer.subject.rfc4514}'"
            )
        if crl.this_update - self.skew > at:
            return (
                f"the CRL is not yet valid at {at.isoformat()} (thisUpdate "
                f"{crl.this_update.isoformat()})"
            )
        if crl.next_update is not None and at > crl.next_update + self.skew:
            return (
                f"the CRL is stale at {at.isoformat()}: its nextUpdate "
                f"{crl.next_update.isoformat()} has passed"
            )
        return None

    def _scope_problem(self, crl: Crl, cert: Certificate) -> str | None:
        """Delta, indirect and partitioned CRLs, and unknown critical extensions, are refused:
        a complete CRL for the issuer's certificates is what this fetcher understands."""
        for ext in crl.extensions:
            if ext.oid == OID_DELTA_CRL_INDICATOR:
                return "the CRL is a delta CRL (not supported without its base CRL)"
            if ext.critical and ext.oid not in _UNDERSTOOD:
                return f"the CRL carries the critical extension {ext.oid}, which is not understood"
        idp_ext = next((e for e in crl.extensions if e.oid == OID_ISSUING_DISTRIBUTION_POINT), None)
        if idp_ext is None:
            return None
        try:
            idp = _acrl.IssuingDistributionPoint.load(idp_ext.value_der, strict=True)
            flags = idp.native
        except Exception:
            return "the CRL's issuing distribution point extension cannot be parsed"
        if flags.get("indirect_crl"):
            return "the CRL is an indirect CRL (not supported)"
        if flags.get("only_some_reasons") is not None:
            return "the CRL covers only some revocation reasons (not supported)"
        if flags.get("only_contains_attribute_certs"):
            return "the CRL covers only attribute certificates"
        if flags.get("only_contains_user_certs") and cert.is_ca:
            return "the CRL covers only end-entity certificates and this one is a CA"
        if flags.get("only_contains_ca_certs") and not cert.is_ca:
            return "the CRL covers only CA certificates and this one is an end entity"
        point = idp["distribution_point"]
        if point.name == "full_name":
            names = {str(gn.native) for gn in point.chosen}
            if names and not names & set(cert.crl_distribution_points):
                return (
                    "the CRL's issuing distribution point "
                    f"({', '.join(sorted(names))}) is none of the certificate's"
                )
        return None
