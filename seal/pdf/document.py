"""Open the caller's PDF for stamping and answer questions about its pages.

Every refusal of the input document (not a PDF, too big, encrypted, locked by a certification
signature, page out of range) happens here, before anything is drawn or signed.
"""

from __future__ import annotations

import io
from typing import Any, cast

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import MDPPerm
from pyhanko.sign.validation import read_certification_data

from seal.pdf.errors import EncryptedPdf, NotAPdf, PageOutOfRange, PdfLocked, PdfTooLarge

__all__ = [
    "DEFAULT_MAX_PDF_BYTES",
    "Rect",
    "check_pdf_bytes",
    "open_for_stamping",
    "open_reader",
    "page_box",
    "page_count",
    "page_index",
]

DEFAULT_MAX_PDF_BYTES = 64 * 1024 * 1024
"""Largest document accepted by default (the whole file is held in memory while signing)."""

Rect = tuple[float, float, float, float]
"""``(x0, y0, x1, y1)`` in PDF points, lower-left then upper-right."""


def check_pdf_bytes(data: object, max_bytes: int) -> bytes:
    """The bytes of a PDF, or a typed refusal when they cannot be one."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise NotAPdf("the document must be given as bytes", zh="PDF 文档须以字节形式提供")
    raw = bytes(data)
    if len(raw) > max_bytes:
        raise PdfTooLarge(f"the document is {len(raw)} bytes, over the limit of {max_bytes}")
    if b"%PDF-" not in raw[:1024]:
        raise NotAPdf("no %PDF- header in the first 1024 bytes")
    return raw


def open_reader(raw: bytes) -> PdfFileReader:
    """A lenient reader over ``raw``; any parse failure is ``NotAPdf``."""
    try:
        reader = PdfFileReader(io.BytesIO(raw), strict=False)
        _ = reader.root["/Pages"]
    except Exception as exc:  # pyhanko raises many kinds of errors on broken files
        raise NotAPdf(f"the document cannot be read as a PDF: {exc}") from exc
    return reader


def open_for_stamping(data: object, max_bytes: int = DEFAULT_MAX_PDF_BYTES) -> PdfFileReader:
    """Check and open a document that is about to receive a seal."""
    raw = check_pdf_bytes(data, max_bytes)
    reader = open_reader(raw)
    if reader.encrypted:
        raise EncryptedPdf("the document is encrypted; decrypt it before stamping")
    try:
        certification = read_certification_data(reader)
        count = page_count(reader)
    except Exception as exc:
        raise NotAPdf(f"the document structure cannot be read: {exc}") from exc
    if certification is not None and certification.permission == MDPPerm.NO_CHANGES:
        raise PdfLocked("a certification signature forbids any change to this document")
    if count < 1:
        raise NotAPdf("the document has no pages", zh="PDF 文档没有页面")
    return reader


def page_count(handler: Any) -> int:
    return int(handler.root["/Pages"]["/Count"])


def page_index(page: int, count: int) -> int:
    """0-based index of a 1-based page number (``-1`` is the last page)."""
    if page == -1:
        return count - 1
    if not 1 <= page <= count:
        raise PageOutOfRange(
            f"page {page} is outside the document (1..{count}, or -1 for the last page)",
            zh=f"页码 {page} 超出文档范围（共 {count} 页）",
        )
    return page - 1


def _inherited(page: generic.DictionaryObject, key: str) -> Any:
    node: Any = page
    for _ in range(64):  # page trees are shallow; this bounds a malicious /Parent loop
        if key in node:
            return node[key]
        if "/Parent" not in node:
            return None
        node = node["/Parent"]
    return None


def page_box(handler: Any, index: int) -> Rect:
    """The visible area of a page: its CropBox (inherited if need be), else its MediaBox."""
    page_ref, _resources = handler.find_page_for_modification(index)
    page = cast(generic.DictionaryObject, page_ref.get_object())
    box = _inherited(page, "/CropBox") or _inherited(page, "/MediaBox")
    if box is None or len(box) != 4:
        return (0.0, 0.0, 595.0, 842.0)  # A4, what a viewer would assume
    x0, y0, x1, y1 = (float(v) for v in box)
    return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
