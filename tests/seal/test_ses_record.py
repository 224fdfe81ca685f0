"""Seal records (GB/T 38540 v4, GM/T 0031 v1): make, parse, verify, refuse."""

from __future__ import annotations

import dataclasses
import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import core, x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from PIL import Image

from cert_interop import keys as keymod
from cert_interop import signatures, sm2
from cert_interop.x509 import Certificate, build_certificate
from seal import errors
from seal.errors import (
    InvalidSealInput,
    MalformedSeal,
    SealError,
    SealExpired,
    SealNotYetValid,
    SealPictureMismatch,
    SealSignatureInvalid,
    SealTooLarge,
    UnsupportedSealPicture,
    UnsupportedSealVersion,
)
from seal.ses import (
    CertDigest,
    SealExtension,
    SealInfo,
    SealPicture,
    asn1_v1,
    asn1_v4,
    make_seal,
    parse_seal,
    pictures,
    seal_types,
    verify_seal,
)

DATA = Path(__file__).parent / "data"
NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
SM2_WITH_SM3 = "1.2.156.10197.1.501"
RSA_SHA256 = "1.2.840.113549.1.1.11"

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f"
    b"\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)
SVG = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<svg xmlns="http://www.w3.org/2000/svg" width="42mm" height="42mm">'
    b'<circle cx="21" cy="21" r="20" stroke="red" fill="none"/></svg>'
)


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 0, 0)).save(out, format="JPEG")
    return out.getvalue()


# --- a small PKI -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Party:
    key: keymod.PrivateKey
    cert: Certificate


def keygen(alg: str) -> keymod.PrivateKey:
    if alg == "rsa":
        return rsa.generate_private_key(65537, 2048)
    if alg == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    return sm2.generate_private_key()


def _ca(alg: str) -> Party:
    key = keygen(alg)
    start = NOW - timedelta(days=30)
    cert = build_certificate(
        subject=[("C", "CN"), ("O", "Huren Seal Test"), ("CN", f"Seal Maker CA {alg}")],
        subject_public_key=key.public_key(),
        issuer_key=key,
        not_before=start,
        not_after=start + timedelta(days=3650),
        ca=True,
        key_usage={"key_cert_sign", "crl_sign"},
    )
    return Party(key, cert)


@cache
def party(role: str, alg: str) -> Party:
    """``maker``/``holder`` leaves issued by a CA of the same algorithm (cached: keygen is slow)."""
    ca = _ca(alg)
    key = keygen(alg)
    start = NOW - timedelta(days=30)
    cert = build_certificate(
        subject=[("C", "CN"), ("O", "Huren Seal Test"), ("CN", f"{role} {alg}")],
        subject_public_key=key.public_key(),
        issuer_key=ca.key,
        issuer=ca.cert,
        not_before=start,
        not_after=start + timedelta(days=730),
        ca=False,
        key_usage={"digital_signature", "non_repudiation"},
    )
    return Party(key, cert)


def seal_info(**changes: Any) -> SealInfo:
    base = SealInfo(
        seal_id="52000000000000000000000000000001",
        seal_type=seal_types.CONTRACT,
        name="测试单位 合同专用章",
        picture=SealPicture("png", PNG, 42, 42),
        created=NOW - timedelta(days=1),
        valid_start=NOW - timedelta(days=1),
        valid_end=NOW + timedelta(days=365),
        certificates=(party("holder", "sm2").cert.der,),
    )
    return dataclasses.replace(base, **changes)


def seal_der(alg: str = "sm2", **changes: Any) -> bytes:
    maker = party("maker", alg)
    return make_seal(seal_info(**changes), maker.key, maker.cert)


def v1_seal(alg: str = "sm2", *, header_version: int = 1, info: SealInfo | None = None) -> bytes:
    """A GM/T 0031 seal built with the v1 definitions, signed as that standard says."""
    info = info or seal_info()
    maker = party("maker", alg)
    algorithm, oid = ("sm2-sm3", SM2_WITH_SM3) if alg == "sm2" else ("rsa-pkcs1-sha256", RSA_SHA256)
    sealinfo = asn1_v1.SealInfoV1(
        {
            "header": {"id": "ES", "version": header_version, "vid": "OLDVENDOR"},
            "es_id": info.seal_id,
            "property": {
                "type": 1,
                "name": info.name,
                "cert_list": list(info.certificates),
                "create_date": x509.Time(name="utc_time", value=info.created),
                "valid_start": x509.Time(name="utc_time", value=info.valid_start),
                "valid_end": x509.Time(name="utc_time", value=info.valid_end),
            },
            "picture": {"type": "PNG", "data": info.picture.data, "width": 40, "height": 40},
        }
    )
    content = asn1_v1.SignedContent(
        {"e_seal_info": sealinfo, "cert": maker.cert.der, "signature_algorithm": oid}
    )
    signature = signatures.sign(maker.key, algorithm, data=content.dump())
    return bytes(
        asn1_v1.SESealV1(
            {
                "e_seal_info": sealinfo,
                "sign_info": {
                    "cert": maker.cert.der,
                    "signature_algorithm": oid,
                    "sign_data": signature,
                },
            }
        ).dump()
    )


