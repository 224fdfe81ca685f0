"""Real PDFs for the tests, written with pyhanko's writer: text pages, Chinese text in a Type0
font with a ToUnicode CMap (as Word/WPS write it), an AcroForm text field, encryption."""

from __future__ import annotations

import io

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name, pdf_string
from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter

A4 = (0.0, 0.0, 595.0, 842.0)
CJK_TEXT = "投标人（盖章）"
CJK_AT = (100.0, 300.0)
CJK_SIZE = 14.0


def _courier(w: PdfFileWriter) -> generic.IndirectObject:
    return w.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Font"),
                pdf_name("/Subtype"): pdf_name("/Type1"),
                pdf_name("/BaseFont"): pdf_name("/Courier"),
                pdf_name("/Encoding"): pdf_name("/WinAnsiEncoding"),
            }
        )
    )


def _cjk_font(w: PdfFileWriter, text: str) -> generic.IndirectObject:
    """A Type0 / Identity-H font whose CIDs 1..n are the characters of ``text``."""
    bfchar = "\n".join(f"<{i + 1:04X}> <{ord(c):04X}>" for i, c in enumerate(text))
    cmap = (
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
        "1 begincodespacerange <0000> <FFFF> endcodespacerange\n"
        f"{len(text)} beginbfchar\n{bfchar}\nendbfchar\n"
        "endcmap CMapName currentdict /CMap defineresource pop end end"
    ).encode("ascii")
    to_unicode = w.add_object(generic.StreamObject(stream_data=cmap))
    descendant = generic.DictionaryObject(
        {
            pdf_name("/Type"): pdf_name("/Font"),
            pdf_name("/Subtype"): pdf_name("/CIDFontType2"),
            pdf_name("/BaseFont"): pdf_name("/SimSun"),
            pdf_name("/DW"): generic.NumberObject(1000),
            pdf_name("/W"): generic.ArrayObject(
                [
                    generic.NumberObject(1),
                    generic.ArrayObject([generic.NumberObject(1000)] * len(text)),
                ]
            ),
        }
    )
    return w.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Font"),
                pdf_name("/Subtype"): pdf_name("/Type0"),
                pdf_name("/BaseFont"): pdf_name("/SimSun"),
                pdf_name("/Encoding"): pdf_name("/Identity-H"),
                pdf_name("/DescendantFonts"): generic.ArrayObject([w.add_object(descendant)]),
                pdf_name("/ToUnicode"): to_unicode,
            }
        )
    )


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(
    pages: int = 3,
    *,
    lines: dict[int, list[tuple[float, float, str]]] | None = None,
    cjk_page: int | None = None,
    text_field: bool = False,
    encrypt: bool = False,
) -> bytes:
    """``pages`` A4 pages saying "Page n"; ``lines`` adds Courier 12 text per 0-based page;
    ``cjk_page`` draws :data:`CJK_TEXT` at :data:`CJK_AT` in a Type0 font on that page."""
    w = PdfFileWriter()
    courier = _courier(w)
    cjk = _cjk_font(w, CJK_TEXT) if cjk_page is not None else None
    page_refs = []
    for i in range(pages):
        ops = [f"BT /F1 12 Tf 72 800 Td (Page {i + 1}) Tj ET"]
        for x, y, text in (lines or {}).get(i, []):
            ops.append(f"BT /F1 12 Tf {x} {y} Td ({_escape(text)}) Tj ET")
        fonts = generic.DictionaryObject({pdf_name("/F1"): courier})
        if cjk is not None and i == cjk_page:
            codes = "".join(f"{k + 1:04X}" for k in range(len(CJK_TEXT)))
            ops.append(f"BT /F2 {CJK_SIZE} Tf {CJK_AT[0]} {CJK_AT[1]} Td <{codes}> Tj ET")
            fonts[pdf_name("/F2")] = cjk
        stream = w.add_object(generic.StreamObject(stream_data="\n".join(ops).encode("ascii")))
        resources = generic.DictionaryObject({pdf_name("/Font"): fonts})
        page_refs.append(
            w.insert_page(PageObject(contents=stream, media_box=A4, resources=resources))
        )
    if text_field:
        _add_text_field(w, page_refs[0])
    if encrypt:
        w.encrypt("owner-secret", "user-secret")
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def _add_text_field(w: PdfFileWriter, page_ref: generic.IndirectObject) -> None:
    field = w.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Annot"),
                pdf_name("/Subtype"): pdf_name("/Widget"),
                pdf_name("/FT"): pdf_name("/Tx"),
                pdf_name("/T"): pdf_string("bidder_name"),
                pdf_name("/V"): pdf_string("ACME Ltd"),
                pdf_name("/Rect"): generic.ArrayObject(
                    [generic.FloatObject(v) for v in (72, 600, 300, 620)]
                ),
                pdf_name("/P"): page_ref,
            }
        )
    )
    page = page_ref.get_object()
    page[pdf_name("/Annots")] = generic.ArrayObject([field])
    w.root[pdf_name("/AcroForm")] = generic.DictionaryObject(
        {pdf_name("/Fields"): generic.ArrayObject([field])}
    )
    w.update_root()
