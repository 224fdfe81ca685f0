"""Read a seal (GB/T 38540 version 4 or GM/T 0031 version 1) into a :class:`ParsedSeal`.

Untrusted input: the size is capped before parsing, the layout is chosen by the number of
top-level fields (2 = GM/T 0031, 4 = GB/T 38540, as ofdrw's ``VersionParser`` does) and then
confirmed by the header, and every asn1crypto or certificate error becomes ``MalformedSeal``.
The bytes the maker signed are taken from the input as is, never re-encoded, so a seal written
with a non-canonical encoding still verifies as it was signed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

from asn1crypto import core

from cert_interop.errors import CertInteropError
from cert_interop.x509 import Certificate, parse_certificate

from ..errors import MalformedSeal, SealError, SealTooLarge, UnsupportedSealVersion
from . import asn1_v1, asn1_v4
from .model import CertDigest, ParsedSeal, SealExtension, SealInfo, SealPicture
from .pictures import check_picture

MAX_SEAL_BYTES: Final = 4 * 1024 * 1024
"""Default cap on a seal's size; the picture is most of it."""

V1_HEADER_VERSIONS: Final = frozenset({1, 2, 3})
"""GM/T 0031 seals in the wild carry 1 (ofdrw) or 2 (older vendors) in their header."""

_INT_LIMIT: Final = 1 << 31


def decode_seal(data: object, *, max_bytes: int = MAX_SEAL_BYTES) -> ParsedSeal:
    """Parse DER bytes into a :class:`ParsedSeal`; raises only ``MalformedSeal`` and its
    subclasses (``SealTooLarge``, ``UnsupportedSealVersion``, ``SealPictureMismatch``, …)."""
    der = _input_bytes(data, max_bytes)
    try:
        fields = len(core.Sequence.load(der, strict=True))
        if fields == 4:
            return _decode_v4(der)
        if fields == 2:
            return _decode_v1(der)
        if fields == 5:
            raise UnsupportedSealVersion(
                "a five-field seal (GM/T 0031-2025, version 5) is not supported",
                zh="不支持第 5 版（GM/T 0031-2025）电子印章",
            )
        raise MalformedSeal(f"a seal has 2 or 4 top-level fields, not {fields}")
    except SealError:
        raise
    except Exception as exc:  # asn1crypto raises ValueError, TypeError, KeyError, …
        first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
        raise MalformedSeal(f"cannot parse seal: {type(exc).__name__}: {first}") from exc


def _input_bytes(data: object, max_bytes: int) -> bytes:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise MalformedSeal("a seal must be given as bytes")
    if len(data) > max_bytes:
        raise SealTooLarge(
            f"the seal is {len(data)} bytes, over the limit of {max_bytes}",
            zh=f"电子印章数据超过 {max_bytes} 字节的上限",
        )
    der = bytes(data)
    if not der:
        raise MalformedSeal("the seal is empty", zh="电子印章数据为空")
    return der


def _decode_v4(der: bytes) -> ParsedSeal:
    seal = asn1_v4.SESeal.load(der, strict=True)
    info_asn1 = seal["e_seal_info"]
    version = _header_version(info_asn1["header"])
    if version != 4:
        raise UnsupportedSealVersion(
            f"a four-field seal must have header version 4, not {version}",
            zh=f"不支持版本号为 {version} 的电子印章",
        )
    prop = info_asn1["property"]
    list_type = _int(prop["cert_list_type"], "certListType")
    certificates: tuple[bytes, ...] = ()
    digests: tuple[CertDigest, ...] = ()
    if list_type == asn1_v4.CERT_LIST_CERTIFICATES:
        certificates = _octets(prop["cert_list"].parse(asn1_v4.CertInfoList))
    elif list_type == asn1_v4.CERT_LIST_DIGESTS:
        digests = tuple(
            CertDigest(_str(d["type"]), _bytes(d["value"]))
            for d in prop["cert_list"].parse(asn1_v4.CertDigestList)
        )
    else:
        raise MalformedSeal(f"certListType must be 1 or 2, not {list_type}")
    info = _seal_info(info_asn1, certificates, digests)
    signature = _bit_octets(seal["signed_value"])
    return ParsedSeal(
        version=4,
        header_version=version,
        info=info,
        maker_certificate=_maker(seal["cert"]),
        signature_algorithm_oid=seal["sign_alg_id"].dotted,
        signature=signature,
        signed_data=info_asn1.dump(),
        der=der,
    )