def replace_once(der: bytes, old: bytes, new: bytes) -> bytes:
    assert der.count(old) == 1 and len(old) == len(new)
    return der.replace(old, new)


# --- making and reading back -------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["sm2", "rsa"])
def test_round_trip(alg: str) -> None:
    info = seal_info()
    maker = party("maker", alg)
    der = make_seal(info, maker.key, maker.cert)

    parsed = parse_seal(der)
    assert parsed.version == 4 and parsed.header_version == 4
    assert parsed.standard == "GB/T 38540-2020"
    assert parsed.info == info
    assert parsed.maker_certificate.der == maker.cert.der
    assert parsed.signature_algorithm_oid == (SM2_WITH_SM3 if alg == "sm2" else RSA_SHA256)
    assert parsed.signed_data == asn1_v4.SESeal.load(der)["e_seal_info"].dump()

    check = verify_seal(parsed, at=NOW)
    assert check.ok and check.signature_valid and check.validity == "valid"
    assert check.problems == ()
    assert check.algorithm == ("sm2-sm3" if alg == "sm2" else "rsa-pkcs1-sha256")
    assert check.maker.der == maker.cert.der
    check.raise_if_invalid()


def test_structure_is_what_other_readers_expect() -> None:
    """Field by field against the layout ofdrw reads (see seal.ses.asn1_v4)."""
    der = seal_der(extensions=(SealExtension("1.2.156.112600.7.1", b"x"),))
    top = core.Sequence.load(der)
    assert len(top) == 4
    info = core.Sequence.load(top[0].dump())
    header = core.Sequence.load(info[0].dump())
    assert [header[0].native, header[1].native, header[2].native] == ["ES", 4, "HUREN"]
    prop = core.Sequence.load(info[2].dump())
    assert [prop[0].native, prop[1].native, prop[2].native] == [4, "测试单位 合同专用章", 1]
    assert isinstance(prop[4], core.GeneralizedTime)
    assert prop[5].native == NOW - timedelta(days=1)
    picture = core.Sequence.load(info[3].dump())
    assert [picture[0].native, picture[2].native, picture[3].native] == ["PNG", 42, 42]
    ext = core.Sequence.load(core.Sequence.load(info[4].dump())[0].dump())
    assert len(ext) == 3 and ext[1].native is False  # critical written even when FALSE
    assert top[2].dotted == SM2_WITH_SM3
    assert isinstance(top[3], core.BitString)


@pytest.mark.parametrize(
    ("kind", "data"), [("png", PNG), ("jpg", _jpeg()), ("svg", SVG)], ids=["png", "jpg", "svg"]
)
def test_picture_types_round_trip(kind: str, data: bytes) -> None:
    parsed = parse_seal(seal_der(picture=SealPicture(kind, data, 18, 18)))
    assert parsed.info.picture == SealPicture(kind, data, 18, 18)


def test_extensions_and_microseconds() -> None:
    ext = (SealExtension("1.2.3.4", b"\x01", critical=True), SealExtension("1.2.3.5", b""))
    start = NOW.replace(microsecond=123456)
    parsed = parse_seal(seal_der(extensions=ext, valid_start=start))
    assert parsed.info.extensions == ext
    assert parsed.info.valid_start == NOW  # GeneralizedTime written to the second


class _Signer:
    """A maker key held elsewhere (what a PKCS#11 or USBKey maker looks like)."""

    def __init__(self, key: keymod.PrivateKey) -> None:
        self._key = key
        self.calls: list[str] = []

    def sign(self, algorithm: str, *, data: bytes | None, digest: bytes | None) -> bytes:
        self.calls.append(algorithm)
        return signatures.sign(self._key, algorithm, data=data, digest=digest)


