"""ASN.1 of the GB/T 38540-2020 seal (version 4), as asn1crypto classes.

Field order and types were checked against ofdrw (``org.ofdrw.gm.ses.v4`` and the ``v1`` classes
it reuses for header, picture and extensions; ofdrw/ofdrw at 7459e35, 2026-08) and against the
OpenSSL templates of Chingliu/gm_0031_38540_verifier. They agree with the transcription in
``/work/shared/reference/gm-and-pki.md`` except where noted:

- ``SES_CertList`` is a CHOICE that is *not* told apart by tag: both arms are an untagged
  ``SEQUENCE OF`` (``CertInfoList`` of OCTET STRING certificates, ``CertDigestList`` of
  ``CertDigestObj { type PrintableString, value OCTET STRING }``); ``certListType`` (1 or 2)
  says which. So ``certList`` is read here as ``Any`` and parsed by the caller.
- ``ExtData`` is ``{ extnID OID, critical BOOLEAN (DEFAULT FALSE), extnValue OCTET STRING }``.
  ofdrw and the OpenSSL templates *require* ``critical``, and a real vendor seal writes it even
  when FALSE, so it is optional when read and always written.
- ``TBS_Sign.extDatas`` is ``[0] EXPLICIT`` in ofdrw (untagged in the reference file), and
  ``SES_Signature.timeStamp`` is ``[0] EXPLICIT BIT STRING``. Both are defined here for the
  signature code; seal records do not use them.
- ofdrw also carries a ``v5`` package (GM/T 0031-2025: five fields with an optional time stamp,
  header version 5); that layout is not read here.

The maker signs the DER of ``SES_SealInfo`` alone (ofdrw ``SESealTest``, the C verifier's
``check_seal_signvalue``), not a SEQUENCE of info, certificate and algorithm as in GM/T 0031.
"""

from __future__ import annotations

from asn1crypto import core


class SesHeader(core.Sequence):  # type: ignore[misc]
    _fields = [  # noqa: RUF012 (asn1crypto's declared form)
        ("id", core.IA5String),
        ("version", core.Integer),
        ("vid", core.IA5String),
    ]


class ExtData(core.Sequence):  # type: ignore[misc]
    _fields = [  # noqa: RUF012
        ("extn_id", core.ObjectIdentifier),
        ("critical", core.Boolean, {"optional": True}),
        ("extn_value", core.OctetString),
    ]


class ExtensionDatas(core.SequenceOf):  # type: ignore[misc]
    _child_spec = ExtData


class PictureInfo(core.Sequence):  # type: ignore[misc]
    """``SES_ESPictrueInfo`` (sic): type, data, display width and height in millimetres."""

    _fields = [  # noqa: RUF012
        ("type", core.IA5String),
        ("data", core.OctetString),
        ("width", core.Integer),
        ("height", core.Integer),
    ]


class CertInfoList(core.SequenceOf):  # type: ignore[misc]
    _child_spec = core.OctetString


class CertDigestObj(core.Sequence):  # type: ignore[misc]
    _fields = [  # noqa: RUF012
        ("type", core.PrintableString),
        ("value", core.OctetString),
    ]


class CertDigestList(core.SequenceOf):  # type: ignore[misc]
    _child_spec = CertDigestObj


CERT_LIST_CERTIFICATES = 1
CERT_LIST_DIGESTS = 2


class PropertyInfo(core.Sequence):  # type: ignore[misc]
    _fields = [  # noqa: RUF012
        ("type", core.Integer),
        ("name", core.UTF8String),
        ("cert_list_type", core.Integer),
        ("cert_list", core.Any),
        ("create_date", core.GeneralizedTime),
        ("valid_start", core.GeneralizedTime),
        ("valid_end", core.GeneralizedTime),
    ]


class SealInfo(core.Sequence):  # type: ignore[misc]
    _fields = [  # noqa: RUF012
        ("header", SesHeader),
        ("es_id", core.IA5String),
        ("property", PropertyInfo),
        ("picture", PictureInfo),
        ("ext_datas", ExtensionDatas, {"optional": True}),
    ]


class SESeal(core.Sequence):  # type: ignore[misc]
    _fields = [  # noqa: RUF012
        ("e_seal_info", SealInfo),
        ("cert", core.OctetString),
        ("sign_alg_id", core.ObjectIdentifier),
        ("signed_value", core.OctetBitString),
    ]


class TbsSign(core.Sequence):  # type: ignore[misc]
    _fields = [  # noqa: RUF012
        ("version", core.Integer),
        ("eseal", SESeal),
        ("time_info", core.GeneralizedTime),
        ("data_hash", core.OctetBitString),
        ("property_info", core.IA5String),
        ("ext_datas", ExtensionDatas, {"explicit": 0, "optional": True}),
    ]


class SesSignature(core.Sequence):  # type: ignore[misc]
    _fields = [  # noqa: RUF012
        ("to_sign", TbsSign),
        ("cert", core.OctetString),
        ("signature_alg_id", core.ObjectIdentifier),
        ("signature", core.OctetBitString),
        ("time_stamp", core.OctetBitString, {"explicit": 0, "optional": True}),
    ]
