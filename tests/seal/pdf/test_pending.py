"""Two-phase stamping (the holder's USBKey through the bridge): the pending stamp's blob, its
integrity checks, and the signature check in ``complete``."""

from __future__ import annotations

import dataclasses

import pytest
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from cert_interop import signatures
from seal.pdf import (
    Level,
    PendingStamp,
    PendingStampInvalid,
    Placement,
    SignatureRejected,
    TimestamperMissing,
    complete,
    prepare,
    verify_pdf,
)
from seal.pdf.pending import FORMAT_VERSION, MAGIC
from tests.seal.pdf.conftest import Pki
from tests.seal.pdf.pdfs import make_pdf
from tests.seal.pdf.tsa_server import dummy_timestamper

ALGS = ["rsa", "ecdsa", "sm2"]
KEY = b"k" * 32


def _prepared(
    pdf_pki: Pki, alg: str, seal_picture: bytes, pages: int = 2, **kw: object
) -> PendingStamp:
    ca = pdf_pki.ca(alg)
    return prepare(
        make_pdf(pages),
        placement=Placement.at(1, 200, 200),
        picture=seal_picture,
        certificate=ca.leaf.cert,
        chain=[ca.cert],
        **kw,  # type: ignore[arg-type]
    )


def _sign(pdf_pki: Pki, alg: str, pending: PendingStamp) -> bytes:
    return signatures.sign(pdf_pki.ca(alg).leaf.key, pending.algorithm, data=pending.to_be_signed)


@pytest.mark.parametrize("alg", ALGS)
def test_round_trip_with_a_key(pdf_pki: Pki, seal_picture: bytes, alg: str) -> None:
    pending = _prepared(pdf_pki, alg, seal_picture, seal_id="S-9")
    assert pending.algorithm == {"rsa": "rsa-pkcs1-sha256", "ecdsa": "ecdsa-sha256"}.get(
        alg, "sm2-sm3"
    )
    back = PendingStamp.from_bytes(pending.to_bytes(KEY), KEY)
    assert back == pending
    signed = complete(back, _sign(pdf_pki, alg, back))
    report = verify_pdf(signed)
    assert report.all_ok and report.signatures[0].seal_id == "S-9"


def test_keyed_and_unkeyed_blobs_do_not_mix(pdf_pki: Pki, seal_picture: bytes) -> None:
    pending = _prepared(pdf_pki, "rsa", seal_picture)
    with pytest.raises(PendingStampInvalid):
        PendingStamp.from_bytes(pending.to_bytes(KEY))
    with pytest.raises(PendingStampInvalid):
        PendingStamp.from_bytes(pending.to_bytes(), KEY)
    with pytest.raises(PendingStampInvalid, match="altered"):
        PendingStamp.from_bytes(pending.to_bytes(KEY), b"another key")


