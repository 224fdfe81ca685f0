"""The CMS builder interface, and which implementation a signer's key gets.

Both builders work in two steps so that signing can stop in between (a USBKey behind the local
bridge answers in another HTTP request): first the DER signed attributes over the document's
byte-range digest, then, with the raw signature, the finished SignedData.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from pyhanko.sign.timestamps import TimeStamper

from cert_interop.x509 import Certificate
from seal.pdf.sign_sm2 import Sm2Builder
from seal.pdf.sign_std import PadesBuilder
from seal.pdf.signer import SignatureProfile

__all__ = ["CmsBuilder", "builder_for"]


class CmsBuilder(Protocol):
    async def signed_attributes(self, document_digest: bytes, signing_time: datetime) -> bytes:
        """The DER SET OF Attribute the key signs."""
        ...

    async def assemble(
        self, signed_attributes: bytes, signature: bytes, timestamper: TimeStamper | None
    ) -> bytes:
        """The DER ContentInfo to put in ``/Contents`` (with a signature timestamp if asked)."""
        ...


def builder_for(
    profile: SignatureProfile, certificate: Certificate, chain: Sequence[Certificate]
) -> CmsBuilder:
    if profile.family == "sm2":
        return Sm2Builder(certificate, chain)
    return PadesBuilder(profile, certificate, chain)
