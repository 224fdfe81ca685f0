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


# --- what real documents do -------------------------------------------------------------------


def test_text_after_a_filled_shape_and_shown_by_quote_operators_is_found() -> None:
    """Table shading (`re f`, `re f*`) before the text, and lines shown with ' and "."""
    from tests.seal.pdf.pdfs import content_pdf

    stream = (
        b"0.9 g 60 690 200 20 re f 0 g BT /F1 10 Tf 72 700 Td (after fill) Tj ET "
        b"0 0 1 1 re f* BT /F1 10 Tf 12 TL 72 600 Td (first) ' 1 0 (second) \" ET"
    )
    pdf = content_pdf([[stream]], page_fonts=[["/F1"]])
    text = page_text(_reader(pdf), 0)
    assert "after fill" in text and "first" in text and "second" in text
    hit = find_keyword(_reader(pdf), "after fill", [0])
    assert hit is not None and hit[0] == 0
    assert hit[1][0] == pytest.approx(72 + 10 * COURIER * len("after fill") / 2)
    # ' moves to the next line (TL 12) before showing; " sets word and char spacing too
    first = find_keyword(_reader(pdf), "first", [0])
    second = find_keyword(_reader(pdf), "second", [0])
    assert first is not None and second is not None
    assert first[1][1] == pytest.approx(second[1][1] + 12, abs=0.01)
    assert first[1][1] < 600


def _font_pdf(*, indirect: bool) -> bytes:
    """One page in a TrueType font whose /Widths, /FontDescriptor and form /Resources are given
    directly or, as most PDF writers do, as indirect objects."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.generic import pdf_name
    from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter

    from tests.seal.pdf.pdfs import A4, pdf_dict_of

    w = PdfFileWriter()

    def maybe(obj: generic.PdfObject) -> generic.PdfObject:
        return w.add_object(obj) if indirect else obj

    widths = generic.ArrayObject([generic.NumberObject(400 + 10 * k) for k in range(95)])
    font = w.add_object(
        pdf_dict_of(
            Type="/Font",
            Subtype="/TrueType",
            BaseFont="/Demo",
            FirstChar=generic.NumberObject(32),
            Widths=maybe(widths),
            FontDescriptor=maybe(
                pdf_dict_of(Type="/FontDescriptor", MissingWidth=generic.NumberObject(333))
            ),
            Encoding="/WinAnsiEncoding",
        )
    )
    resources = pdf_dict_of(Font=generic.DictionaryObject({pdf_name("/F1"): font}))
    form = generic.StreamObject(
        pdf_dict_of(
            Type="/XObject",
            Subtype="/Form",
            BBox=generic.ArrayObject([generic.NumberObject(v) for v in (0, 0, 600, 900)]),
            Resources=maybe(resources),
        ),
        stream_data=b"BT /F1 10 Tf 300 100 Td (in the form) Tj ET",
    )
    page = b"BT /F1 10 Tf 72 700 Td (Bidder seal here) Tj ET /Fm0 Do"
    w.insert_page(
        PageObject(
            contents=w.add_object(generic.StreamObject(stream_data=page)),
            media_box=A4,
            resources=pdf_dict_of(
                Font=generic.DictionaryObject({pdf_name("/F1"): font}),
                XObject=generic.DictionaryObject({pdf_name("/Fm0"): w.add_object(form)}),
            ),
        )
    )
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def test_fonts_and_resources_given_as_indirect_objects() -> None:
    direct, indirect = _font_pdf(indirect=False), _font_pdf(indirect=True)
    for pdf in (direct, indirect):
        assert "in the form" in page_text(_reader(pdf), 0)
    here = find_keyword(_reader(indirect), "seal here", [0])
    assert here == find_keyword(_reader(direct), "seal here", [0])
    # the widths were read: "Bidder " is 7 glyphs of 400 + 10 * (code - 32) / 1000 em
    advance = sum(400 + 10 * (ord(c) - 32) for c in "Bidder ") / 1000 * 10
    width = sum(400 + 10 * (ord(c) - 32) for c in "seal here") / 1000 * 10
    assert here is not None and here[1][0] == pytest.approx(72 + advance + width / 2)
    form = find_keyword(_reader(indirect), "in the form", [0])
    assert form == find_keyword(_reader(direct), "in the form", [0]) and form is not None
