"""Which picture formats a seal may carry, recognised by content rather than by file name.

GB/T 38540 names the picture's type in the seal (`SES_ESPictrueInfo.type`); a picture whose bytes
are not what the type says would be drawn wrongly (or not at all) by other vendors' readers.
An SVG is also checked as :func:`seal.pdf.svg.check_svg` checks it before stamping (no DOCTYPE,
no external references or scripts, text outlined, something to draw), so a picture stamping
would refuse is refused when the seal is made rather than each time it is used (only svglib
can tell that, say, everything in it is ``display:none``: stamping still refuses that).
"""

from __future__ import annotations

from ..pdf.errors import PdfSealError
from ..pdf.svg import check_svg
from ..ses.pictures import sniff
from .errors import SealRefused

MAX_PICTURE_BYTES = 512 * 1024

ACCEPTED = ("png", "jpg", "svg")
"""What new seals may carry (older seals read by `ses` may also hold GIF or BMP)."""


def sniff_picture(data: bytes) -> str:
    """``png``, ``jpg`` or ``svg``; a typed refusal for anything else, anything too big, or an
    SVG that stamping would refuse."""
    if not data:
        raise SealRefused(
            "invalid_picture", "the seal picture is empty", "印模图片为空", field="picture"
        )
    if len(data) > MAX_PICTURE_BYTES:
        raise SealRefused(
            "picture_too_large",
            f"the seal picture is over {MAX_PICTURE_BYTES // 1024} KiB",
            f"印模图片不能超过 {MAX_PICTURE_BYTES // 1024} KB",
            field="picture",
        )
    kind = sniff(data)
    if kind == "svg":
        try:
            check_svg(data)
        except PdfSealError as exc:
            raise SealRefused("invalid_picture", str(exc), exc.message_zh, field="picture") from exc
    if kind in ACCEPTED:
        return kind
    raise SealRefused(
        "invalid_picture",
        "the seal picture must be PNG, JPEG or SVG",
        "印模图片须为 PNG、JPEG 或 SVG 格式",
        field="picture",
    )