def test_maker_behind_a_signer_protocol() -> None:
    maker = party("maker", "rsa")
    signer = _Signer(maker.key)
    der = make_seal(seal_info(), signer, maker.cert)
    assert signer.calls == ["rsa-pkcs1-sha256"]
    assert verify_seal(parse_seal(der), at=NOW).ok


def test_maker_key_must_match_maker_certificate() -> None:
    with pytest.raises(InvalidSealInput):
        make_seal(seal_info(), party("holder", "sm2").key, party("maker", "sm2").cert)
    with pytest.raises(InvalidSealInput):  # RSA key, SM2 certificate
        make_seal(seal_info(), party("maker", "rsa").key, party("maker", "sm2").cert)


def test_ecdsa_maker_refused() -> None:
    maker = party("maker", "ec")
    with pytest.raises(InvalidSealInput, match="SM2 or RSA"):
        make_seal(seal_info(), maker.key, maker.cert)


# --- certificate digest list -------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["sm3", "sha256"])
def test_certificate_digest_list(algorithm: Any) -> None:
    holder = party("holder", "sm2").cert.der
    digest = CertDigest.of(holder, algorithm)
    parsed = parse_seal(seal_der(certificates=(), cert_digests=(digest,)))
    assert parsed.info.cert_list_type == 2
    assert parsed.info.certificates == ()
    assert parsed.info.cert_digests == (digest,)
    assert parsed.info.lists_certificate(holder)
    assert not parsed.info.lists_certificate(party("maker", "sm2").cert.der)
    assert verify_seal(parsed, at=NOW).ok


def test_certificate_list_names_holder() -> None:
    parsed = parse_seal(seal_der())
    assert parsed.info.cert_list_type == 1
    assert parsed.info.lists_certificate(party("holder", "sm2").cert.der)
    assert not parsed.info.lists_certificate(party("maker", "sm2").cert.der)


def test_unknown_digest_type_matches_nothing() -> None:
    holder = party("holder", "sm2").cert.der
    assert not CertDigest("md5", b"\x00" * 16).matches(holder)
    assert CertDigest("SHA-256", CertDigest.of(holder, "sha256").value).matches(holder)


# --- tampering ---------------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["sm2", "rsa"])
def test_tampered_signature(alg: str) -> None:
    der = seal_der(alg)
    tampered = der[:-1] + bytes([der[-1] ^ 0x01])  # the signature is the last field
    check = verify_seal(parse_seal(tampered), at=NOW)
    assert not check.signature_valid and not check.ok
    assert check.problems == ("seal_signature_invalid",)
    with pytest.raises(SealSignatureInvalid):
        check.raise_if_invalid()


def test_tampered_picture() -> None:
    der = seal_der()
    other = PNG[:-5] + bytes([PNG[-5] ^ 0xFF]) + PNG[-4:]
    check = verify_seal(parse_seal(replace_once(der, PNG, other)), at=NOW)
    assert not check.signature_valid


def test_tampered_name() -> None:
    der = replace_once(seal_der(), "合同专用章".encode(), "财务专用章".encode())
    parsed = parse_seal(der)
    assert parsed.info.name == "测试单位 财务专用章"
    assert not verify_seal(parsed, at=NOW).signature_valid


def test_tampered_validity() -> None:
    info = seal_info()
    der = seal_der()
    end = info.valid_end.strftime("%Y%m%d%H%M%SZ").encode()
    later = (info.valid_end + timedelta(days=3650)).strftime("%Y%m%d%H%M%SZ").encode()
    assert not verify_seal(parse_seal(replace_once(der, end, later)), at=NOW).signature_valid


def test_algorithm_and_key_mismatch() -> None:
    seal = asn1_v4.SESeal.load(seal_der("sm2"))
    seal["sign_alg_id"] = RSA_SHA256
    check = verify_seal(parse_seal(seal.dump()), at=NOW)
    assert not check.signature_valid
    assert check.problems == ("algorithm_key_mismatch",)


def test_unsupported_algorithm() -> None:
    seal = asn1_v4.SESeal.load(seal_der("rsa"))
    seal["sign_alg_id"] = "1.2.840.113549.1.1.5"  # sha1WithRSAEncryption
    check = verify_seal(parse_seal(seal.dump()), at=NOW)
    assert not check.signature_valid and check.algorithm is None
    assert check.problems == ("unsupported_algorithm",)


