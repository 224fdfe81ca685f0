"""A QR code as SVG (the `qrcode` package's SVG image factory: no Pillow, no JavaScript).

Error correction level M (15 %), the standard 4-module quiet zone, a white background so that a
dark page theme cannot make it unreadable, and a unitless ``viewBox`` so the page's CSS sizes it.
"""

from __future__ import annotations

import re

import qrcode
import qrcode.constants
from qrcode.image.svg import SvgPathFillImage

MAX_TEXT = 1024


def svg(text: str) -> bytes:
    """The SVG document of a QR code encoding `text` (UTF-8)."""
    if not text or len(text) > MAX_TEXT:
        raise ValueError(f"QR code text must be 1 to {MAX_TEXT} characters")
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        border=4,
        image_factory=SvgPathFillImage,
    )
    code.add_data(text)
    code.make(fit=True)
    document: str = code.make_image().to_string(encoding="unicode")
    # scale with the page: drop the fixed millimetre size, keep the viewBox
    document = re.sub(r'\s(width|height)="[0-9.]+mm"', "", document, count=2)
    if not document.startswith("<?xml"):
        document = "<?xml version='1.0' encoding='UTF-8'?>\n" + document
    return document.encode("utf-8")


__all__ = ["svg"]