@pytest.mark.parametrize("where", ["header", "document", "tag"])
def test_tampered_blob_is_refused(pdf_pki: Pki, seal_picture: bytes, where: str) -> None:
    blob = bytearray(_prepared(pdf_pki, "sm2", seal_picture).to_bytes(KEY))
    at = {"header": len(MAGIC) + 20, "document": len(blob) // 2, "tag": len(blob) - 1}[where]
    blob[at] ^= 0x01
    with pytest.raises(PendingStampInvalid) as err:
        PendingStamp.from_bytes(bytes(blob), KEY)
    assert err.value.code == "pdf_pending_invalid" and err.value.message_zh


def test_tampered_unkeyed_blob_is_refused(pdf_pki: Pki, seal_picture: bytes) -> None:
    blob = bytearray(_prepared(pdf_pki, "rsa", seal_picture).to_bytes())
    blob[len(blob) // 2] ^= 0x40
    with pytest.raises(PendingStampInvalid):
        PendingStamp.from_bytes(bytes(blob))


@pytest.mark.parametrize(
    "blob", [b"", b"junk", b"HURENPDFSEAL", bytes(range(256)) * 4, "text", None, 42]
)
def test_foreign_blobs_are_refused(blob: object) -> None:
    with pytest.raises(PendingStampInvalid):
        PendingStamp.from_bytes(blob)


def test_another_format_version_is_refused(pdf_pki: Pki, seal_picture: bytes) -> None:
    blob = _prepared(pdf_pki, "rsa", seal_picture).to_bytes()
    newer = blob[: len(MAGIC)] + bytes([FORMAT_VERSION + 1]) + blob[len(MAGIC) + 1 :]
    with pytest.raises(PendingStampInvalid, match="format 2"):
        PendingStamp.from_bytes(newer)


def test_a_forged_pending_object_is_refused(pdf_pki: Pki, seal_picture: bytes) -> None:
    """Even a well-formed blob must describe a consistent stamp before anything is embedded."""
    pending = _prepared(pdf_pki, "rsa", seal_picture)
    other = _prepared(pdf_pki, "rsa", seal_picture, pages=3)
    signature = _sign(pdf_pki, "rsa", pending)
    forged = [
        dataclasses.replace(pending, document=other.document),
        dataclasses.replace(pending, to_be_signed=other.to_be_signed),
        dataclasses.replace(pending, certificate=pdf_pki.ecdsa.leaf.cert.der),
        dataclasses.replace(pending, reserved_start=pending.reserved_start + 2),
        dataclasses.replace(pending, certificate=b"not a certificate"),
    ]
    for p in forged:
        with pytest.raises(PendingStampInvalid):
            complete(PendingStamp.from_bytes(p.to_bytes()), signature)


@pytest.mark.parametrize("alg", ALGS)
def test_a_wrong_signature_is_refused(pdf_pki: Pki, seal_picture: bytes, alg: str) -> None:
    pending = _prepared(pdf_pki, alg, seal_picture)
    ca = pdf_pki.ca(alg)
    wrong_key = signatures.sign(ca.key, pending.algorithm, data=pending.to_be_signed)
    wrong_data = signatures.sign(ca.leaf.key, pending.algorithm, data=b"something else")
    for signature in (wrong_key, wrong_data, b"", b"\x30\x00", bytes(72)):
        with pytest.raises(SignatureRejected) as err:
            complete(pending, signature)
        assert err.value.code == "pdf_signature_invalid"


@pytest.mark.parametrize("alg", ["ecdsa", "sm2"])
def test_raw_r_s_signatures_are_accepted(pdf_pki: Pki, seal_picture: bytes, alg: str) -> None:
    """SKF tokens and WebCrypto return r || s rather than DER."""
    pending = _prepared(pdf_pki, alg, seal_picture)
    r, s = decode_dss_signature(_sign(pdf_pki, alg, pending))
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    assert verify_pdf(complete(pending, raw)).all_ok


def test_an_in_process_timestamper_must_be_given_again(pdf_pki: Pki, seal_picture: bytes) -> None:
    stamper = dummy_timestamper(pdf_pki.tsa_cert, pdf_pki.tsa_key)
    pending = _prepared(pdf_pki, "ecdsa", seal_picture, level=Level.B_T, timestamper=stamper)
    assert pending.tsa_url is None
    back = PendingStamp.from_bytes(pending.to_bytes())
    with pytest.raises(TimestamperMissing):
        complete(back, _sign(pdf_pki, "ecdsa", back))
    signed = complete(back, _sign(pdf_pki, "ecdsa", back), timestamper=stamper)
    timestamp = verify_pdf(signed).signatures[0].timestamp
    assert timestamp is not None and timestamp.valid


@pytest.mark.parametrize("alg", ALGS)
def test_tokens_that_sign_digests(pdf_pki: Pki, seal_picture: bytes, alg: str) -> None:
    """PKCS#11 and SKF keys often take the digest (e = SM3(Z || M) for SM2) instead of data."""
    pending = _prepared(pdf_pki, alg, seal_picture)
    signature = signatures.sign(
        pdf_pki.ca(alg).leaf.key, pending.algorithm, digest=pending.digest_to_sign
    )
    assert verify_pdf(complete(pending, signature)).all_ok
