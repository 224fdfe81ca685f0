"""Bad caller input when stamping: every refusal is a typed ``SealError`` with a stable code."""

from __future__ import annotations

import contextlib
import io
import random
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from pyhanko.sign.fields import MDPPerm

from cert_interop.x509 import build_certificate
from seal.errors import SealError
from seal.pdf import (
    EncryptedPdf,
    FieldNameTaken,
    InvalidPlacement,
    InvalidRequest,
    InvalidSigner,
    KeywordNotFound,
    Level,
    NotAPdf,
    PageOutOfRange,
    PdfLocked,
    PdfSealSigner,
    PdfTooLarge,
    PictureTooLarge,
    PictureUnreadable,
    Placement,
    RevocationInfoUnavailable,
    TimestamperMissing,
    TimestampFailed,
    UnsupportedPicture,
    prepare,
    stamp_pdf,
)
from tests.seal.pdf.checks import pyhanko_sign
from tests.seal.pdf.conftest import Pki
from tests.seal.pdf.pdfs import make_pdf

SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'


def _stamp(pdf_pki: Pki, pdf: object, seal_picture: bytes, **kw: object) -> bytes:
    kw.setdefault("placement", Placement.at(1, 100, 100))
    return stamp_pdf(pdf, signer=pdf_pki.rsa.signer(), picture=seal_picture, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("page", [4, 99, -2])
def test_page_out_of_range(pdf_pki: Pki, seal_picture: bytes, page: int) -> None:
    with pytest.raises((PageOutOfRange, InvalidPlacement)) as err:
        _stamp(pdf_pki, make_pdf(3), seal_picture, placement=Placement(page=page, x=10, y=10))
    assert err.value.code in ("pdf_page_out_of_range", "pdf_invalid_placement")


def test_page_numbers(pdf_pki: Pki, seal_picture: bytes) -> None:
    with pytest.raises(PageOutOfRange) as err:
        _stamp(pdf_pki, make_pdf(3), seal_picture, placement=Placement.at(4, 100, 100))
    assert err.value.code == "pdf_page_out_of_range" and "3" in err.value.message_zh
    with pytest.raises(InvalidPlacement):
        Placement.at(0, 100, 100)
    last = _stamp(pdf_pki, make_pdf(3), seal_picture, placement=Placement.at(-1, 100, 100))
    assert last


def test_keyword_missing(pdf_pki: Pki, seal_picture: bytes) -> None:
    with pytest.raises(KeywordNotFound) as err:
        _stamp(pdf_pki, make_pdf(2), seal_picture, placement=Placement.at_keyword("盖章处"))
    assert err.value.code == "pdf_keyword_not_found" and "盖章处" in err.value.message_zh


def test_encrypted_pdf(pdf_pki: Pki, seal_picture: bytes) -> None:
    with pytest.raises(EncryptedPdf) as err:
        _stamp(pdf_pki, make_pdf(1, encrypt=True), seal_picture)
    assert err.value.code == "pdf_encrypted"


@pytest.mark.parametrize("data", [b"", b"hello", b"GIF89a", "a string", b"%PDF-1.7 but nothing"])
def test_not_a_pdf(pdf_pki: Pki, seal_picture: bytes, data: object) -> None:
    with pytest.raises(NotAPdf) as err:
        _stamp(pdf_pki, data, seal_picture)
    assert err.value.code == "pdf_not_pdf" and isinstance(err.value, SealError)


def test_oversized_pdf(pdf_pki: Pki, seal_picture: bytes) -> None:
    with pytest.raises(PdfTooLarge):
        _stamp(pdf_pki, make_pdf(1), seal_picture, max_pdf_bytes=500)


@pytest.mark.parametrize(
    ("picture", "error"),
    [
        (b"", PictureUnreadable),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, PictureUnreadable),
        (b"\xff\xd8\xff\xe0 truncated jpeg", PictureUnreadable),
        (b"GIF89a", UnsupportedPicture),
        (SVG, UnsupportedPicture),
        (b"\xef\xbb\xbf  <svg xmlns='http://www.w3.org/2000/svg'/>", UnsupportedPicture),
        ("not bytes", PictureUnreadable),
    ],
)
def test_bad_pictures(pdf_pki: Pki, picture: object, error: type[SealError]) -> None:
    with pytest.raises(error):
        _stamp(pdf_pki, make_pdf(1), picture)  # type: ignore[arg-type]


def test_oversized_pictures(pdf_pki: Pki) -> None:
    out = io.BytesIO()
    Image.new("L", (5000, 10), 0).save(out, "PNG")
    with pytest.raises(PictureTooLarge):
        _stamp(pdf_pki, make_pdf(1), out.getvalue())
    with pytest.raises(PictureTooLarge):
        _stamp(pdf_pki, make_pdf(1), b"\x89PNG\r\n\x1a\n" + bytes(5 * 1024 * 1024))


