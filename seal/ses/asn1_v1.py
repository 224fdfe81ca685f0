"""ASN.1 of the GM/T 0031-2014 seal ("version 1" in ofdrw), read for interop with older seals.

Checked against ofdrw ``org.ofdrw.gm.ses.v1`` and the C verifier's ``SESv2_*`` templates:

- ``SESeal ::= SEQUENCE { esealInfo SES_SealInfo, signInfo SES_SignInfo }``;
- ``SES_ESPropertyInfo`` has no ``certListType``: ``certList`` is a ``SEQUENCE OF OCTET STRING``
  of certificates, and the dates are UTCTime (GeneralizedTime accepted, as ofdrw does for seals
  "not to the standard");
- ``SES_SignInfo ::= SEQUENCE { cert OCTET STRING, signatureAlgorithm OID, signData BIT STRING }``
  and the maker signs the DER of ``SEQUENCE { esealInfo, cert, signatureAlgorithm }``
  (:class:`SignedContent`).

Header, picture and extensions are the same structures as in version 4.
"""

from __future__ import annotations

from asn1crypto import core, x509

from .asn1_v4 import CertInfoList, ExtensionDatas, PictureInfo, SesHeader


class PropertyInfoV1(core.Sequence):  # type: ignore[misc]
    _fields = [  # noqa: RUF012 (asn1crypto's declared form)
        ("type", core.Integer),
        ("name", core.UTF8String),
        ("cert_list", CertInfoList),
        ("create_date", x509.Time),
        ("valid_start", x509.Time),
        ("valid_end", x509.Time),
    ]


class SealInfoV1(core.Sequence):  # type: ignore[misc]
    _fields = [  # noqa: RUF012
        ("header", SesHeader),
        ("es_id", core.IA5String),
        ("property", PropertyInfoV1),
        ("picture", PictureInfo),
        ("ext_datas", ExtensionDatas, {"optional": True}),
    ]


class SignInfo(core.Sequence):  # type: ignore[misc]
    _fields = [  # noqa: RUF012
        ("cert", core.OctetString),
        ("signature_algorithm", core.ObjectIdentifier),
        ("sign_data", core.OctetBitString),
    ]


class SESealV1(core.Sequence):  # type: ignore[misc]
    _fields = [  # noqa: RUF012
        ("e_seal_info", SealInfoV1),
        ("sign_info", SignInfo),
    ]


class SignedContent(core.Sequence):  # type: ignore[misc]
    """What the maker of a version 1 seal signs."""

    _fields = [  # noqa: RUF012
        ("e_seal_info", SealInfoV1),
        ("cert", core.OctetString),
        ("signature_algorithm", core.ObjectIdentifier),
    ]