def _decode_v1(der: bytes) -> ParsedSeal:
    seal = asn1_v1.SESealV1.load(der, strict=True)
    info_asn1 = seal["e_seal_info"]
    version = _header_version(info_asn1["header"])
    if version not in V1_HEADER_VERSIONS:
        raise UnsupportedSealVersion(
            f"a two-field (GM/T 0031) seal must have header version 1 to 3, not {version}",
            zh=f"不支持版本号为 {version} 的电子印章",
        )
    sign_info = seal["sign_info"]
    certificates = _octets(info_asn1["property"]["cert_list"])
    info = _seal_info(info_asn1, certificates, ())
    signed = core.Sequence(
        contents=info_asn1.dump()
        + sign_info["cert"].dump()
        + sign_info["signature_algorithm"].dump()
    ).dump()
    return ParsedSeal(
        version=1,
        header_version=version,
        info=info,
        maker_certificate=_maker(sign_info["cert"]),
        signature_algorithm_oid=sign_info["signature_algorithm"].dotted,
        signature=_bit_octets(sign_info["sign_data"]),
        signed_data=signed,
        der=der,
    )


def _header_version(header: Any) -> int:
    if _str(header["id"]) != "ES":
        raise MalformedSeal("the seal header's id is not 'ES'", zh="电子印章头标识不是 ES")
    return _int(header["version"], "header version")


def _seal_info(
    info: Any, certificates: tuple[bytes, ...], digests: tuple[CertDigest, ...]
) -> SealInfo:
    prop, pic = info["property"], info["picture"]
    data = _bytes(pic["data"])
    picture = SealPicture(
        type=check_picture(_str(pic["type"]), data),
        data=data,
        width_mm=_int(pic["width"], "picture width"),
        height_mm=_int(pic["height"], "picture height"),
    )
    extensions = tuple(
        SealExtension(
            oid=e["extn_id"].dotted,
            value=_bytes(e["extn_value"]),
            critical=bool(e["critical"].native),
        )
        for e in (() if isinstance(info["ext_datas"], core.Void) else info["ext_datas"])
    )
    return SealInfo(
        seal_id=_str(info["es_id"]),
        seal_type=_int(prop["type"], "seal type"),
        name=_str(prop["name"]),
        picture=picture,
        created=_time(prop["create_date"]),
        valid_start=_time(prop["valid_start"]),
        valid_end=_time(prop["valid_end"]),
        certificates=certificates,
        cert_digests=digests,
        vid=_str(info["header"]["vid"]),
        extensions=extensions,
    )


def _maker(cert: Any) -> Certificate:
    try:
        return parse_certificate(_bytes(cert))
    except CertInteropError as exc:
        raise MalformedSeal(
            f"the seal maker's certificate cannot be read: {exc}",
            zh="无法解析电子印章中的制章者证书",
        ) from exc


def _int(value: Any, what: str) -> int:
    number = value.native
    if not isinstance(number, int) or not 0 <= number < _INT_LIMIT:
        raise MalformedSeal(f"{what} must be a non-negative 32-bit integer")
    return number


def _str(value: Any) -> str:
    text = value.native
    if not isinstance(text, str):
        raise MalformedSeal("a required text field is missing")
    return text


def _bytes(value: Any) -> bytes:
    raw = value.native
    if not isinstance(raw, bytes):
        raise MalformedSeal("a required octet string is missing")
    return raw


def _octets(seq: Any) -> tuple[bytes, ...]:
    return tuple(_bytes(item) for item in seq)


def _bit_octets(value: Any) -> bytes:
    if value.contents[:1] != b"\x00":
        raise MalformedSeal("a signature BIT STRING must have no unused bits")
    return _bytes(value)


def _time(value: Any) -> datetime:
    """Aware UTC; a time written without a zone (not DER) is read as UTC."""
    moment = value.native
    if type(moment) is not datetime:  # asn1crypto's extended_datetime for year 0
        raise MalformedSeal("a seal date is missing or out of range")
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