# --- validity ----------------------------------------------------------------------------------


def test_expired_and_not_yet_valid() -> None:
    info = seal_info()
    parsed = parse_seal(seal_der())

    late = verify_seal(parsed, at=info.valid_end + timedelta(seconds=1))
    assert late.signature_valid and late.validity == "expired" and not late.ok
    assert late.problems == ("seal_expired",)
    with pytest.raises(SealExpired):
        late.raise_if_invalid()

    early = verify_seal(parsed, at=info.valid_start - timedelta(seconds=1))
    assert early.validity == "not_yet_valid" and early.problems == ("seal_not_yet_valid",)
    with pytest.raises(SealNotYetValid):
        early.raise_if_invalid()

    assert verify_seal(parsed, at=info.valid_end).validity == "valid"  # bounds included
    naive = verify_seal(parsed, at=(info.valid_end + timedelta(hours=1)).replace(tzinfo=None))
    assert naive.validity == "expired" and naive.checked_at.tzinfo is UTC


def test_default_time_is_now() -> None:
    info = seal_info(
        valid_start=datetime.now(UTC) - timedelta(days=1),
        valid_end=datetime.now(UTC) + timedelta(days=1),
    )
    maker = party("maker", "sm2")
    check = verify_seal(parse_seal(make_seal(info, maker.key, maker.cert)))
    assert check.ok
    assert abs(check.checked_at - datetime.now(UTC)) < timedelta(minutes=1)


# --- version 1 (GM/T 0031) ---------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["sm2", "rsa"])
@pytest.mark.parametrize("header_version", [1, 2])
def test_v1_decoding(alg: str, header_version: int) -> None:
    info = seal_info()
    parsed = parse_seal(v1_seal(alg, header_version=header_version))
    assert parsed.version == 1 and parsed.header_version == header_version
    assert parsed.standard == "GM/T 0031-2014"
    assert parsed.info.seal_id == info.seal_id
    assert parsed.info.name == info.name
    assert parsed.info.seal_type == 1
    assert seal_types.type_name(parsed.info.seal_type, parsed.version)[0] == "单位印章"
    assert parsed.info.certificates == info.certificates
    assert parsed.info.cert_list_type == 1
    assert parsed.info.valid_end == info.valid_end
    assert parsed.info.picture == SealPicture("png", PNG, 40, 40)
    assert parsed.info.vid == "OLDVENDOR"
    check = verify_seal(parsed, at=NOW)
    assert check.ok, check.problems


def test_v1_tampered_name() -> None:
    der = replace_once(v1_seal(), "合同专用章".encode(), "财务专用章".encode())
    assert not verify_seal(parse_seal(der), at=NOW).signature_valid


def test_v1_signed_content_is_info_cert_and_algorithm() -> None:
    der = v1_seal()
    seal = asn1_v1.SESealV1.load(der)
    expected = asn1_v1.SignedContent(
        {
            "e_seal_info": seal["e_seal_info"],
            "cert": seal["sign_info"]["cert"],
            "signature_algorithm": seal["sign_info"]["signature_algorithm"],
        }
    ).dump()
    assert parse_seal(der).signed_data == expected


# --- headers and versions ----------------------------------------------------------------------


def test_unsupported_header_version() -> None:
    der = seal_der()
    for version in (b"\x05", b"\x03", b"\x01"):
        with pytest.raises(UnsupportedSealVersion) as caught:
            parse_seal(
                replace_once(der, b"\x16\x02ES\x02\x01\x04", b"\x16\x02ES\x02\x01" + version)
            )
        assert caught.value.code == "unsupported_seal_version"


def test_v1_layout_with_version_4_header() -> None:
    with pytest.raises(UnsupportedSealVersion):
        parse_seal(v1_seal(header_version=4))


def test_wrong_header_id() -> None:
    with pytest.raises(MalformedSeal, match="'ES'") as caught:
        parse_seal(replace_once(seal_der(), b"\x16\x02ES", b"\x16\x02XX"))
    assert type(caught.value) is MalformedSeal


def test_five_field_seal_is_unsupported() -> None:
    der = seal_der()
    top = core.Sequence.load(der)
    five = core.Sequence(contents=top.contents + b"\x05\x00").dump()
    with pytest.raises(UnsupportedSealVersion, match="version 5"):
        parse_seal(five)


