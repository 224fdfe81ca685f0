"""Where the seal goes: a point on a page, or centred on a keyword found in the page text.

Coordinates are PDF points from the page's lower-left corner and name the seal's *centre*, the
same anchor a keyword placement uses; ``size_mm`` is the displayed width (the height follows the
picture's aspect ratio). A real official seal is 38-45 mm across, hence the default of 42.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from seal.pdf.document import Rect, page_box, page_count, page_index
from seal.pdf.errors import InvalidPlacement, KeywordNotFound
from seal.pdf.textscan import find_keyword

__all__ = ["MAX_SIZE_MM", "MIN_SIZE_MM", "POINTS_PER_MM", "Placement", "SealBox", "resolve"]

POINTS_PER_MM = 72 / 25.4
MIN_SIZE_MM = 5.0
MAX_SIZE_MM = 300.0
MAX_KEYWORD = 200


def check_size(size_mm: object) -> float:
    if not isinstance(size_mm, int | float) or not MIN_SIZE_MM <= float(size_mm) <= MAX_SIZE_MM:
        raise InvalidPlacement(f"the seal size must be {MIN_SIZE_MM}-{MAX_SIZE_MM} mm")
    return float(size_mm)


@dataclass(frozen=True)
class Placement:
    """Either ``page`` + ``x`` + ``y`` or ``keyword`` (optionally limited to ``page``).

    ``page`` is 1-based, ``-1`` is the last page. Build with :meth:`at` or :meth:`at_keyword`.
    """

    page: int | None = -1
    x: float | None = None
    y: float | None = None
    keyword: str | None = None
    size_mm: float = 42.0

    def __post_init__(self) -> None:
        check_size(self.size_mm)
        if self.page is not None and (
            not isinstance(self.page, int) or self.page == 0 or self.page < -1
        ):
            raise InvalidPlacement("page is 1-based (or -1 for the last page)")
        if self.keyword is not None:
            if self.x is not None or self.y is not None:
                raise InvalidPlacement("give either x and y or a keyword, not both")
            if not isinstance(self.keyword, str) or not self.keyword.strip():
                raise InvalidPlacement("the keyword is empty")
            if len(self.keyword) > MAX_KEYWORD:
                raise InvalidPlacement(f"the keyword is longer than {MAX_KEYWORD} characters")
            return
        if self.page is None:
            raise InvalidPlacement("a placement by coordinates needs a page")
        for v in (self.x, self.y):
            if not isinstance(v, int | float) or not math.isfinite(v):
                raise InvalidPlacement("x and y must be finite numbers of points")

    @classmethod
    def at(cls, page: int, x: float, y: float, *, size_mm: float = 42.0) -> Placement:
        """The seal centred on ``(x, y)`` of ``page``."""
        return cls(page=page, x=x, y=y, size_mm=size_mm)

    @classmethod
    def at_keyword(
        cls, keyword: str, *, page: int | None = None, size_mm: float = 42.0
    ) -> Placement:
        """The seal centred on the first occurrence of ``keyword`` (on ``page`` if given)."""
        return cls(page=page, keyword=keyword, size_mm=size_mm)


@dataclass(frozen=True)
class SealBox:
    """A placement resolved against a document: 0-based page index and the seal's rectangle."""

    page_index: int
    rect: Rect


def seal_size(size_mm: float, aspect: float) -> tuple[float, float]:
    """Width and height in points of a picture shown ``size_mm`` wide."""
    width = size_mm * POINTS_PER_MM
    return width, width * aspect


def resolve(placement: Placement, reader: Any, aspect: float) -> SealBox:
    """Turn a placement into a page and a rectangle; typed errors for impossible ones."""
    count = page_count(reader)
    if placement.keyword is not None:
        pages = (
            [page_index(placement.page, count)]
            if placement.page is not None
            else list(range(count))
        )
        hit = find_keyword(reader, placement.keyword, pages)
        if hit is None:
            raise KeywordNotFound(
                f"the keyword {placement.keyword!r} does not occur in the document text",
                zh=f"文档中未找到关键字“{placement.keyword}”",
            )
        index, (cx, cy) = hit
    else:
        assert placement.page is not None and placement.x is not None and placement.y is not None
        index = page_index(placement.page, count)
        cx, cy = float(placement.x), float(placement.y)
        x0, y0, x1, y1 = page_box(reader, index)
        if not (x0 <= cx <= x1 and y0 <= cy <= y1):
            raise InvalidPlacement(
                f"the point ({cx:g}, {cy:g}) is outside page {index + 1} "
                f"({x0:g} {y0:g} {x1:g} {y1:g})",
                zh="盖章位置超出页面范围",
            )
    w, h = seal_size(placement.size_mm, aspect)
    return SealBox(index, (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2))
