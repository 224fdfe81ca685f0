"""The seal's picture, read once and checked before anything is drawn.

PNG and JPEG are decoded with Pillow (pyhanko draws bitmaps through it). SVG is checked as
hostile input and drawn by svglib/reportlab into a one-page PDF (:mod:`seal.pdf.svg`), which
stamping imports as a form XObject: the seal stays vector graphics at any zoom.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from typing import Literal

from PIL import Image

from seal.pdf.errors import PictureTooLarge, PictureUnreadable, UnsupportedPicture
from seal.pdf.svg import render_svg

__all__ = ["MAX_PICTURE_BYTES", "MAX_PICTURE_SIDE", "SealPicture"]

MAX_PICTURE_BYTES = 4 * 1024 * 1024
MAX_PICTURE_SIDE = 4096
"""Pixels per side; a seal drawn at 42 mm needs far less, this keeps decoding cheap."""


def _looks_like_svg(data: bytes) -> bool:
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<?xml", b"<svg", b"<!--", b"<!doctype svg")) and b"<svg" in head


@dataclass(frozen=True)
class SealPicture:
    """A decoded picture: its format, its size, and what a PDF draws of it.

    PNG/JPEG: ``width``/``height`` in pixels and a Pillow ``image``. SVG: ``width``/``height``
    in points and ``pdf``, a one-page PDF whose page is the picture. Either way only the ratio
    of the two sides matters to stamping: the seal is drawn ``size_mm`` wide."""

    format: Literal["png", "jpeg", "svg"]
    width: float
    height: float
    image: Image.Image | None = field(default=None, repr=False, compare=False)
    """RGB, RGBA or L (the modes pyhanko's image writer accepts); None for SVG."""
    pdf: bytes | None = field(default=None, repr=False, compare=False)
    """The SVG drawn by reportlab as a one-page PDF; None for PNG/JPEG."""

    @property
    def aspect(self) -> float:
        """Height over width."""
        return self.height / self.width

    @classmethod
    def load(cls, data: object) -> SealPicture:
        """Decode PNG, JPEG or SVG bytes; typed errors for junk, refused SVG and oversized
        pictures."""
        if not isinstance(data, bytes | bytearray | memoryview):
            raise PictureUnreadable("the seal picture must be given as bytes")
        raw = bytes(data)
        if not raw:
            raise PictureUnreadable("the seal picture is empty", zh="印章图片为空")
        if len(raw) > MAX_PICTURE_BYTES:
            raise PictureTooLarge(f"the seal picture is over {MAX_PICTURE_BYTES} bytes")
        if _looks_like_svg(raw):
            rendered = render_svg(raw)
            return cls("svg", rendered.size.width, rendered.size.height, pdf=rendered.pdf)
        if raw.startswith(b"\x89PNG\r\n\x1a\n"):
            fmt: Literal["png", "jpeg"] = "png"
        elif raw.startswith(b"\xff\xd8\xff"):
            fmt = "jpeg"
        else:
            raise UnsupportedPicture(
                "the seal picture is not PNG, JPEG or SVG",
                zh="印章图片须为 PNG、JPEG 或 SVG 格式",
            )
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                img = Image.open(io.BytesIO(raw), formats=["PNG" if fmt == "png" else "JPEG"])
                width, height = img.size
                if width > MAX_PICTURE_SIDE or height > MAX_PICTURE_SIDE:
                    raise PictureTooLarge(
                        f"the seal picture is {width}x{height} pixels, over "
                        f"{MAX_PICTURE_SIDE} per side"
                    )
                img.load()
        except PictureTooLarge:
            raise
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError, Warning) as exc:
            raise PictureUnreadable(f"the seal picture cannot be decoded: {exc}") from exc
        if width < 1 or height < 1:
            raise PictureUnreadable("the seal picture has no pixels")
        return cls(fmt, width, height, image=_pdf_ready(img))


def _pdf_ready(img: Image.Image) -> Image.Image:
    """Convert to a mode pyhanko writes: keep transparency, drop palettes and CMYK."""
    has_alpha = img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info
    if has_alpha:
        return img.convert("RGBA")
    if img.mode in ("L", "1", "I;16", "I"):
        return img.convert("L")
    return img.convert("RGB")
