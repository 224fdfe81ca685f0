"""RSA and ECDSA: the PAdES CMS is pyhanko's, built around a signature made elsewhere.

pyhanko's ``ExternalSigner`` formats the signed attributes (``signed_attrs`` with PAdES rules:
contentType, messageDigest, signingCertificateV2, no signingTime) and, once the raw signature
is known, the whole SignedData (``async_sign_prescribed_attributes``), fetching the signature
timestamp itself when given a timestamper. The key never meets pyhanko: it signs the DER
signed attributes wherever it lives (see :mod:`seal.pdf.signer`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from asn1crypto import algos as aalgos
from asn1crypto import cms as acms
from asn1crypto import x509 as ax509
from pyhanko.sign.signers.pdf_cms import ExternalSigner
from pyhanko.sign.timestamps import TimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore

from cert_interop.x509 import Certificate
from seal.pdf.errors import TimestampFailed
from seal.pdf.signer import SignatureProfile

__all__ = ["PadesBuilder"]


class PadesBuilder:
    """CMS for RSA (PKCS#1 v1.5) and ECDSA signers, SHA-256 throughout."""

    def __init__(
        self, profile: SignatureProfile, certificate: Certificate, chain: Sequence[Certificate]
    ) -> None:
        self._digest = profile.digest
        self._mechanism = aalgos.SignedDigestAlgorithm(
            {"algorithm": f"{profile.digest}_{'rsa' if profile.family == 'rsa' else 'ecdsa'}"}
        )
        self._cert = ax509.Certificate.load(certificate.der)
        self._chain = [ax509.Certificate.load(c.der) for c in chain]

    def _signer(self, signature: bytes | None) -> ExternalSigner:
        return ExternalSigner(
            signing_cert=self._cert,
            cert_registry=cast(Any, SimpleCertificateStore).from_certs(self._chain),
            signature_value=signature,
            signature_mechanism=self._mechanism,
        )

    async def signed_attributes(self, document_digest: bytes, signing_time: datetime) -> bytes:
        """DER (SET OF Attribute) to be signed; PAdES keeps the time in the dictionary's /M."""
        attrs = await self._signer(None).signed_attrs(document_digest, self._digest, use_pades=True)
        return bytes(attrs.dump())

    async def assemble(
        self, signed_attributes: bytes, signature: bytes, timestamper: TimeStamper | None
    ) -> bytes:
        attrs = acms.CMSAttributes.load(signed_attributes)
        try:
            ci = await self._signer(signature).async_sign_prescribed_attributes(
                self._digest, attrs, timestamper=timestamper
            )
        except Exception as exc:
            if timestamper is None:
                raise
            raise TimestampFailed(f"the TSA did not give a timestamp: {exc}") from exc
        return bytes(ci.dump())
