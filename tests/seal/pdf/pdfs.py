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


# --- raw content streams over several kinds of font (the keyword scan's equivalence tests) ----

SIMPLE_DIFFERENCES = {0x80: "uni76D6", 0x81: "uni7AE0", 0x82: "parenleft", 0x83: "parenright"}
"""``/F3``'s ``/Differences``: 盖 章 ( ) at 0x80-0x83."""
SIMPLE_TO_UNICODE = {0x41: "Ａ", 0x42: "ﬁ", 0x43: " ", 0x44: "e\u0301", 0x45: "（"}
"""``/F3``'s ToUnicode CMap: full-width, ligature, space, combining accent, full-width bracket."""


def _to_unicode_cmap(
    w: PdfFileWriter, mapping: dict[int, str], code_bytes: int
) -> generic.IndirectObject:
    digits = 2 * code_bytes
    bfchar = "\n".join(
        f"<{code:0{digits}X}> <{text.encode('utf-16-be').hex().upper()}>"
        for code, text in mapping.items()
    )
    cmap = (
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
        f"{len(mapping)} beginbfchar\n{bfchar}\nendbfchar\n"
        "endcmap CMapName currentdict /CMap defineresource pop end end"
    ).encode("ascii")
    return w.add_object(generic.StreamObject(stream_data=cmap))


def _type0_font(w: PdfFileWriter, text: str, widths: list[int]) -> generic.IndirectObject:
    """Type0 / Identity-H: CIDs 1..n are the characters of ``text`` with ``widths``; CID n+1 has
    no ToUnicode entry (no text) and the default width."""
    descendant = pdf_dict_of(
        Type="/Font",
        Subtype="/CIDFontType2",
        BaseFont="/SimSun",
        DW=generic.NumberObject(1000),
        W=generic.ArrayObject(
            [
                generic.NumberObject(1),
                generic.ArrayObject([generic.NumberObject(x) for x in widths]),
            ]
        ),
    )
    return w.add_object(
        pdf_dict_of(
            Type="/Font",
            Subtype="/Type0",
            BaseFont="/SimSun",
            Encoding="/Identity-H",
            DescendantFonts=generic.ArrayObject([w.add_object(descendant)]),
            ToUnicode=_to_unicode_cmap(w, {i + 1: c for i, c in enumerate(text)}, 2),
        )
    )


def _simple_font(w: PdfFileWriter, *, indirect_descriptor: bool = False) -> generic.IndirectObject:
    """A TrueType font with ``/Widths`` from 32, ``/Differences`` over MacRoman and a ToUnicode
    CMap (see :data:`SIMPLE_DIFFERENCES`, :data:`SIMPLE_TO_UNICODE`)."""
    differences: list[generic.PdfObject] = []
    for code, name in SIMPLE_DIFFERENCES.items():
        differences += [generic.NumberObject(code), pdf_name(f"/{name}")]
    descriptor = pdf_dict_of(Type="/FontDescriptor", MissingWidth=generic.NumberObject(333))
    return w.add_object(
        pdf_dict_of(
            Type="/Font",
            Subtype="/TrueType",
            BaseFont="/Demo",
            FirstChar=generic.NumberObject(32),
            Widths=generic.ArrayObject(
                [generic.NumberObject(250 + (k * 37) % 700) for k in range(0x90 - 32)]
            ),
            Encoding=pdf_dict_of(
                BaseEncoding="/MacRomanEncoding", Differences=generic.ArrayObject(differences)
            ),
            FontDescriptor=w.add_object(descriptor) if indirect_descriptor else descriptor,
            ToUnicode=_to_unicode_cmap(w, SIMPLE_TO_UNICODE, 1),
        )
    )


def pdf_dict_of(**entries: object) -> generic.DictionaryObject:
    """``pdf_dict_of(Type="/Font", W=array)``: names for strings starting with "/"."""
    return generic.DictionaryObject(
        {
            pdf_name(f"/{k}"): pdf_name(v) if isinstance(v, str) and v.startswith("/") else v
            for k, v in entries.items()
        }
    )


def content_pdf(
    pages: list[list[bytes]],
    *,
    page_fonts: list[list[str]] | None = None,
    form: bytes = b"",
    form_matrix: tuple[float, ...] = (1, 0, 0, 1, 0, 0),
    form_fonts: list[str] | None = None,
    cjk_text: str = CJK_TEXT,
    cjk_widths: list[int] | None = None,
) -> bytes:
    """Pages drawn by the raw content streams given (one list of streams per page).

    The fonts are ``/F1`` Courier, ``/F2`` a Type0 font whose CIDs 1.. are ``cjk_text``,
    ``/F3`` a simple font with ``/Differences`` and ToUnicode, ``/F4`` the same with an indirect
    ``/FontDescriptor``; a page has those of ``page_fonts`` (all by default). The XObjects are
    ``/Fm0``, a form drawing ``form`` with ``form_matrix`` (with its own ``/Resources`` holding
    ``form_fonts`` if given, else inheriting the page's), and ``/Im0``, an image."""
    w = PdfFileWriter()
    widths = cjk_widths or [1000] * len(cjk_text)
    fonts = {
        "/F1": _courier(w),
        "/F2": _type0_font(w, cjk_text, widths),
        "/F3": _simple_font(w),
        "/F4": _simple_font(w, indirect_descriptor=True),
    }

    def font_dict(names: list[str]) -> generic.DictionaryObject:
        return generic.DictionaryObject({pdf_name(n): fonts[n] for n in names})

    form_dict = pdf_dict_of(
        Type="/XObject",
        Subtype="/Form",
        BBox=generic.ArrayObject([generic.NumberObject(v) for v in (0, 0, 600, 900)]),
        Matrix=generic.ArrayObject([generic.FloatObject(v) for v in form_matrix]),
    )
    if form_fonts is not None:
        form_dict[pdf_name("/Resources")] = pdf_dict_of(Font=font_dict(form_fonts))
    xobjects = generic.DictionaryObject(
        {
            pdf_name("/Fm0"): w.add_object(generic.StreamObject(form_dict, stream_data=form)),
            pdf_name("/Im0"): w.add_object(
                generic.StreamObject(
                    pdf_dict_of(
                        Type="/XObject",
                        Subtype="/Image",
                        Width=generic.NumberObject(1),
                        Height=generic.NumberObject(1),
                        ColorSpace="/DeviceGray",
                        BitsPerComponent=generic.NumberObject(8),
                    ),
                    stream_data=b"\x00",
                )
            ),
        }
    )
    for i, streams in enumerate(pages):
        refs = [w.add_object(generic.StreamObject(stream_data=s)) for s in streams]
        names = list(fonts) if page_fonts is None else page_fonts[i]
        w.insert_page(
            PageObject(
                contents=refs if len(refs) != 1 else refs[0],
                media_box=A4,
                resources=pdf_dict_of(Font=font_dict(names), XObject=xobjects),
            )
        )
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()
