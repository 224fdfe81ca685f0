"""Keyword placement: the content-stream text scan, for simple fonts and Type0 CJK fonts."""

from __future__ import annotations

import io

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from seal.pdf import Placement, stamp_pdf, verify_pdf
from seal.pdf.textscan import find_keyword, page_text, parse_to_unicode
from tests.seal.pdf.conftest import Pki
from tests.seal.pdf.pdfs import CJK_AT, CJK_SIZE, CJK_TEXT, make_pdf

COURIER = 0.6  # em per glyph


def _reader(pdf: bytes) -> PdfFileReader:
    return PdfFileReader(io.BytesIO(pdf))


def _centre(pdf: bytes, field: str = "HurenSeal1") -> tuple[int, tuple[float, float]]:
    reader = _reader(pdf)
    fields = reader.root["/AcroForm"]["/Fields"]
    f = next(fields[i] for i in range(len(fields)) if fields[i]["/T"] == field)
    x0, y0, x1, y1 = (float(v) for v in f["/Rect"])
    kids = reader.root["/Pages"]["/Kids"]
    page = next(
        i
        for i in range(len(kids))
        if any(a.get_object()["/T"] == field for a in kids[i].get("/Annots", []))
    )
    return page, ((x0 + x1) / 2, (y0 + y1) / 2)


def test_latin_keyword_inside_a_line(pdf_pki: Pki, seal_picture: bytes) -> None:
    line = "Bidder (seal): ____"
    pdf = make_pdf(3, lines={1: [(100, 400, line)]})
    signed = stamp_pdf(
        pdf,
        signer=pdf_pki.rsa.signer(),
        picture=seal_picture,
        placement=Placement.at_keyword("(seal)"),
    )
    page, (cx, cy) = _centre(signed)
    start = line.index("(seal)")
    expected_x = 100 + (start + len("(seal)") / 2) * COURIER * 12
    assert page == 1
    assert (cx, cy) == pytest.approx((expected_x, 400 + 0.35 * 12))
    assert verify_pdf(signed).all_ok


def test_chinese_keyword_in_a_type0_font(pdf_pki: Pki, seal_picture: bytes) -> None:
    pdf = make_pdf(2, cjk_page=1)
    assert CJK_TEXT in page_text(_reader(pdf), 1)
    for keyword in ("（盖章）", "(盖章)", "盖 章"):  # NFKC and whitespace folding
        signed = stamp_pdf(
            pdf,
            signer=pdf_pki.sm2.signer(),
            picture=seal_picture,
            placement=Placement.at_keyword(keyword),
        )
        page, (cx, cy) = _centre(signed)
        start = CJK_TEXT.index("盖") - (0 if keyword == "盖 章" else 1)
        n = 2 if keyword == "盖 章" else 4
        assert page == 1
        assert cx == pytest.approx(CJK_AT[0] + (start + n / 2) * CJK_SIZE)
        assert cy == pytest.approx(CJK_AT[1] + 0.35 * CJK_SIZE)


def test_first_occurrence_and_page_restriction(pdf_pki: Pki, seal_picture: bytes) -> None:
    pdf = make_pdf(3, lines={0: [(50, 500, "SIGN")], 2: [(300, 100, "SIGN")]})
    reader = _reader(pdf)
    first = find_keyword(reader, "SIGN", range(3))
    assert first is not None and first[0] == 0
    last = find_keyword(reader, "SIGN", [2])
    assert last is not None and last[0] == 2
    assert find_keyword(reader, "SIGN", [1]) is None
    signed = stamp_pdf(
        pdf,
        signer=pdf_pki.ecdsa.signer(),
        picture=seal_picture,
        placement=Placement.at_keyword("SIGN", page=-1),
    )
    assert _centre(signed)[0] == 2


def test_text_positioning_operators() -> None:
    """TJ adjustments, Tm, T*, form XObjects: the positions follow the text state."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.generic import pdf_name
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    w = IncrementalPdfFileWriter(io.BytesIO(make_pdf(1)))
    form = generic.StreamObject(
        {
            pdf_name("/Type"): pdf_name("/XObject"),
            pdf_name("/Subtype"): pdf_name("/Form"),
            pdf_name("/BBox"): generic.ArrayObject(
                [generic.NumberObject(v) for v in (0, 0, 500, 500)]
            ),
            pdf_name("/Matrix"): generic.ArrayObject(
                [generic.NumberObject(v) for v in (1, 0, 0, 1, 200, 0)]
            ),
        },
        stream_data=b"BT /F1 10 Tf 0 0 Td (INFORM) Tj ET",
    )
    page_content = (
        b"q 2 0 0 2 0 0 cm BT /F1 10 Tf 1 0 0 1 10 20 Tm [(AB) -1000 (CD)] TJ 14 TL T* (XY) Tj ET Q"
        b" /Fm0 Do"
    )
    w.add_stream_to_page(
        0,
        w.add_object(generic.StreamObject(stream_data=page_content)),
        resources=generic.DictionaryObject(
            {pdf_name("/XObject"): generic.DictionaryObject({pdf_name("/Fm0"): w.add_object(form)})}
        ),
    )
    out = io.BytesIO()
    w.write(out)
    reader = _reader(out.getvalue())
    # "CD" starts after "AB" (2 glyphs of 6) plus a one-em TJ gap (10), then doubled by the cm
    hit = find_keyword(reader, "CD", [0])
    assert hit is not None
    assert hit[1] == pytest.approx((2 * (10 + 12 + 10 + 6), 2 * (20 + 3.5)))
    hit = find_keyword(reader, "XY", [0])
    assert hit is not None and hit[1] == pytest.approx((2 * (10 + 6), 2 * (20 - 14 + 3.5)))
    hit = find_keyword(reader, "INFORM", [0])
    assert hit is not None and hit[1] == pytest.approx((200 + 18, 3.5))


def test_to_unicode_parsing() -> None:
    cmap = b"""
    2 beginbfchar <0003> <0020> <00B1> <76D6> endbfchar
    2 beginbfrange <0010> <0012> <0041> <0020> <0021> [<7AE0> <0028>] endbfrange
    1 beginbfchar <0005> <D83DDE00> endbfchar
    """
    table = parse_to_unicode(cmap)
    assert table[3] == " " and table[0xB1] == "盖"
    assert [table[c] for c in (0x10, 0x11, 0x12)] == ["A", "B", "C"]
    assert table[0x20] == "章" and table[0x21] == "("
    assert table[5] == "\U0001f600"
