"""Verification of tampered and malformed documents: reported precisely, never raised."""

from __future__ import annotations

import io
import random

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.diff_analysis import ModificationLevel

from seal.pdf import MalformedReason, Placement, stamp_pdf, verify_pdf
from tests.seal.pdf.checks import pyhanko_status
from tests.seal.pdf.conftest import Pki
from tests.seal.pdf.pdfs import make_pdf

ALGS = ["rsa", "ecdsa", "sm2"]


def _signed(pdf_pki: Pki, seal_picture: bytes, alg: str, pages: int = 2, **kw: object) -> bytes:
    return stamp_pdf(
        make_pdf(pages),
        signer=pdf_pki.ca(alg).signer(),
        placement=Placement.at(1, 200, 200),
        picture=seal_picture,
        **kw,  # type: ignore[arg-type]
    )


def _append_page_text(pdf: bytes, text: bytes) -> bytes:
    """An incremental update that draws more text on page 1 (a change to signed content)."""
    w = IncrementalPdfFileWriter(io.BytesIO(pdf))
    stream = w.add_object(
        generic.StreamObject(stream_data=b"BT /F1 30 Tf 100 500 Td (" + text + b") Tj ET")
    )
    w.add_stream_to_page(0, stream)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


@pytest.mark.parametrize("alg", ALGS)
def test_a_flipped_byte_in_the_signed_range(pdf_pki: Pki, seal_picture: bytes, alg: str) -> None:
    signed = _signed(pdf_pki, seal_picture, alg)
    at = signed.index(b"(Page 1)")
    forged = signed[:at] + b"(Page 7)" + signed[at + 8 :]
    report = verify_pdf(forged)
    (sig,) = report.signatures
    assert not sig.intact and sig.problem == "digest_mismatch" and not report.all_ok
    assert sig.coverage == "entire_file"  # nothing appended: the bytes themselves changed
    if alg != "sm2":
        status = pyhanko_status(forged, sig.field_name, [pdf_pki.ca(alg).cert])
        assert not status.intact and not status.bottom_line


@pytest.mark.parametrize("alg", ALGS)
def test_the_seal_id_is_covered(pdf_pki: Pki, seal_picture: bytes, alg: str) -> None:
    signed = _signed(pdf_pki, seal_picture, alg, seal_id="SEAL-0001")
    at = signed.index(b"/HurenSealID (") + len(b"/HurenSealID (")
    end = signed.index(b")", at)
    assert signed[end - 1 : end] == b"1"  # pyhanko escapes "-" as \055, the last digit is plain
    forged = signed[: end - 1] + b"2" + signed[end:]
    sig = verify_pdf(forged).signatures[0]
    assert sig.seal_id == "SEAL-0002" and not sig.intact


@pytest.mark.parametrize("alg", ALGS)
def test_an_update_changing_page_content(pdf_pki: Pki, seal_picture: bytes, alg: str) -> None:
    forged = _append_page_text(_signed(pdf_pki, seal_picture, alg), b"FORGED")
    report = verify_pdf(forged)
    (sig,) = report.signatures
    assert sig.intact  # the signed revision itself is untouched ...
    assert sig.coverage == "entire_revision" and sig.later_updates
    assert sig.modification_level == "other" and sig.modified_after_signing is True
    assert not sig.ok and not report.all_ok and report.revisions == 3
    if alg != "sm2":
        status = pyhanko_status(forged, sig.field_name, [pdf_pki.ca(alg).cert])
        assert status.intact and status.modification_level == ModificationLevel.OTHER
        assert not status.bottom_line


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("a string", MalformedReason.NOT_PDF),
        (None, MalformedReason.NOT_PDF),
        (b"", MalformedReason.NOT_PDF),
        (b"GIF89a not a pdf", MalformedReason.NOT_PDF),
        (b"%PDF-1.7\nthis is not a PDF body\n%%EOF", MalformedReason.UNREADABLE),
    ],
)
def test_malformed_input_is_reported(data: object, reason: MalformedReason) -> None:
    report = verify_pdf(data)
    assert report.malformed and report.malformed_reason is reason and report.detail
    assert report.signatures == () and not report.all_ok
    assert report.as_dict()["malformed_reason"] == reason.value


def test_oversized_and_encrypted_input(pdf_pki: Pki, seal_picture: bytes) -> None:
    signed = _signed(pdf_pki, seal_picture, "rsa")
    assert verify_pdf(signed, max_bytes=1000).malformed_reason is MalformedReason.TOO_LARGE
    encrypted = make_pdf(1, encrypt=True)
    assert verify_pdf(encrypted).malformed_reason is MalformedReason.ENCRYPTED


def test_truncated_document(pdf_pki: Pki, seal_picture: bytes) -> None:
    signed = _signed(pdf_pki, seal_picture, "sm2")
    report = verify_pdf(signed[: len(signed) * 2 // 3])
    assert report.malformed or not report.all_ok


def test_an_unsigned_document(pdf_pki: Pki) -> None:
    report = verify_pdf(make_pdf(2))
    assert not report.malformed and report.signatures == () and not report.all_ok


def test_a_garbled_signature_container(pdf_pki: Pki, seal_picture: bytes) -> None:
    signed = _signed(pdf_pki, seal_picture, "ecdsa")
    start = signed.index(b"/Contents <") + len(b"/Contents <")
    forged = signed[:start] + b"FF" * 64 + signed[start + 128 :]
    (sig,) = verify_pdf(forged).signatures
    assert not sig.intact and sig.problem == "cms_unparseable"


def test_random_corruption_never_raises(pdf_pki: Pki, seal_picture: bytes) -> None:
    signed = _signed(pdf_pki, seal_picture, "sm2", pages=1)
    rnd = random.Random(6)
    for _ in range(40):
        data = bytearray(signed)
        for _ in range(rnd.randint(1, 20)):
            data[rnd.randrange(len(data))] = rnd.randrange(256)
        report = verify_pdf(bytes(data))
        assert report.malformed or all(isinstance(s.intact, bool) for s in report.signatures)
        report.as_dict()


def test_report_as_dict(pdf_pki: Pki, seal_picture: bytes) -> None:
    d = verify_pdf(_signed(pdf_pki, seal_picture, "rsa", seal_id="X")).as_dict()
    (sig,) = d["signatures"]
    assert sig["intact"] and sig["seal_id"] == "X" and sig["algorithm"] == "rsa"
    assert sig["signer_certificate"] and d["dss"] == {
        "certificates": [],
        "crls": [],
        "ocsp_responses": [],
    }
