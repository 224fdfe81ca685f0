"""SM2 with SM3: the CMS SignedData is built here, with ``cert_interop.cms``'s DER encoders.

pyhanko can hash a byte range with SM3 (cryptography has it) but cannot name SM3 or SM2 in
ASN.1 (asn1crypto does not know them) nor sign with SM2. ``cert_interop.cms.sign`` signs SM2,
but it signs in one go (no way to hand the signed attributes to a USBKey and come back later),
writes no signingCertificateV2 and no unsigned attributes. So the structure is assembled here
from the same encoders and OIDs, and checked in the tests with ``cert_interop.cms.verify``:

- algorithms from GM/T 0006 / 0010: digest SM3 ``1.2.156.10197.1.401``, signature
  ``1.2.156.10197.1.301.1`` (SM2 signing, what GM/T 0010 puts in SignerInfo);
- content types are the standard ``id-signedData`` / ``id-data``: with the GM/T 0010 content
  types asn1crypto cannot parse the container, and pyhanko's ``embedded_signatures`` then fails
  for the *whole* document (every other signature in it becomes unverifiable to pyhanko users);
- signed attributes contentType, signingTime, messageDigest and signingCertificateV2 (RFC 5035,
  certificate hash with SM3); the signature timestamp token as an unsigned attribute.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pyhanko.sign.timestamps import TimeStamper

from cert_interop.cms import der
from cert_interop.cms import oids as O
from cert_interop.sm3 import sm3
from cert_interop.x509 import Certificate
from seal.pdf.timestamps import timestamp_token

__all__ = ["ATTR_SIGNING_CERTIFICATE_V2", "ATTR_TIMESTAMP_TOKEN", "Sm2Builder"]

ATTR_SIGNING_CERTIFICATE_V2 = "1.2.840.113549.1.9.16.2.47"
ATTR_TIMESTAMP_TOKEN = "1.2.840.113549.1.9.16.2.14"


def _attribute(oid: str, value: bytes) -> bytes:
    return der.seq(der.oid(oid), der.set_of([value]))


def signing_certificate_v2(cert: Certificate) -> bytes:
    """SigningCertificateV2 { certs { ESSCertIDv2 { SM3, hash, issuerSerial } } }."""
    issuer_serial = der.seq(
        der.seq(der.tlv(0xA4, der.issuer_der(cert.der))),  # GeneralNames { directoryName }
        der.integer(cert.serial_number),
    )
    ess_cert_id = der.seq(der.algorithm(O.SM3), der.octets(sm3(cert.der)), issuer_serial)
    return der.seq(der.seq(ess_cert_id))


class Sm2Builder:
    """Detached CMS SignedData for an SM2 signer."""

    def __init__(self, certificate: Certificate, chain: Sequence[Certificate]) -> None:
        self._cert = certificate
        self._chain = tuple(chain)

    async def signed_attributes(self, document_digest: bytes, signing_time: datetime) -> bytes:
        """DER (SET OF Attribute): what the SM2 key signs, with the default user ID."""
        return der.set_of(
            [
                _attribute(O.ATTR_CONTENT_TYPE, der.oid(O.DATA)),
                _attribute(O.ATTR_SIGNING_TIME, der.time(signing_time)),
                _attribute(O.ATTR_MESSAGE_DIGEST, der.octets(document_digest)),
                _attribute(ATTR_SIGNING_CERTIFICATE_V2, signing_certificate_v2(self._cert)),
            ]
        )

    async def assemble(
        self, signed_attributes: bytes, signature: bytes, timestamper: TimeStamper | None
    ) -> bytes:
        parts = [
            der.integer(1),
            der.seq(der.issuer_der(self._cert.der), der.integer(self._cert.serial_number)),
            der.algorithm(O.SM3),
            b"\xa0" + signed_attributes[1:],  # [0] IMPLICIT SET OF Attribute
            der.algorithm(O.SM2_SIGN),
            der.octets(signature),
        ]
        if timestamper is not None:
            token = await timestamp_token(timestamper, signature)
            parts.append(der.tlv(0xA1, _attribute(ATTR_TIMESTAMP_TOKEN, token)))
        certs = dict.fromkeys([self._cert.der, *(c.der for c in self._chain)])
        signed_data = der.seq(
            der.integer(1),
            der.set_of([der.algorithm(O.SM3)]),
            der.seq(der.oid(O.DATA)),  # detached: no eContent
            der.tlv(0xA0, b"".join(sorted(certs))),  # SET OF: DER order
            der.set_of([der.seq(*parts)]),
        )
        return der.seq(der.oid(O.SIGNED_DATA), der.explicit(0, signed_data))
