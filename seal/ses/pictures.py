"""The seal picture's declared type, checked against what its bytes are.

``SES_ESPictrueInfo.type`` is free text ("GIF、BMP、JPG、SVG 等"; ofdrw writes ``PNG``, a
vendor seal ``GIF``). A picture whose bytes are not what the type says is drawn wrongly or not at
all by other readers, and a mismatch is a cheap sign of a forged or broken seal, so both making
and reading refuse it. Types are kept lower-case here (as ``seal.records`` stores them) and written
upper-case (as the standard's examples and other implementations spell them).
"""

from __future__ import annotations

import re
from typing import Final

from ..errors import SealPictureMismatch, UnsupportedSealPicture

KNOWN_TYPES: Final = ("png", "jpg", "gif", "bmp", "svg", "ofd")
_ALIASES: Final = {"jpeg": "jpg", "svg+xml": "svg"}
_SVG_ROOT = re.compile(rb"<svg[\s>/]", re.IGNORECASE)
_SVG_STARTS = (b"<?xml", b"<svg", b"<!--", b"<!doctype svg")


def canonical_type(declared: str) -> str:
    """``png``, ``jpg``, … for a declared type such as ``PNG``, ``jpeg`` or ``image/png``."""
    key = declared.strip().lower().removeprefix("image/").removeprefix(".")
    key = _ALIASES.get(key, key)
    if key not in KNOWN_TYPES:
        raise UnsupportedSealPicture(
            f"unsupported seal picture type {declared[:20]!r}; one of {', '.join(KNOWN_TYPES)}",
            zh=f"不支持的印章图片类型 {declared[:20]!r}",
        )
    return key


def sniff(data: bytes) -> str | None:
    """What the bytes are (one of :data:`KNOWN_TYPES`), or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data.startswith(b"BM") and len(data) > 14:
        return "bmp"
    if data.startswith(b"PK\x03\x04"):
        return "ofd"  # an OFD document is a ZIP package
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.lower().startswith(_SVG_STARTS) and _SVG_ROOT.search(head):
        return "svg"
    return None


def check_picture(declared: str, data: bytes) -> str:
    """The canonical type when ``data`` is what ``declared`` says; a typed refusal otherwise."""
    kind = canonical_type(declared)
    found = sniff(data)
    if found != kind:
        what = "empty" if not data else (found or "not a known picture format")
        raise SealPictureMismatch(
            f"the seal picture is declared {kind.upper()} but its bytes are {what}",
            zh=f"印章图片声明为 {kind.upper()}，但内容不符",
        )
    return kind