def test_bad_placements(pdf_pki: Pki, seal_picture: bytes) -> None:
    with pytest.raises(InvalidPlacement):
        _stamp(pdf_pki, make_pdf(1), seal_picture, placement=Placement.at(1, 9000, 100))
    for bad in (
        lambda: Placement.at(1, 100, 100, size_mm=1),
        lambda: Placement.at(1, float("nan"), 100),
        lambda: Placement.at_keyword("  "),
        lambda: Placement(page=1, x=1, y=1, keyword="both"),
    ):
        with pytest.raises(InvalidPlacement):
            bad()


def test_field_name_taken(pdf_pki: Pki, seal_picture: bytes) -> None:
    with pytest.raises(FieldNameTaken):
        _stamp(pdf_pki, make_pdf(1, text_field=True), seal_picture, field_name="bidder_name")


def test_signer_checks(pdf_pki: Pki) -> None:
    with pytest.raises(InvalidSigner) as err:
        PdfSealSigner(pdf_pki.ecdsa.leaf.key, pdf_pki.rsa.leaf.cert)
    assert err.value.code == "pdf_invalid_signer"
    with pytest.raises(InvalidSigner):
        PdfSealSigner(object(), pdf_pki.rsa.leaf.cert)  # type: ignore[arg-type]
    now = datetime.now(UTC)
    encryption_only = build_certificate(
        subject=[("CN", "encryption only")],
        subject_public_key=pdf_pki.rsa.leaf.key.public_key(),
        issuer_key=pdf_pki.rsa.key,
        issuer=pdf_pki.rsa.cert,
        not_before=now - timedelta(minutes=5),
        not_after=now + timedelta(days=1),
        key_usage={"key_encipherment"},
    )
    with pytest.raises(InvalidSigner, match="not a signing certificate"):
        PdfSealSigner(pdf_pki.rsa.leaf.key, encryption_only)


def test_levels_need_their_inputs(pdf_pki: Pki, seal_picture: bytes) -> None:
    with pytest.raises(TimestamperMissing):
        _stamp(pdf_pki, make_pdf(1), seal_picture, level=Level.B_T)
    with pytest.raises(RevocationInfoUnavailable):
        _stamp(
            pdf_pki, make_pdf(1), seal_picture, level=Level.B_LT, timestamper="http://127.0.0.1:9/"
        )
    with pytest.raises(TimestampFailed):
        _stamp(pdf_pki, make_pdf(1), seal_picture, level=Level.B_T, timestamper="ftp://nowhere")
    with pytest.raises(TimestampFailed) as err:  # nothing listens on the discard port
        prepare(
            make_pdf(1),
            placement=Placement.at(1, 100, 100),
            picture=seal_picture,
            certificate=pdf_pki.rsa.leaf.cert,
            level=Level.B_T,
            timestamper="http://127.0.0.1:9/tsa",
        )
    assert err.value.code == "pdf_timestamp_failed"


def test_a_certified_document_that_forbids_changes(pdf_pki: Pki, seal_picture: bytes) -> None:
    locked = pyhanko_sign(
        make_pdf(1),
        pdf_pki.rsa.leaf.key,
        pdf_pki.rsa.leaf.cert,
        pdf_pki.rsa.cert,
        certify=True,
        docmdp_permissions=MDPPerm.NO_CHANGES,
    )
    with pytest.raises(PdfLocked) as err:
        _stamp(pdf_pki, locked, seal_picture)
    assert err.value.code == "pdf_locked"


def test_bad_options(pdf_pki: Pki, seal_picture: bytes) -> None:
    for options in (
        {"seal_id": "x" * 129},
        {"seal_id": ""},
        {"reason": "line\nbreak"},
        {"field_name": "a.b"},
        {"signing_time": datetime(2025, 1, 1)},
        {"placement": (1, 100, 100)},
        {"level": "B-T"},
    ):
        with pytest.raises(InvalidRequest) as err:
            _stamp(pdf_pki, make_pdf(1), seal_picture, **options)
        assert err.value.code == "pdf_invalid_request"


def test_corrupted_documents_give_typed_errors(pdf_pki: Pki, seal_picture: bytes) -> None:
    base = make_pdf(2, lines={0: [(100, 100, "HERE")]})
    rnd = random.Random(11)
    for i in range(40):
        data = bytearray(base)
        for _ in range(rnd.randint(1, 10)):
            data[rnd.randrange(len(data))] = rnd.randrange(256)
        placement = Placement.at_keyword("HERE") if i % 2 else Placement.at(1, 100, 100)
        with contextlib.suppress(SealError):  # anything else fails the test
            _stamp(pdf_pki, bytes(data), seal_picture, placement=placement)
