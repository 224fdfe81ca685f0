"""Build and sign a GB/T 38540 (version 4) ``SESeal`` from a :class:`SealInfo`.

The maker signs the DER of ``SES_SealInfo`` (see :mod:`.asn1_v4`): SM2 with SM3 and the default
user ID (``signAlgID`` 1.2.156.10197.1.501) for an SM2 maker, PKCS#1 v1.5 with SHA-256
(sha256WithRSAEncryption) for an RSA maker. The signature is checked against the maker
certificate before the seal is returned, which also catches a key that is not the certificate's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

from cert_interop import signatures
from cert_interop.errors import CertInteropError
from cert_interop.keys import PrivateKey
from cert_interop.x509 import Certificate

from ..errors import InvalidSealInput, SealTooLarge
from . import asn1_v4
from .algorithms import for_maker
from .decode import MAX_SEAL_BYTES
from .model import SealInfo
from .validate import check_seal_info


class SealSigner(Protocol):
    """A maker key held elsewhere (PKCS#11, USBKey, …): signs ``data`` with ``algorithm``."""

    def sign(self, algorithm: str, *, data: bytes | None, digest: bytes | None) -> bytes: ...


def encode_seal(
    info: SealInfo,
    maker_key: PrivateKey | SealSigner,
    maker_cert: Certificate,
    *,
    max_bytes: int = MAX_SEAL_BYTES,
) -> bytes:
    check_seal_info(info)
    algorithm, oid = for_maker(maker_cert.key_algorithm)
    try:
        seal_info = _seal_info(info)
        to_sign = seal_info.dump()
    except (ValueError, TypeError, KeyError) as exc:  # asn1crypto refusing a value
        raise InvalidSealInput(f"cannot encode the seal: {exc}") from exc
    signature = _sign(maker_key, algorithm, to_sign)
    if not signatures.verify(maker_cert.public_key, algorithm, signature, data=to_sign):
        raise InvalidSealInput(
            "the maker key does not belong to the maker certificate",
            zh="制章者密钥与制章者证书不匹配",
        )
    der: bytes = asn1_v4.SESeal(
        {
            "e_seal_info": seal_info,
            "cert": maker_cert.der,
            "sign_alg_id": oid,
            "signed_value": signature,
        }
    ).dump()
    if len(der) > max_bytes:
        raise SealTooLarge(
            f"the seal would be {len(der)} bytes, over the limit of {max_bytes}",
            zh=f"电子印章数据超过 {max_bytes} 字节的上限",
        )
    return der


def _sign(maker_key: PrivateKey | SealSigner, algorithm: str, data: bytes) -> bytes:
    try:
        if isinstance(maker_key, PrivateKey):
            return signatures.sign(maker_key, algorithm, data=data)
        return maker_key.sign(algorithm, data=data, digest=None)
    except CertInteropError as exc:
        raise InvalidSealInput(
            f"the maker key cannot sign with {algorithm}: {exc}",
            zh="制章者密钥与制章者证书不匹配",
        ) from exc


def _seal_info(info: SealInfo) -> Any:
    cert_list: Any
    if info.cert_digests:
        cert_list = asn1_v4.CertDigestList(
            [{"type": d.algorithm, "value": d.value} for d in info.cert_digests]
        )
    else:
        cert_list = asn1_v4.CertInfoList(list(info.certificates))
    extensions = [
        {"extn_id": e.oid, "critical": e.critical, "extn_value": e.value} for e in info.extensions
    ]
    return asn1_v4.SealInfo(
        {
            "header": {"id": "ES", "version": 4, "vid": info.vid},
            "es_id": info.seal_id,
            "property": {
                "type": info.seal_type,
                "name": info.name,
                "cert_list_type": info.cert_list_type,
                "cert_list": cert_list,
                "create_date": _time(info.created),
                "valid_start": _time(info.valid_start),
                "valid_end": _time(info.valid_end),
            },
            "picture": {
                "type": info.picture.type.upper(),
                "data": info.picture.data,
                "width": info.picture.width_mm,
                "height": info.picture.height_mm,
            },
            **({"ext_datas": extensions} if extensions else {}),
        }
    )


def _time(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(microsecond=0)
