"""The paging seal (骑缝章): slices at the right edge, in the signed revision, reported back."""

from __future__ import annotations

import io

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from cert_interop import signatures
from seal.pdf import (
    PagingSeal,
    PagingSealTooFewPages,
    Placement,
    complete,
    prepare,
    stamp_pdf,
    verify_pdf,
)
from seal.pdf.paging import MARKER, find_slices, groups
from seal.pdf.placement import POINTS_PER_MM
from tests.seal.pdf.checks import pyhanko_status, raw_cms
from tests.seal.pdf.conftest import Pki
from tests.seal.pdf.pdfs import make_pdf


def test_a_one_page_document_has_no_paging_seal(pdf_pki: Pki, seal_picture: bytes) -> None:
    with pytest.raises(PagingSealTooFewPages) as err:
        stamp_pdf(
            make_pdf(1),
            signer=pdf_pki.rsa.signer(),
            placement=Placement.at(1, 100, 100),
            picture=seal_picture,
            paging=PagingSeal(),
        )
    assert err.value.code == "pdf_paging_too_few_pages"


@pytest.mark.parametrize("alg", ["rsa", "sm2"])
def test_five_pages(pdf_pki: Pki, seal_picture: bytes, alg: str) -> None:
    signed = stamp_pdf(
        make_pdf(5),
        signer=pdf_pki.ca(alg).signer(),
        placement=Placement.at(-1, 300, 150),
        picture=seal_picture,
        paging=PagingSeal(size_mm=40, y=400),
        seal_id="S-5",
    )
    report = verify_pdf(signed)
    (sig,) = report.signatures
    assert report.all_ok and sig.paging_seal_pages == (1, 2, 3, 4, 5)
    assert sig.coverage == "entire_file" and report.revisions == 2  # one update: slices + sig

    reader = PdfFileReader(io.BytesIO(signed))
    slices = sorted(find_slices(reader), key=lambda s: s.page_index)
    assert [(s.index, s.count) for s in slices] == [(i, 5) for i in range(1, 6)]
    assert {(s.field_name, s.seal_id) for s in slices} == {("HurenSeal1", "S-5")}
    width = 40 * POINTS_PER_MM
    for s in slices:
        form = reader.get_object(s.reference)
        bbox = [float(v) for v in form["/BBox"]]
        assert bbox[2] - bbox[0] == pytest.approx(width / 5, abs=1e-3)
        assert form[MARKER]["/Index"] == s.index
        # the slice's paint operation puts it flush with the right edge, centred on y=400
        page, _res = reader.find_page_for_modification(s.page_index)
        contents = page.get_object()["/Contents"]
        paint = contents[len(contents) - 1].data.decode()
        x, y = (float(v) for v in paint.split()[5:7])  # q 1 0 0 1 x y cm …
        assert x == pytest.approx(595 - width / 5, abs=1e-3)
        assert y == pytest.approx(400 - width / 2, abs=1e-3)
    if alg == "rsa":
        assert pyhanko_status(signed, "HurenSeal1", [pdf_pki.rsa.cert]).bottom_line
    else:
        assert raw_cms(signed, "HurenSeal1").valid


def test_paging_seal_in_two_phases(pdf_pki: Pki, seal_picture: bytes) -> None:
    ca = pdf_pki.ecdsa
    pending = prepare(
        make_pdf(3),
        placement=Placement.at(1, 200, 200),
        picture=seal_picture,
        certificate=ca.leaf.cert,
        paging=PagingSeal(),
    )
    signed = complete(
        pending, signatures.sign(ca.leaf.key, pending.algorithm, data=pending.to_be_signed)
    )
    assert verify_pdf(signed).signatures[0].paging_seal_pages == (1, 2, 3)


def test_long_documents_are_split_into_groups(pdf_pki: Pki, seal_picture: bytes) -> None:
    assert [len(g) for g in groups(45, 20)] == [15, 15, 15]
    assert [len(g) for g in groups(21, 20)] == [11, 10]
    assert [len(g) for g in groups(2, 20)] == [2]
    signed = stamp_pdf(
        make_pdf(7),
        signer=pdf_pki.rsa.signer(),
        placement=Placement.at(1, 200, 200),
        picture=seal_picture,
        paging=PagingSeal(max_pages_per_seal=3),
    )
    slices = sorted(find_slices(PdfFileReader(io.BytesIO(signed))), key=lambda s: s.page_index)
    assert [(s.index, s.count) for s in slices] == [
        (1, 3),
        (2, 3),
        (3, 3),
        (1, 2),
        (2, 2),
        (1, 2),
        (2, 2),
    ]
    assert verify_pdf(signed).signatures[0].paging_seal_pages == tuple(range(1, 8))


def test_a_later_paging_seal_changes_signed_pages(pdf_pki: Pki, seal_picture: bytes) -> None:
    """Slices are page content: drawing a second party's slices after the first signature is
    a change to pages that signature covers, and both verifiers say so."""
    pdf = stamp_pdf(
        make_pdf(2),
        signer=pdf_pki.rsa.signer(),
        placement=Placement.at(1, 200, 200),
        picture=seal_picture,
        paging=PagingSeal(y=600),
    )
    pdf = stamp_pdf(
        pdf,
        signer=pdf_pki.sm2.signer(),
        placement=Placement.at(2, 200, 200),
        picture=seal_picture,
        paging=PagingSeal(y=200),
    )
    first, second = verify_pdf(pdf).signatures
    assert first.intact and first.modification_level == "other" and first.modified_after_signing
    assert first.paging_seal_pages == (1, 2)  # its own slices, still drawn in its revision
    assert second.ok and second.paging_seal_pages == (1, 2)
    assert not pyhanko_status(pdf, "HurenSeal1", [pdf_pki.rsa.cert]).bottom_line