def test_unknown_cert_list_type() -> None:
    seal = asn1_v4.SESeal.load(seal_der())
    seal["e_seal_info"]["property"]["cert_list_type"] = 3
    with pytest.raises(MalformedSeal, match="certListType"):
        parse_seal(seal.dump(force=True))


# --- pictures ----------------------------------------------------------------------------------


def test_making_refuses_picture_type_mismatch() -> None:
    with pytest.raises(SealPictureMismatch) as caught:
        seal_der(picture=SealPicture("jpg", PNG, 42, 42))
    assert caught.value.code == "seal_picture_mismatch"
    with pytest.raises(SealPictureMismatch):
        seal_der(picture=SealPicture("svg", b"<html></html>", 42, 42))
    with pytest.raises(SealPictureMismatch):
        seal_der(picture=SealPicture("png", b"", 42, 42))
    with pytest.raises(UnsupportedSealPicture):
        seal_der(picture=SealPicture("tiff", b"II*\x00", 42, 42))


def test_reading_refuses_picture_type_mismatch() -> None:
    der = replace_once(seal_der(), b"\x16\x03PNG", b"\x16\x03JPG")
    with pytest.raises(SealPictureMismatch, match="declared JPG"):
        parse_seal(der)
    with pytest.raises(UnsupportedSealPicture):
        parse_seal(replace_once(seal_der(), b"\x16\x03PNG", b"\x16\x03XYZ"))


@pytest.mark.parametrize(
    ("declared", "data", "kind"),
    [
        ("PNG", PNG, "png"),
        ("image/png", PNG, "png"),
        ("JPEG", _jpeg(), "jpg"),
        ("image/svg+xml", SVG, "svg"),
        ("GIF", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "gif"),
        ("BMP", b"BM" + b"\x00" * 60, "bmp"),
        ("OFD", b"PK\x03\x04" + b"\x00" * 26, "ofd"),
    ],
)
def test_picture_sniffing(declared: str, data: bytes, kind: str) -> None:
    assert pictures.check_picture(declared, data) == kind
    assert pictures.sniff(data) == kind


def test_declared_type_spellings() -> None:
    der = replace_once(seal_der(picture=SealPicture("jpg", _jpeg(), 9, 9)), b"JPG", b"jpg")
    assert parse_seal(der).info.picture.type == "jpg"


# --- limits and malformed input ----------------------------------------------------------------


def test_size_limit() -> None:
    der = seal_der()
    with pytest.raises(SealTooLarge) as caught:
        parse_seal(der, max_bytes=len(der) - 1)
    assert isinstance(caught.value, MalformedSeal) and caught.value.code == "seal_too_large"
    assert parse_seal(der, max_bytes=len(der)).info.seal_id
    maker = party("maker", "sm2")
    with pytest.raises(SealTooLarge):
        make_seal(seal_info(), maker.key, maker.cert, max_bytes=len(der) - 10)


def test_truncated_and_garbage() -> None:
    der = seal_der()
    for cut in (0, 1, 2, 10, len(der) // 2, len(der) - 1):
        with pytest.raises(MalformedSeal):
            parse_seal(der[:cut])
    with pytest.raises(MalformedSeal):
        parse_seal(der + b"\x00")  # trailing bytes
    with pytest.raises(MalformedSeal):
        parse_seal(b"\x30\x03\x02\x01\x01")
    with pytest.raises(MalformedSeal):
        parse_seal("not bytes")  # type: ignore[arg-type]


def test_unreadable_maker_certificate() -> None:
    seal = asn1_v4.SESeal.load(seal_der())
    seal["cert"] = b"\x30\x03\x02\x01\x01"
    with pytest.raises(MalformedSeal, match="maker's certificate"):
        parse_seal(seal.dump())


def test_signature_bit_string_with_unused_bits() -> None:
    der = seal_der()
    seal = asn1_v4.SESeal.load(der)
    tlv, contents = seal["signed_value"].dump(), seal["signed_value"].contents
    odd = tlv[: -len(contents)] + b"\x01" + contents[1:]
    tampered = replace_once(der, tlv, odd)
    with pytest.raises(MalformedSeal, match="unused bits"):
        parse_seal(tampered)


@pytest.mark.parametrize(
    "changes",
    [
        {"seal_id": ""},
        {"seal_id": "印章"},
        {"vid": "x" * 200},
        {"name": "  "},
        {"seal_type": -1},
        {"seal_type": True},
        {"valid_end": NOW - timedelta(days=2)},
        {"created": datetime(2026, 1, 1)},
        {"certificates": ()},
        {"cert_digests": (CertDigest("sm3", b"\x00" * 32),)},
        {"certificates": (b"not a certificate",)},
        {"certificates": (), "cert_digests": (CertDigest("sm3 #1", b"\x00"),)},
        {"picture": SealPicture("PNG", PNG, 42, 42)},
        {"picture": SealPicture("png", PNG, 0, 42)},
        {"extensions": (SealExtension("not an oid", b""),)},
    ],
    ids=lambda c: ",".join(c),
)
def test_make_refuses_bad_input(changes: dict[str, Any]) -> None:
    with pytest.raises(InvalidSealInput):
        seal_der(**changes)


# --- interop: seals made by ofdrw and by another vendor ----------------------------------------


def test_ofdrw_v4_seal() -> None:
    parsed = parse_seal((DATA / "ofdrw-UserV4.esl").read_bytes())
    assert parsed.version == 4
    assert parsed.info.name == "OFD R&W 测试用印章"
    assert parsed.info.vid == "OFDR&WTest"
    assert parsed.info.seal_type == 3
    assert parsed.info.picture.type == "png"
    assert (parsed.info.picture.width_mm, parsed.info.picture.height_mm) == (40, 40)
    assert len(parsed.info.certificates) == 1
    assert parsed.info.valid_end == datetime(2022, 4, 22, 2, 9, tzinfo=UTC)
    assert parsed.maker_certificate.subject.rfc4514.startswith("CN=Test Certificate")
    check = verify_seal(parsed, at=datetime(2021, 1, 1, tzinfo=UTC))
    assert check.ok and check.algorithm == "sm2-sm3"


def test_ofdrw_v1_seal() -> None:
    parsed = parse_seal((DATA / "ofdrw-UserV1.esl").read_bytes())
    assert parsed.version == 1 and parsed.header_version == 1
    assert parsed.info.name == "OFDRW测试用印章"
    assert parsed.info.valid_start == datetime(2020, 4, 22, 2, 18, 7, tzinfo=UTC)
    assert verify_seal(parsed, at=datetime(2021, 1, 1, tzinfo=UTC)).ok


def test_vendor_v4_seal_decodes() -> None:
    """A third vendor's seal (in ofdrw's test data): decodes in full, but its maker signature
    verifies under neither the GB/T 38540 rule nor the GM/T 0031 one (README in data/)."""
    parsed = parse_seal((DATA / "ofdrw-SESealData.der").read_bytes())
    assert parsed.version == 4
    assert parsed.info.vid == "Vid HebeiGede"
    assert parsed.info.seal_id == "esID130600"
    assert parsed.info.seal_type == seal_types.CONTRACT
    assert parsed.info.name.endswith("合同专用章")
    assert parsed.info.picture.type == "gif"
    assert len(parsed.info.certificates) == 2
    assert [e.critical for e in parsed.info.extensions] == [False, True, False]
    assert parsed.info.extensions[0].oid == "1.2.156.112600.7.1"
    check = verify_seal(parsed, at=datetime(2021, 1, 1, tzinfo=UTC))
    assert check.validity == "valid" and not check.signature_valid


# --- errors and type codes ---------------------------------------------------------------------


def test_errors_have_codes_and_chinese_messages() -> None:
    classes = [
        MalformedSeal,
        SealTooLarge,
        UnsupportedSealVersion,
        SealPictureMismatch,
        UnsupportedSealPicture,
        InvalidSealInput,
        SealSignatureInvalid,
        SealExpired,
        SealNotYetValid,
    ]
    codes = {cls.code for cls in classes}
    assert len(codes) == len(classes) and SealError.code not in codes
    for cls in classes:
        assert issubclass(cls, SealError) and getattr(errors, cls.__name__) is cls
        assert any("\u4e00" <= ch <= "\u9fff" for ch in cls.message_zh)
        assert cls("x").message_zh == cls.message_zh
        assert cls("x", zh="具体原因").message_zh == "具体原因"


def test_type_codes() -> None:
    assert seal_types.BY_RECORD_TYPE == {
        "legal_person": 1,
        "contract": 4,
        "finance": 2,
        "personal": 99,
    }
    assert seal_types.type_name(seal_types.CONTRACT) == ("合同专用章", "contract seal")
    assert seal_types.type_name(2, version=1)[0] == "个人印章"
    assert seal_types.type_name(42)[1] == "unknown type (42)"
